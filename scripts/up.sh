#!/usr/bin/env bash
# `make up`: the whole platform on this machine, in the foreground.
#
#   tools (scripts/tools.sh) → PostgreSQL (scripts/pg.sh) → go build → Temporal dev server
#   → lendflow migrate → lendflow bank, worker, api (sandbox clock) → URLs and ops login.
#
# Ctrl-C stops everything it started. State lives in .data/ (Temporal's SQLite file,
# the private PostgreSQL cluster if one was needed, secrets, logs) and the next run
# continues from it; `rm -rf .data` starts over.
#
# Settings (environment): DATABASE_URL (else scripts/pg.sh finds or starts a server),
# TEMPORAL_ADDRESS (an existing Temporal server; else the dev server is started on
# 127.0.0.1:${LENDFLOW_TEMPORAL_PORT:-7233}, UI on ${LENDFLOW_TEMPORAL_UI_PORT:-8233}),
# API_LISTEN, BANK_LISTEN, WORKER_METRICS_LISTEN, API_METRICS_LISTEN, PUBLIC_HTTPS (false here), CLOCK_START (default today,
# Asia/Shanghai), OPS_EMAIL, OPS_PASSWORD, BANK_HMAC_SECRET and BANK_API_KEY (else generated
# once into .data/secrets.env), LOG_FORMAT (text here; the processes' own default is json).
#
# The bank, worker and API run under scripts/supervise.sh: one that crashes is started
# again (a line in its log and on this console, with a growing wait if it keeps dying at
# once) instead of stopping the stack. Only the Temporal dev server's end stops it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

DATA=$ROOT/.data
LOGS=$DATA/logs
mkdir -p "$LOGS" "$DATA/bin"

