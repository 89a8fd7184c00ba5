#!/usr/bin/env bash
# A project-local ClickHouse server for development and tests.
#
#   scripts/clickhouse.sh ensure-installed   install clickhouse-server, clickhouse-client, kcat if missing
#   scripts/clickhouse.sh start              start (idempotent) and wait until SELECT 1 answers
#   scripts/clickhouse.sh stop               SIGTERM, then SIGKILL after CSPULSE_CH_STOP_TIMEOUT
#   scripts/clickhouse.sh status             exit 0 when up and answering, 3 when down, 1 when up but mute
#   scripts/clickhouse.sh client [args]      clickhouse-client on the local native port
#   scripts/clickhouse.sh reset              stop and wipe the data directory
#
# Everything (generated config, data, logs, pid file) lives under
# $REPO/.local/clickhouse, so nothing touches the system's /etc/clickhouse-server
# or /var/lib/clickhouse, and the server of the Debian package is never used as
# a service. The server listens on 127.0.0.1 only.
#
# Environment:
#   CSPULSE_CH_NATIVE_PORT   native (TCP) port, default 19000
#   CSPULSE_CH_HTTP_PORT     HTTP port, default 18123
#   CSPULSE_CH_DIR           state directory, default $REPO/.local/clickhouse
#   CSPULSE_CH_START_TIMEOUT seconds to wait for SELECT 1, default 60
#   CSPULSE_CH_STOP_TIMEOUT  seconds to wait after SIGTERM before SIGKILL, default 30
#   CSPULSE_CH_CLUSTER       a cluster for Distributed tables, written into the
#                            server's <remote_servers>: NAME=HOST:PORT,HOST:PORT
#                            (one shard per address, one replica each), e.g.
#                            cspulse_2shards=127.0.0.1:19021,127.0.0.1:19022
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CH_DIR=${CSPULSE_CH_DIR:-$REPO/.local/clickhouse}
# Absolute: the server is recognised by the config path on its command line.
CH_DIR=$(realpath -m -- "$CH_DIR")
NATIVE_PORT=${CSPULSE_CH_NATIVE_PORT:-19000}
HTTP_PORT=${CSPULSE_CH_HTTP_PORT:-18123}
START_TIMEOUT=${CSPULSE_CH_START_TIMEOUT:-60}
STOP_TIMEOUT=${CSPULSE_CH_STOP_TIMEOUT:-30}
CLUSTER=${CSPULSE_CH_CLUSTER:-}
HOST=127.0.0.1

ETC_DIR=$CH_DIR/etc
DATA_DIR=$CH_DIR/data
LOG_DIR=$CH_DIR/log
PID_FILE=$CH_DIR/clickhouse-server.pid

log() { printf 'clickhouse.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# check_port rejects what the server would silently truncate to 16 bits.
check_port() {
	if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65535)); then
		die "$1=$2 is not a TCP port"
	fi
}
check_port CSPULSE_CH_NATIVE_PORT "$NATIVE_PORT"
check_port CSPULSE_CH_HTTP_PORT "$HTTP_PORT"

# find_bin prints the path of a program, also looking in sbin directories:
# clickhouse-server lives in /usr/sbin, which a non-root PATH often lacks.
find_bin() {
	local name=$1 dir
	if command -v "$name" 2>/dev/null; then
		return 0
	fi
	for dir in /usr/sbin /usr/bin /sbin /usr/local/sbin /usr/local/bin; do
		if [[ -x $dir/$name ]]; then
			printf '%s\n' "$dir/$name"
			return 0
		fi
	done
	return 1
}

cmd_ensure_installed() {
	local missing=() name
	for name in clickhouse-server clickhouse-client kcat; do
		find_bin "$name" >/dev/null || missing+=("$name")
	done
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	log "missing: ${missing[*]}; installing clickhouse-server clickhouse-client kcat with apt-get"
	command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} by hand"
		sudo=(sudo)
	fi
	"${sudo[@]}" apt-get update
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		clickhouse-server clickhouse-client kcat
	for name in clickhouse-server clickhouse-client kcat; do
		find_bin "$name" >/dev/null || die "$name still missing after apt-get install"
	done
}

