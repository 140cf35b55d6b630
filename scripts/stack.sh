# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# What `make up` (scripts/up.sh) and `make cluster` (scripts/cluster.sh) share: one
# running stack in the foreground, its processes started, supervised, waited for and
# stopped together. Sourced after lib.sh by a script that has set STACK (its name in
# messages), DATA (its state folder) and LOGS (its logs folder).

mkdir -p "$LOGS" "$DATA/bin"
PIDS=()
NAMES=()

# stack_claim: only one run of this stack at a time; its pid in $DATA/$STACK.pid.
stack_claim() {
	PIDFILE=$DATA/$STACK.pid
	if [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
		die "$STACK: already running (pid $(cat "$PIDFILE")); stop that one first (Ctrl-C in its terminal, or kill $(cat "$PIDFILE"))"
	fi
	echo $$ >"$PIDFILE"
	trap stack_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# stack_cleanup stops what was started, the last started first, then a private
# PostgreSQL this run started.
stack_cleanup() {
	local rc=$? i pid deadline
	trap - EXIT INT TERM
	if ((${#PIDS[@]})); then
		say "$STACK: stopping ${NAMES[*]}"
		for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
			kill -TERM "${PIDS[i]}" 2>/dev/null || true
		done
		deadline=$((SECONDS + 20))
		for pid in "${PIDS[@]}"; do
			while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		done
	fi
	pg_stop_private
	rm -f "$PIDFILE"
	say "$STACK: stopped"
	exit "$rc"
}

# supervised NAME CMD...: start CMD under scripts/supervise.sh (restarted when it dies),
# its output appended to $LOGS/NAME.log, its current pid in $DATA/NAME.pid.
supervised() {
	local name=$1
	shift
	SUPERVISE_PIDFILE=$DATA/$name.pid SUPERVISE_STACK=$STACK "$ROOT/scripts/supervise.sh" "$name" "$LOGS/$name.log" "$@" &
	PIDS+=($!)
	NAMES+=("$name")
}

# start NAME CMD...: run CMD in the background, its output appended to $LOGS/NAME.log.
start() {
	local name=$1
	shift
	printf '\n=== %s: %s\n' "$(date -Is)" "$*" >>"$LOGS/$name.log"
	"$@" >>"$LOGS/$name.log" 2>&1 &
	PIDS+=($!)
	NAMES+=("$name")
}

# alive NAME: the process started as NAME is still running; else show its log and fail.
alive() {
	local i
	for i in "${!NAMES[@]}"; do
		if [[ ${NAMES[i]} == "$1" ]]; then
			kill -0 "${PIDS[i]}" 2>/dev/null && return 0
			warn "$STACK: $1 exited; the end of $LOGS/$1.log:"
			tail -n 30 "$LOGS/$1.log" >&2
			return 1
		fi
	done
	return 1
}

# ready NAME SECONDS CHECK...: wait until CHECK succeeds while NAME keeps running.
ready() {
	local name=$1 limit=$2 t0=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		alive "$name" || exit 1
		if ((SECONDS - t0 >= limit)); then
			warn "$STACK: $name is not ready after ${limit}s; the end of $LOGS/$name.log:"
			tail -n 30 "$LOGS/$name.log" >&2
			exit 1
		fi
		sleep 0.5
	done
	say "$STACK: $name ready ($(elapsed "$t0"))"
}

http_ok() { curl -fsS -o /dev/null --max-time 3 "$1"; }

# free ADDR VAR: nothing listens on host:port ADDR yet (VAR is the setting that moves it).
free() {
	if port_open "${1%:*}" "${1##*:}"; then
		die "$STACK: $1 is taken (another lendflow, or something else); stop it or set ${2}"
	fi
}

# stack_build: go build ./cmd/lendflow into $DATA/bin; LENDFLOW is the binary.
stack_build() {
	local t0=$SECONDS
	say "$STACK: go build ./cmd/lendflow"
	(cd "$ROOT" && go build -o "$DATA/bin/lendflow" ./cmd/lendflow)
	LENDFLOW=$DATA/bin/lendflow
	say "$STACK: built ${LENDFLOW#"$ROOT"/} ($(elapsed "$t0"))"
}

# stack_secrets: the bank's keys and the ops password, made once and kept in
# .data/secrets.env (0600), exported; the environment wins.
stack_secrets() {
	local secrets=$ROOT/.data/secrets.env
	mkdir -p "$ROOT/.data"
	(
		umask 077
		touch "$secrets"
	)
	chmod 600 "$secrets"
	ensure_secret() { grep -q "^$1=" "$secrets" || printf '%s=%s\n' "$1" "$2" >>"$secrets"; }
	secret() { sed -n "s/^$1=//p" "$secrets" | tail -n1; }
	ensure_secret BANK_HMAC_SECRET "$(random_hex 32)"
	ensure_secret BANK_API_KEY "$(random_hex 32)"
	ensure_secret OPS_PASSWORD "$(random_hex 12)"
	# Personal data's keys (docs/security.md "Personal data"): k1 seals; to rotate,
	# put a new id:key first and keep the old one after it.
	ensure_secret PII_KEYS "k1:$(head -c 32 /dev/urandom | base64)"
	ensure_secret PII_HASH_KEY "$(head -c 32 /dev/urandom | base64)"
	export BANK_HMAC_SECRET=${BANK_HMAC_SECRET:-$(secret BANK_HMAC_SECRET)}
	export BANK_API_KEY=${BANK_API_KEY:-$(secret BANK_API_KEY)}
	export PII_KEYS=${PII_KEYS:-$(secret PII_KEYS)}
	export PII_HASH_KEY=${PII_HASH_KEY:-$(secret PII_HASH_KEY)}
	export OPS_EMAIL=${OPS_EMAIL:-ops@lendflow.local}
	export OPS_PASSWORD=${OPS_PASSWORD:-$(secret OPS_PASSWORD)}
}

# stack_migrate: lendflow migrate, loudly and early (each process also migrates at start).
stack_migrate() {
	say "$STACK: lendflow migrate"
	printf '\n=== %s: migrate\n' "$(date -Is)" >>"$LOGS/migrate.log"
	if ! "$LENDFLOW" migrate >>"$LOGS/migrate.log" 2>&1; then
		warn "$STACK: lendflow migrate failed; the end of $LOGS/migrate.log:"
		tail -n 30 "$LOGS/migrate.log" >&2
		exit 1
	fi
}

# stack_wait: run until Ctrl-C, or until a process not under a supervisor dies
# (then stop the rest).
stack_wait() {
	local name
	while true; do
		wait -n "${PIDS[@]}" || true
		for name in "${NAMES[@]}"; do
			alive "$name" || exit 1
		done
	done
}
