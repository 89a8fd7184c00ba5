# cspulse — make demo runs two simulated days end to end; make test runs every test.
# Both install and start what they need (ClickHouse, kcat) on a fresh machine.

GO        ?= go
BIN       := bin/cspulse
CH        := scripts/clickhouse.sh
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null)
GOFILES   := $(shell find . -name '*.go' -not -path './.local/*')

.PHONY: all build demo test test-unit test-integration bench vet fmt ch-start ch-stop ch-status clean

all: build

build: $(BIN)

$(BIN): $(GOFILES) go.mod go.sum config/defaults.yaml $(wildcard deploy/clickhouse/migrations/*.sql)
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/cspulse

## demo: local ClickHouse + embedded broker + two generated days for 20 shops → summary
demo: build
	scripts/demo.sh

## test: unit and integration tests against the real ClickHouse and the embedded broker
test: ch-start build
	$(GO) vet ./...
	CSPULSE_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 20m ./...

test-unit:
	$(GO) test -count=1 -short ./...

bench: ch-start build
	scripts/bench.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

ch-start:
	$(CH) start

ch-stop:
	$(CH) stop

ch-status:
	$(CH) status

clean:
	rm -rf bin
