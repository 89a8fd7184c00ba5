#!/usr/bin/env bash
# Headless Chromium for the browser test of the supervisors' page
# (web/browser_test.go), from Debian's `chromium` package.
#
#   scripts/chromium.sh ensure-installed   install chromium with apt-get if missing
#   scripts/chromium.sh path               print the chromium binary's path (exit 1 if none)
#
# apt-get update runs only when the package is not yet known to apt. Not
# root: sudo is used when present, else it says what to install by hand.
set -euo pipefail

log() { printf 'chromium.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

find_chromium() {
	local name
	for name in chromium chromium-browser; do
		if command -v "$name" 2>/dev/null; then
			return 0
		fi
	done
	return 1
}

cmd_ensure_installed() {
	if find_chromium >/dev/null; then
		return 0
	fi
	log "chromium missing; installing Debian's chromium package with apt-get"
	command -v apt-get >/dev/null || die "apt-get not found: install chromium by hand"
	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "not root and no sudo: install chromium by hand"
		sudo=(sudo)
	fi
	if ! apt-cache show chromium >/dev/null 2>&1; then
		"${sudo[@]}" apt-get update
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-noto-cjk ||
		{
			"${sudo[@]}" apt-get update
			"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-noto-cjk
		}
	find_chromium >/dev/null || die "chromium still missing after apt-get install"
}

case ${1:-} in
ensure-installed) cmd_ensure_installed ;;
path) find_chromium ;;
*)
	echo "usage: $0 ensure-installed | path" >&2
	exit 2
	;;
esac
