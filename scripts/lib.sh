# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# Helpers shared by the scripts in this folder; sourced, never run.

# ROOT is the repository's top folder.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# TOOLS_DIR is the pinned tools' cache, outside the clone so fresh clones (CI)
# reuse it; the clone's .tools points at it.
TOOLS_DIR=${LENDFLOW_TOOLS:-$HOME/.cache/lendflow/tools}
TOOLS_BIN=$TOOLS_DIR/bin

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf '!!! %s\n' "$*" >&2; }
die() {
	printf '!!! %s\n' "$*" >&2
	exit 1
}

# elapsed prints seconds since $1 (a value of $SECONDS).
elapsed() { printf '%ds' $((SECONDS - $1)); }

# port_open HOST PORT: something accepts TCP connections there.
port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for SECONDS DESCRIPTION COMMAND...: run COMMAND every half second until it
# succeeds; fail after SECONDS.
wait_for() {
	local limit=$1 what=$2 start=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - start >= limit)); then
			warn "$what: not ready after ${limit}s"
			return 1
		fi
		sleep 0.5
	done
}

# random_hex BYTES: that many random bytes as hex.
random_hex() {
	od -An -vtx1 -N"$1" /dev/urandom | tr -d ' \n'
}