# server_pid prints the pid from the pid file when that process is a live
# clickhouse-server. A dead server leaves a zombie until something reaps it,
# and pids are reused, so existence alone proves nothing.
server_pid() {
	local pid cmdline
	[[ -r $PID_FILE ]] || return 1
	pid=$(<"$PID_FILE")
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *"--config-file=$ETC_DIR/config.xml"* ]] || return 1
	printf '%s\n' "$pid"
}

# alive: the process exists and is not a zombie.
alive() {
	local state
	state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

client() {
	local bin
	bin=$(find_bin clickhouse-client) || die "clickhouse-client not installed (run: $0 ensure-installed)"
	"$bin" --host "$HOST" --port "$NATIVE_PORT" "$@"
}

answering() {
	[[ $(timeout 10 "$(find_bin clickhouse-client)" --host "$HOST" --port "$NATIVE_PORT" \
		--query 'SELECT 1' 2>/dev/null) == 1 ]]
}

port_open() {
	(exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

log_tail() {
	local f
	for f in "$LOG_DIR/stdout.log" "$LOG_DIR/clickhouse-server.err.log" "$LOG_DIR/clickhouse-server.log"; do
		[[ -s $f ]] || continue
		printf -- '--- last lines of %s\n' "$f" >&2
		tail -n 30 "$f" >&2
	done
}

# lock serialises start/stop/reset: go test runs packages in parallel and
# each TestMain may call start.
lock() {
	mkdir -p "$CH_DIR"
	exec 9>"$CH_DIR/lock"
	flock -w 180 9 || die "another clickhouse.sh holds $CH_DIR/lock"
}

# remote_servers prints the <remote_servers> element of CSPULSE_CH_CLUSTER
# (nothing when it is empty).
remote_servers() {
	[[ -n $CLUSTER ]] || return 0
	local name=${CLUSTER%%=*} addrs=${CLUSTER#*=} addr host port list
	[[ $CLUSTER == *=* && $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ && -n $addrs ]] ||
		die "CSPULSE_CH_CLUSTER=$CLUSTER: want NAME=HOST:PORT[,HOST:PORT...]"
	printf '    <remote_servers>\n        <%s>\n' "$name"
	IFS=, read -ra list <<<"$addrs"
	for addr in "${list[@]}"; do
		host=${addr%:*} port=${addr##*:}
		[[ -n $host && $addr == *:* ]] || die "CSPULSE_CH_CLUSTER: $addr is not HOST:PORT"
		check_port "CSPULSE_CH_CLUSTER port" "$port"
		printf '            <shard><replica><host>%s</host><port>%s</port></replica></shard>\n' "$host" "$port"
	done
	printf '        </%s>\n    </remote_servers>\n' "$name"
}

write_config() {
	mkdir -p "$ETC_DIR" "$DATA_DIR" "$LOG_DIR"
	local cluster_xml
	cluster_xml=$(remote_servers)
	[[ -w $DATA_DIR ]] || die "$DATA_DIR is not writable by $(id -un): run '$0 reset' as its owner"
	# Minimal config: the shipped /etc/clickhouse-server/config.xml points at
	# /var/lib and /var/log and opens 8123/9000/9009 on all interfaces.
	# No interserver_http_port: without it the server opens no interserver port.
	cat >"$ETC_DIR/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Generated by scripts/clickhouse.sh; edits are overwritten on start. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$LOG_DIR/clickhouse-server.log</log>
        <errorlog>$LOG_DIR/clickhouse-server.err.log</errorlog>
        <size>50M</size>
        <count>3</count>
    </logger>
    <listen_host>$HOST</listen_host>
    <tcp_port>$NATIVE_PORT</tcp_port>
    <http_port>$HTTP_PORT</http_port>
    <path>$DATA_DIR/</path>
    <tmp_path>$DATA_DIR/tmp/</tmp_path>
    <user_files_path>$DATA_DIR/user_files/</user_files_path>
    <format_schema_path>$DATA_DIR/format_schemas/</format_schema_path>
    <users_config>$ETC_DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <max_connections>256</max_connections>
    <max_concurrent_queries>64</max_concurrent_queries>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <max_table_size_to_drop>0</max_table_size_to_drop>
    <max_partition_size_to_drop>0</max_partition_size_to_drop>
$cluster_xml
</yandex>
EOF
	# The default user has no password and is reachable from loopback only.
	cat >"$ETC_DIR/users.xml" <<'EOF'
<?xml version="1.0"?>
<!-- Generated by scripts/clickhouse.sh; edits are overwritten on start. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

# wait_ready polls SELECT 1 and gives up early when the server died. It
# checks the pid only: right after the fork, the child's command line is
# still bash's or setsid's.
wait_ready() {
	local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
	while ((SECONDS < deadline)); do
		if answering; then
			return 0
		fi
		if ! alive "$pid"; then
			log_tail
			rm -f "$PID_FILE"
			die "clickhouse-server (pid $pid) exited during startup; logs in $LOG_DIR"
		fi
		sleep 0.5
	done
	log_tail
	die "clickhouse-server (pid $pid) did not answer SELECT 1 on $HOST:$NATIVE_PORT within ${START_TIMEOUT}s; logs in $LOG_DIR"
}

cmd_start() {
	cmd_ensure_installed
	lock
	local pid
	if pid=$(server_pid); then
		wait_ready "$pid"
		log "running (pid $pid) on $HOST:$NATIVE_PORT"
		return 0
	fi
	rm -f "$PID_FILE"
	local port
	for port in "$NATIVE_PORT" "$HTTP_PORT"; do
		if port_open "$port"; then
			die "port $HOST:$port is taken by a process that is not this checkout's server (ss -ltnp shows which); stop it or set CSPULSE_CH_NATIVE_PORT / CSPULSE_CH_HTTP_PORT"
		fi
	done
	write_config
	local server
	server=$(find_bin clickhouse-server) || die "clickhouse-server not installed"
	# setsid detaches the server from the caller's process group, so a Ctrl-C
	# in make or go test does not kill it. In a script without job control the
	# background child is no group leader, so setsid execs in place and $! is
	# the server's pid. --daemon is avoided: its parent exits at once, which
	# hides startup failures until the timeout.
	# 9>&- keeps the lock fd out of the server, which would hold the lock forever.
	setsid "$server" --config-file="$ETC_DIR/config.xml" \
		</dev/null >>"$LOG_DIR/stdout.log" 2>&1 9>&- &
	pid=$!
	printf '%s\n' "$pid" >"$PID_FILE"
	wait_ready "$pid"
	log "started (pid $pid) on $HOST:$NATIVE_PORT (http $HTTP_PORT), data in $DATA_DIR"
}

cmd_stop() {
	lock
	local pid
	if ! pid=$(server_pid); then
		rm -f "$PID_FILE"
		log "not running"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + STOP_TIMEOUT))
	while server_pid >/dev/null && ((SECONDS < deadline)); do
		sleep 0.2
	done
	if server_pid >/dev/null; then
		log "pid $pid still running after ${STOP_TIMEOUT}s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		while server_pid >/dev/null; do
			sleep 0.2
		done
	fi
	rm -f "$PID_FILE"
	log "stopped (pid $pid)"
}

cmd_status() {
	local pid
	if ! pid=$(server_pid); then
		echo "stopped (dir $CH_DIR)"
		return 3
	fi
	if ! answering; then
		echo "running (pid $pid) but not answering on $HOST:$NATIVE_PORT"
		return 1
	fi
	echo "running (pid $pid) version $(client --query 'SELECT version()') native $HOST:$NATIVE_PORT http $HOST:$HTTP_PORT dir $CH_DIR"
}

cmd_reset() {
	cmd_stop
	# Guard the rm: CH_DIR comes from the environment.
	[[ -n $CH_DIR && $DATA_DIR == "$CH_DIR/data" && -d $CH_DIR ]] || die "refusing to wipe '$DATA_DIR'"
	rm -rf "$DATA_DIR"
	log "wiped $DATA_DIR"
}

usage() {
	sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

main() {
	local cmd=${1:-}
	(($# > 0)) && shift
	case $cmd in
	ensure-installed) cmd_ensure_installed ;;
	start) cmd_start ;;
	stop) cmd_stop ;;
	status) cmd_status ;;
	client) client "$@" ;;
	reset) cmd_reset ;;
	*) usage ;;
	esac
}

main "$@"