PIDFILE=$DATA/up.pid
if [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
	die "up: already running (pid $(cat "$PIDFILE")); stop that one first (Ctrl-C in its terminal, or kill $(cat "$PIDFILE"))"
fi
echo $$ >"$PIDFILE"

PIDS=()
NAMES=()
# shellcheck source=scripts/pg.sh
. "$ROOT/scripts/pg.sh"

cleanup() {
	local rc=$? i pid deadline
	trap - EXIT INT TERM
	if ((${#PIDS[@]})); then
		say "up: stopping ${NAMES[*]}"
		# Reverse order: the API first, the Temporal server last.
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
	say "up: stopped"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# supervised NAME CMD...: start CMD under scripts/supervise.sh (restarted when it dies),
# its output appended to .data/logs/NAME.log, its current pid in .data/NAME.pid.
supervised() {
	local name=$1
	shift
	SUPERVISE_PIDFILE=$DATA/$name.pid "$ROOT/scripts/supervise.sh" "$name" "$LOGS/$name.log" "$@" &
	PIDS+=($!)
	NAMES+=("$name")
}

# start NAME CMD...: run CMD in the background, its output appended to .data/logs/NAME.log.
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
			warn "up: $1 exited; the end of $LOGS/$1.log:"
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
			warn "up: $name is not ready after ${limit}s; the end of $LOGS/$name.log:"
			tail -n 30 "$LOGS/$name.log" >&2
			exit 1
		fi
		sleep 0.5
	done
	say "up: $name ready ($(elapsed "$t0"))"
}

http_ok() { curl -fsS -o /dev/null --max-time 3 "$1"; }

# free ADDR: nothing listens on host:port ADDR yet.
free() {
	if port_open "${1%:*}" "${1##*:}"; then
		die "up: $1 is taken (another lendflow, or something else); stop it or set ${2}"
	fi
}

# 1. Tools.
"$ROOT/scripts/tools.sh"

# 2. PostgreSQL.
pg_setup dev

# 3. Build.
say "up: go build ./cmd/lendflow"
t0=$SECONDS
go build -o "$DATA/bin/lendflow" ./cmd/lendflow
say "up: built .data/bin/lendflow ($(elapsed "$t0"))"
LENDFLOW=$DATA/bin/lendflow

# 4. Secrets, made once and kept in .data/secrets.env (0600); the environment wins.
SECRETS=$DATA/secrets.env
(
	umask 077
	touch "$SECRETS"
)
chmod 600 "$SECRETS"
ensure_secret() {
	grep -q "^$1=" "$SECRETS" || printf '%s=%s\n' "$1" "$2" >>"$SECRETS"
}
ensure_secret BANK_HMAC_SECRET "$(random_hex 32)"
ensure_secret BANK_API_KEY "$(random_hex 32)"
ensure_secret OPS_PASSWORD "$(random_hex 12)"
secret() { sed -n "s/^$1=//p" "$SECRETS" | tail -n1; }
export BANK_HMAC_SECRET=${BANK_HMAC_SECRET:-$(secret BANK_HMAC_SECRET)}
export BANK_API_KEY=${BANK_API_KEY:-$(secret BANK_API_KEY)}
export OPS_EMAIL=${OPS_EMAIL:-ops@lendflow.local}
export OPS_PASSWORD=${OPS_PASSWORD:-$(secret OPS_PASSWORD)}

export API_LISTEN=${API_LISTEN:-127.0.0.1:8080}
export BANK_LISTEN=${BANK_LISTEN:-127.0.0.1:8090}
export WORKER_METRICS_LISTEN=${WORKER_METRICS_LISTEN:-127.0.0.1:9091}
# The API's metrics on a listener of their own, on loopback (never API_LISTEN).
export API_METRICS_LISTEN=${API_METRICS_LISTEN:-127.0.0.1:9092}
export LOG_FORMAT=${LOG_FORMAT:-text}
export BANK_URL=${BANK_URL:-http://$BANK_LISTEN}
export BANK_CALLBACK_URL=${BANK_CALLBACK_URL:-http://$API_LISTEN/v1/bank/callbacks}
export TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE:-default}
# The dev stack asks for the sandbox clock; the binary's default is wall (production).
export CLOCK_MODE=${CLOCK_MODE:-sandbox}
# Plain HTTP on loopback: cookies without Secure and the __Host- prefix, which a client
# sends back over HTTPS only (docs/security.md "Cookies"); the binary's default is HTTPS.
export PUBLIC_HTTPS=${PUBLIC_HTTPS:-false}
CLOCK_START=${CLOCK_START:-$(TZ=Asia/Shanghai date +%F)}
export CLOCK_START
API_URL=http://$API_LISTEN

free "$API_LISTEN" API_LISTEN
free "$BANK_LISTEN" BANK_LISTEN
free "$WORKER_METRICS_LISTEN" WORKER_METRICS_LISTEN
free "$API_METRICS_LISTEN" API_METRICS_LISTEN

# 5. Temporal.
TEMPORAL=$TOOLS_BIN/temporal
UI_URL=""
if [[ -n ${TEMPORAL_ADDRESS:-} ]]; then
	say "up: using the Temporal server at $TEMPORAL_ADDRESS"
	export TEMPORAL_ADDRESS
	if ! "$TEMPORAL" operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
		die "up: TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS does not answer"
	fi
else
	tport=${LENDFLOW_TEMPORAL_PORT:-7233}
	uiport=${LENDFLOW_TEMPORAL_UI_PORT:-8233}
	export TEMPORAL_ADDRESS=127.0.0.1:$tport
	UI_URL=http://127.0.0.1:$uiport
	free "$TEMPORAL_ADDRESS" LENDFLOW_TEMPORAL_PORT
	free "127.0.0.1:$uiport" LENDFLOW_TEMPORAL_UI_PORT
	# "default" always exists; another namespace is created at start.
	EXTRA_NS=""
	[[ $TEMPORAL_NAMESPACE == default ]] || EXTRA_NS=$TEMPORAL_NAMESPACE
	say "up: starting the Temporal dev server on $TEMPORAL_ADDRESS (state .data/temporal.db)"
	# The search attributes are workflows.SearchAttributeTypes (deploy/compose_test.go checks).
	start temporal "$TEMPORAL" server start-dev \
		--db-filename "$DATA/temporal.db" \
		--ip 127.0.0.1 --port "$tport" --ui-port "$uiport" \
		${EXTRA_NS:+--namespace "$EXTRA_NS"} \
		--search-attribute LoanStatus=Keyword \
		--search-attribute LoanBorrowerID=Int \
		--search-attribute LoanGrade=Keyword \
		--search-attribute LoanAmountFen=Int \
		--log-level warn
	ready temporal 120 "$TEMPORAL" operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE"
fi

# 6. Migrations (each process also migrates at start; this makes a failure loud and early).
say "up: lendflow migrate"
printf '\n=== %s: migrate\n' "$(date -Is)" >>"$LOGS/migrate.log"
if ! "$LENDFLOW" migrate >>"$LOGS/migrate.log" 2>&1; then
	warn "up: lendflow migrate failed; the end of $LOGS/migrate.log:"
	tail -n 30 "$LOGS/migrate.log" >&2
	exit 1
fi

# 7. The platform.
supervised bank "$LENDFLOW" bank
ready bank 60 http_ok "$BANK_URL/healthz"
supervised worker "$LENDFLOW" worker
# The ops console links each loan to its workflow in this Temporal UI.
[[ -n $UI_URL ]] && export TEMPORAL_UI_URL=${TEMPORAL_UI_URL:-$UI_URL}
supervised api "$LENDFLOW" api
ready api 90 http_ok "$API_URL/readyz"
sleep 1
alive worker || exit 1

cat <<EOF

  lendflow is up in ${SECONDS}s (sandbox clock; today's business date is kept in the database, first set to $CLOCK_START)

  API           $API_URL
  Ops console   $API_URL/console/   (sign in with the ops login below)
  OpenAPI       $API_URL/openapi.yaml
  Temporal UI   ${UI_URL:-(the UI of $TEMPORAL_ADDRESS)}
  Temporal      $TEMPORAL_ADDRESS (namespace $TEMPORAL_NAMESPACE)
  Bank (sim)    $BANK_URL
  PostgreSQL    $DATABASE_URL
  Metrics       http://$API_METRICS_LISTEN/metrics  http://$WORKER_METRICS_LISTEN/metrics  $BANK_URL/metrics

  Ops login     $OPS_EMAIL / $OPS_PASSWORD   (generated once into .data/secrets.env)
                curl -s $API_URL/v1/auth/login -d '{"email":"$OPS_EMAIL","password":"$OPS_PASSWORD"}'
  Logs          .data/logs/{temporal,migrate,bank,worker,api}.log

  A crashed bank, worker or API is started again (see its log).
  Ctrl-C stops everything; the next \`make up\` continues with the same data.

EOF

# 8. Run until Ctrl-C or until a process dies (then stop the rest). The supervisors of
# bank, worker and API do not die with their process, so only Temporal's end stops it.
while true; do
	wait -n "${PIDS[@]}" || true
	for name in "${NAMES[@]}"; do
		alive "$name" || exit 1
	done
done
