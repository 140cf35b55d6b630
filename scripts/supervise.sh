#!/usr/bin/env bash
# supervise.sh NAME LOG CMD...: run CMD, its output appended to LOG, and start it again
# whenever it dies, so `make up` keeps a crashed bank, worker or API coming back instead
# of stopping the stack (issue 8). Each restart is a line in LOG and on stderr (the
# console). A process that dies again soon after starting waits longer each time
# (SUPERVISE_BACKOFF_MS, doubling up to SUPERVISE_BACKOFF_MAX_MS), so one that cannot
# start does not spin; one that ran SUPERVISE_STABLE_S seconds starts over at the
# shortest wait. SIGTERM stops CMD (TERM, then KILL after SUPERVISE_STOP_S seconds)
# and then the supervisor. SUPERVISE_PIDFILE, when set, holds the current CMD's pid;
# SUPERVISE_STACK names the stack in console lines (up, cluster).
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# >= 3)) || die "usage: supervise.sh NAME LOG CMD..."
name=$1
log=$2
shift 2
min_ms=${SUPERVISE_BACKOFF_MS:-1000}
max_ms=${SUPERVISE_BACKOFF_MAX_MS:-30000}
stable_s=${SUPERVISE_STABLE_S:-60}
stop_s=${SUPERVISE_STOP_S:-15}
pidfile=${SUPERVISE_PIDFILE:-}

child=""
note() {
	printf '=== %s: %s\n' "$(date -Is)" "$*" >>"$log"
	warn "${SUPERVISE_STACK:-up}: $*"
}

stop() {
	trap - TERM INT
	local deadline=$((SECONDS + stop_s))
	if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null
		while kill -0 "$child" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
		kill -KILL "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	[[ -n $pidfile ]] && rm -f "$pidfile"
	exit 0
}
trap stop TERM INT

# seconds MS: MS milliseconds as sleep(1) reads them.
seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

delay_ms=$min_ms
while true; do
	started=$SECONDS
	printf '\n=== %s: %s\n' "$(date -Is)" "$*" >>"$log"
	"$@" >>"$log" 2>&1 &
	child=$!
	[[ -n $pidfile ]] && echo "$child" >"$pidfile"
	wait "$child" 2>/dev/null
	rc=$?
	child=""
	ran=$((SECONDS - started))
	((ran >= stable_s)) && delay_ms=$min_ms
	how="with status $rc"
	((rc > 128)) && how="killed by signal $((rc - 128))"
	note "$name exited $how after ${ran}s; starting it again in $(seconds "$delay_ms")s"
	# In the background, so a SIGTERM during the wait is handled at once.
	sleep "$(seconds "$delay_ms")" &
	wait $!
	delay_ms=$((delay_ms * 2))
	((delay_ms > max_ms)) && delay_ms=$max_ms
done
