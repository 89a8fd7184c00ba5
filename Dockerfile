# syntax=docker/dockerfile:1
#
# cspulse container image: one static binary on distroless, non-root.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t cspulse:dev .
#   docker run --rm cspulse:dev --help
#
# The entrypoint is the cspulse command; the default subcommand is `run`
# (configured with CSPULSE_* variables or --config, see README.md).
# deploy/compose/ and deploy/helm/cspulse/ use this image;
# `go test ./deploy/` checks this file against them.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
# Modules first: this layer is reused while only the sources change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: a static binary that needs no libc in the final image.
# The IANA zone database is compiled in (time/tzdata, imported by the
# generator), so shop zones resolve without /usr/share/zoneinfo.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false \
        -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/cspulse ./cmd/cspulse \
    && mkdir -p /out/data

# distroless/static: CA certificates, /etc/passwd with the nonroot user
# (uid 65532), no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="cspulse" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="Customer-service metrics from Kafka event streams into ClickHouse"
COPY --from=build /out/cspulse /usr/local/bin/cspulse
# /data belongs to the nonroot user, so a fresh volume mounted there
# (the broker's log, the demo's shared files) is writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# /metrics, /healthz, /readyz when run.http_listen is 0.0.0.0:9464.
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/cspulse"]
CMD ["run"]
