#!/usr/bin/env bash
# make bench: the whole path, measured. Generated traffic goes into a
# Kafka-protocol broker (its own process); then a bare franz-go consumer
# reads all of it (the baseline) and `cspulse run` processes all of it into
# the local ClickHouse. Prints both rates, their ratio, the pipeline's busy
# time, CPU time and peak RSS, per round and as medians.
# Environment: BENCH_SHOPS (40), BENCH_DAYS (2), BENCH_SEED (1),
# BENCH_BROKER (127.0.0.1:19192), BENCH_CHECKPOINT_INTERVAL (2s),
# BENCH_BIN (bin/cspulse: the binary under test, e.g. another version's),
# BENCH_STATE (true: save operator state at checkpoints; false measures
# what that costs), BENCH_RUNS (3: rounds of bare consume + pipeline over
# the same input; each round is printed, then the medians). Prints the
# run's CPU time too (user + system).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
SHOPS=${BENCH_SHOPS:-40}
DAYS=${BENCH_DAYS:-2}
SEED=${BENCH_SEED:-1}
BROKER=${BENCH_BROKER:-127.0.0.1:19192}
FLUSH=${BENCH_CHECKPOINT_INTERVAL:-2s}
STATE=${BENCH_STATE:-true}
RUNS=${BENCH_RUNS:-3}
DB=cspulse_bench
BIN=${BENCH_BIN:-$REPO/bin/cspulse}
WORK=$REPO/.local/bench
mkdir -p "$WORK"

scripts/clickhouse.sh start >/dev/null

"$BIN" broker --listen "$BROKER" >"$WORK/broker.log" 2>&1 &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$WORK/broker.log" && break; sleep 0.1; done

echo "generating $SHOPS shops × $DAYS days (seed $SEED)…"
"$BIN" gen --brokers "$BROKER" --shops "$SHOPS" --days "$DAYS" --seed "$SEED" --zones-out "$WORK/zones.yaml" 2>&1

# One round: a bare consume, then the pipeline over the same records. Rounds
# alternate the two, so that the machine's drift hits both alike.
round() {
	local n=$1 bare bare_rate finished cpu
	bare=$("$BIN" bench-consume --brokers "$BROKER")
	bare_rate=$(sed -n 's/.*= \([0-9]*\) records\/s/\1/p' <<<"$bare")
	scripts/clickhouse.sh client --query "DROP DATABASE IF EXISTS $DB"
	# CPU time (user + system) of the run, from bash's own `time`: on a
	# shared machine it varies far less than the rate, which waits for the
	# cores.
	local TIMEFORMAT='%U %S'
	{ time "$BIN" run --config "$WORK/zones.yaml" --brokers "$BROKER" --until-idle 2s --run.flush_interval "$FLUSH" \
		--run.state_checkpoints="$STATE" --kafka.group "bench-$$-$n" \
		--clickhouse.database "$DB" --run.http_listen "" --log.format json 2>"$WORK/run.log"; } 2>"$WORK/run.time"
	cpu=$(awk '{print $1 + $2}' "$WORK/run.time")
	finished=$(grep '"run finished"' "$WORK/run.log")
	field() { sed -n "s/.*\"$1\":\"\{0,1\}\([0-9.a-zµ]*\).*/\1/p" <<<"$finished"; }
	# events rate bare ratio cpu rss busy rows state-bytes sessions open
	awk -v e="$(field events)" -v r="$(field records_per_busy_s)" -v b="$bare_rate" -v cpu="$cpu" \
		-v rss="$(field peak_rss_bytes)" -v busy="$(field busy)" -v rows="$(field rows_written)" \
		-v sb="$(field peak_state_bytes)" -v ss="$(field sessions_at_peak)" -v so="$(field open_sessions_at_peak)" \
		'BEGIN { printf "%d %.0f %.0f %.3f %.2f %.0f %s %d %d %d %d\n", e, r, b, r / b, cpu, rss / 1048576, busy, rows, sb, ss, so }'
}

echo "$RUNS rounds (state checkpoints: $STATE); each: bare consume, then the pipeline"
: >"$WORK/rounds.txt"
for n in $(seq "$RUNS"); do
	round "$n" | tee -a "$WORK/rounds.txt" | awk -v n="$n" '{
		printf "round %d: pipeline %.0f records/s (busy %ss, %d rows), bare %.0f records/s, ratio %.2f, CPU %.2f s, peak RSS %d MiB, peak state %.0f MiB for %d sessions (%d open)\n",
			n, $2, $7, $8, $3, $4, $5, $6, $9 / 1048576, $10, $11 }'
done

# Medians over the rounds (the middle value; the mean of the two middle
# ones for an even count).
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }' "$WORK/rounds.txt" | median; }
events=$(awk 'NR == 1 { print $1 }' "$WORK/rounds.txt")
per_session=$(awk '$10 > 0 { print $9 / $10 }' "$WORK/rounds.txt" | median)
awk -v e="$events" -v r="$(col 2)" -v b="$(col 3)" -v q="$(col 4)" -v cpu="$(col 5)" -v rss="$(col 6)" -v n="$RUNS" \
	-v ps="$per_session" 'BEGIN {
	printf "median of %d rounds, %d events each:\n", n, e
	printf "pipeline:     %.0f records/s\n", r
	printf "pipeline CPU: %.2f s = %.2f µs per event (user + system, the whole run)\n", cpu, cpu * 1e6 / e
	printf "bare consume: %.0f records/s\n", b
	printf "ratio:        %.2f of the bare consume rate (median of the rounds'"'"' ratios)\n", q
	printf "peak RSS:     %.0f MiB\n", rss
	if (ps > 0) {
		printf "state:        %.0f bytes per session held at the peak (open, closed and compacted; all operator state\n", ps
		printf "              included; sampled at checkpoints; docs/performance.md has the per-open-session figure)\n"
	} else {
		printf "state:        not reported (a binary before peak_state_bytes, or no checkpoint held sessions)\n"
	}
}'
