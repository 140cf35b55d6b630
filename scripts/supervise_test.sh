#!/usr/bin/env bash
# Tests scripts/supervise.sh, which `make up` runs the bank, worker and API under:
#   1. a process killed with SIGKILL comes back, with a line in its log and on the console;
#   2. a process that dies at once waits longer before each new start (no spinning);
#   3. SIGTERM stops the process and then the supervisor.
# Run by scripts/test.sh (make test); about two seconds.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tmp=$(mktemp -d)
sup=""
cleanup() {
	[[ -n $sup ]] && kill -TERM "$sup" 2>/dev/null && wait "$sup" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { die "supervise_test: $*"; }

# eventually SECONDS CMD...: CMD succeeds within SECONDS.
eventually() {
	local limit=$1 t0=$SECONDS
	shift
	until "$@"; do
		((SECONDS - t0 < limit)) || return 1
		sleep 0.05
	done
}
pid_in() { [[ -s $1 ]] && cat "$1"; }
is_alive() { kill -0 "$1" 2>/dev/null; }

export SUPERVISE_BACKOFF_MS=100 SUPERVISE_BACKOFF_MAX_MS=400 SUPERVISE_STOP_S=5

# 1. SIGKILL: the worker comes back under a new pid.
printf '#!/usr/bin/env bash\necho "fake worker $$ up"\nexec sleep 300\n' >"$tmp/worker"
chmod +x "$tmp/worker"
SUPERVISE_PIDFILE=$tmp/worker.pid "$ROOT/scripts/supervise.sh" worker "$tmp/worker.log" "$tmp/worker" 2>"$tmp/console" &
sup=$!
eventually 10 pid_in "$tmp/worker.pid" >/dev/null || fail "the worker never started"
first=$(pid_in "$tmp/worker.pid")
kill -KILL "$first"
restarted() { local p; p=$(pid_in "$tmp/worker.pid") && [[ $p != "$first" ]] && is_alive "$p"; }
eventually 10 restarted || fail "the worker did not come back after SIGKILL"
second=$(pid_in "$tmp/worker.pid")
grep -q "worker exited killed by signal 9" "$tmp/console" || fail "no restart line on the console: $(cat "$tmp/console")"
grep -q "worker exited killed by signal 9" "$tmp/worker.log" || fail "no restart line in the log"
[[ $(grep -c "fake worker .* up" "$tmp/worker.log") == 2 ]] || fail "the log does not hold both runs' output"

# 3. SIGTERM: the worker stops, then the supervisor.
kill -TERM "$sup"
wait "$sup" || fail "the supervisor exited non-zero on SIGTERM"
sup=""
! is_alive "$second" || fail "the worker $second outlived its supervisor"
[[ ! -e $tmp/worker.pid ]] || fail "the pid file is left behind"

# 2. Dies at once: waits 0.1, 0.2, 0.4, 0.4 s between starts, never less.
printf '#!/usr/bin/env bash\necho "broken api"\nexit 3\n' >"$tmp/api"
chmod +x "$tmp/api"
"$ROOT/scripts/supervise.sh" api "$tmp/api.log" "$tmp/api" 2>"$tmp/console2" &
sup=$!
backed_off() { [[ $(grep -c "starting it again in 0.400s" "$tmp/api.log" 2>/dev/null) -ge 2 ]]; }
eventually 10 backed_off || fail "no back-off to the maximum: $(cat "$tmp/api.log")"
kill -TERM "$sup"
wait "$sup" || true
sup=""
waits=$(grep -o "api exited with status 3 after [0-9]*s; starting it again in [0-9.]*s" "$tmp/api.log" | sed 's/.* in //' | head -n 4 | tr '\n' ' ')
[[ $waits == "0.100s 0.200s 0.400s 0.400s " ]] || fail "waits between starts were $waits"
say "supervise_test: ok (restart after SIGKILL, back-off $waits, clean stop)"
