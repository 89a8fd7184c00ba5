#!/usr/bin/env bash
# make bench: the whole path, measured. Generated traffic goes into a
# Kafka-protocol broker (its own process); then a bare franz-go consumer
# reads all of it (the baseline) and `cspulse run` processes all of it into
# the local ClickHouse. Prints both rates, their ratio, the pipeline's busy
# time and its peak RSS.
# Environment: BENCH_SHOPS (40), BENCH_DAYS (2), BENCH_SEED (1),
# BENCH_BROKER (127.0.0.1:19192), BENCH_CHECKPOINT_INTERVAL (2s),
# BENCH_BIN (bin/cspulse: the binary under test, e.g. another version's),
# BENCH_STATE (true: save operator state at checkpoints; false measures
# what that costs). Prints the run's CPU time too (user + system).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
SHOPS=${BENCH_SHOPS:-40}
DAYS=${BENCH_DAYS:-2}
SEED=${BENCH_SEED:-1}
BROKER=${BENCH_BROKER:-127.0.0.1:19192}
FLUSH=${BENCH_CHECKPOINT_INTERVAL:-2s}
STATE=${BENCH_STATE:-true}
DB=cspulse_bench
BIN=${BENCH_BIN:-$REPO/bin/cspulse}
WORK=$REPO/.local/bench
mkdir -p "$WORK"

scripts/clickhouse.sh start >/dev/null
scripts/clickhouse.sh client --query "DROP DATABASE IF EXISTS $DB"

"$BIN" broker --listen "$BROKER" >"$WORK/broker.log" 2>&1 &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$WORK/broker.log" && break; sleep 0.1; done

echo "generating $SHOPS shops × $DAYS days (seed $SEED)…"
"$BIN" gen --brokers "$BROKER" --shops "$SHOPS" --days "$DAYS" --seed "$SEED" --zones-out "$WORK/zones.yaml" 2>&1

bare=$("$BIN" bench-consume --brokers "$BROKER")
echo "$bare"
bare_rate=$(sed -n 's/.*= \([0-9]*\) records\/s/\1/p' <<<"$bare")

# CPU time (user + system) of the run, from bash's own `time`: on a shared
# machine it varies far less than the rate, which waits for the cores.
TIMEFORMAT='%U %S'
{ time "$BIN" run --config "$WORK/zones.yaml" --brokers "$BROKER" --until-idle 2s --run.flush_interval "$FLUSH" \
	--run.state_checkpoints="$STATE" --kafka.group "bench-$$" \
	--clickhouse.database "$DB" --run.http_listen "" --log.format json 2>"$WORK/run.log"; } 2>"$WORK/run.time"
cpu=$(awk '{print $1 + $2}' "$WORK/run.time")
finished=$(grep '"run finished"' "$WORK/run.log")
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([0-9.a-zµ]*\).*/\1/p" <<<"$finished"; }
events=$(field events)
rate=$(field records_per_busy_s)
rss=$(field peak_rss_bytes)
busy=$(field busy)
rows=$(field rows_written)

awk -v state="$STATE" -v e="$events" -v r="$rate" -v b="$bare_rate" -v rss="$rss" -v busy="$busy" -v rows="$rows" -v cpu="$cpu" 'BEGIN {
	printf "pipeline:     %d events, %d rows, busy %ss = %.0f records/s (state checkpoints: %s)\n", e, rows, busy, r, state
	printf "pipeline CPU: %.2f s = %.2f µs per event (user + system, the whole run)\n", cpu, cpu * 1e6 / e
	printf "bare consume: %.0f records/s\n", b
	printf "ratio:        %.2f of the bare consume rate\n", r / b
	printf "peak RSS:     %.0f MiB\n", rss / 1048576
}'
