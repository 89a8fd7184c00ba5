#!/usr/bin/env bash
# make demo: two simulated days for 20 shops, end to end on real parts.
#   local ClickHouse → embedded Kafka-protocol broker → cspulse gen →
#   cspulse run --until-idle → cspulse report
# Environment: CSPULSE_DEMO_BROKER (default 127.0.0.1:19092),
# CSPULSE_DEMO_DB (default cspulse_demo), CSPULSE_DEMO_SHOPS (20), and
# scripts/clickhouse.sh's CSPULSE_CH_NATIVE_PORT (19000), which cspulse is
# pointed at too.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

BROKER=${CSPULSE_DEMO_BROKER:-127.0.0.1:19092}
DB=${CSPULSE_DEMO_DB:-cspulse_demo}
SHOPS=${CSPULSE_DEMO_SHOPS:-20}
CH=127.0.0.1:${CSPULSE_CH_NATIVE_PORT:-19000}
BIN=$REPO/bin/cspulse
WORK=$REPO/.local/demo
mkdir -p "$WORK"

step() { printf '\n==> %s\n' "$*"; }

step "ClickHouse (project-local, $CH)"
scripts/clickhouse.sh start
scripts/clickhouse.sh client --query "DROP DATABASE IF EXISTS $DB"

step "embedded Kafka-protocol broker on $BROKER"
"$BIN" broker --listen "$BROKER" >"$WORK/broker.log" 2>&1 &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	grep -q "listening" "$WORK/broker.log" && break
	kill -0 $broker_pid 2>/dev/null || { cat "$WORK/broker.log"; exit 1; }
	sleep 0.1
done

step "generating two simulated days for $SHOPS shops"
# A few malformed records ride along (--poison) to show the dead-letter topic.
# Two days: exclusive customers (专属客服) won on the first day can be guided
# to buy on the second (a relationship made today guides nothing today).
"$BIN" gen --brokers "$BROKER" --shops "$SHOPS" --days 2 --poison 0.0002 --zones-out "$WORK/zones.yaml"

step "running the pipeline until the input is idle for 5s"
"$BIN" run --config "$WORK/zones.yaml" --brokers "$BROKER" --until-idle 5s \
	--clickhouse.addr "$CH" --clickhouse.database "$DB" --run.http_listen "" --run.progress_interval 2s

step "summary from ClickHouse ($DB)"
"$BIN" report --clickhouse.addr "$CH" --clickhouse.database "$DB"

step "per group, 09:00-18:00 (cspulse report --by group; --explain defines each metric)"
"$BIN" report --clickhouse.addr "$CH" --clickhouse.database "$DB" --by group --hours 09:00-18:00 \
	--metrics reply_3min_rate,avg_response_s,agent_pickup_rate,avg_wait_s,satisfaction_rate

step "exclusive customers (专属客服) by day: 发送 sent, 阅读 read, 引导进店 visited, 引导购买 bought, 引导成交 guided (docs/queries.md section 10)"
scripts/clickhouse.sh client --database "$DB" --format PrettyCompact --query "
SELECT day,
       sum(sent_customers)                AS sent_n,
       sum(read_customers)                AS read_n,
       sum(visited_customers)             AS visited_n,
       sum(bought_customers)              AS bought_n,
       sum(guided_orders)                 AS guided_orders_n,
       round(sum(guided_amount) / 100, 2) AS guided_yuan,
       sum(accepted)                      AS new_customers
FROM cs_exclusive_daily FINAL
WHERE day BETWEEN '2026-11-02' AND '2026-11-03'
GROUP BY day ORDER BY day"

step "dead letters in cs.deadletter, by reason (read with kcat)"
kcat -C -b "$BROKER" -t cs.deadletter -X isolation.level=read_committed -o beginning -e -q -f '%h\n' |
	tr ',' '\n' | sed -n 's/^cspulse.reason=//p' | sort | uniq -c

step "alerts in cs.alerts (read with kcat, read_committed; shop-0003 slips 10:00-12:00 local)"
kcat -C -b "$BROKER" -t cs.alerts -X isolation.level=read_committed -o beginning -e -q -f '%s\n' >"$WORK/alerts.jsonl"
printf '%d alerts in all; shop-0003'"'"'s (evaluated_at is UTC, the end of the local hour: 03:00Z is 11:00 in Shanghai):\n' "$(wc -l <"$WORK/alerts.jsonl")"
grep '"shop_id":"shop-0003"' "$WORK/alerts.jsonl" | head -10 |
	sed -E 's/.*"rule":"([^"]*)".*"value":([0-9.e+-]+).*"threshold":([0-9.]+),"direction":"([^"]*)","state":"([^"]*)","evaluated_at":"([^"]*)".*/\6 \1 \5 \2 \4 \3/' |
	awk '{printf "  %s  %-24s %-9s value %.3f (healthy: %s %s)\n", $1, $2, $3, $4, $5, $6}'

step "ranking of shop-0001's agents on the first generated day (cspulse report rankings)"
"$BIN" report rankings --clickhouse.addr "$CH" --clickhouse.database "$DB" --shop shop-0001 --day 2026-11-02

cat <<MSG

Query it yourself:  scripts/clickhouse.sh client --database $DB
  e.g. SELECT shop_id, sum(consult_sessions) FROM cs_shop_hourly FINAL GROUP BY shop_id
The supervisors' page:  $BIN serve --clickhouse.addr $CH --database $DB --config $WORK/zones.yaml
  then open http://127.0.0.1:8080/?day=2026-11-02 (a generated day; "today" has no traffic)
MSG
