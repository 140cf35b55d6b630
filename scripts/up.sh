#!/usr/bin/env bash
# `make up`: the whole platform on this machine, in the foreground.
#
#   tools (scripts/tools.sh) → PostgreSQL (scripts/pg.sh) → go build → Temporal dev server
#   → Mailpit → lendflow migrate → lendflow bank, worker, api (sandbox clock) → URLs and ops login.
#
# Ctrl-C stops everything it started. State lives in .data/ (Temporal's SQLite file,
# the private PostgreSQL cluster if one was needed, secrets, logs) and the next run
# continues from it; `rm -rf .data` starts over.
#
# Settings (environment): DATABASE_URL (else scripts/pg.sh finds or starts a server),
# TEMPORAL_ADDRESS (an existing Temporal server; else the dev server is started on
# 127.0.0.1:${LENDFLOW_TEMPORAL_PORT:-7233}, UI on ${LENDFLOW_TEMPORAL_UI_PORT:-8233}),
# API_LISTEN, BANK_LISTEN, WORKER_METRICS_LISTEN, API_METRICS_LISTEN, PUBLIC_HTTPS (false here),
# SMTP_HOST (an existing mail server; else Mailpit is started with its SMTP on
# ${LENDFLOW_MAILPIT_SMTP:-127.0.0.1:1025} and its web UI and API on
# ${LENDFLOW_MAILPIT_UI:-127.0.0.1:8025}), WEBHOOK_ALLOW_NETS (127.0.0.1 here), CLOCK_START (default today,
# Asia/Shanghai), OPS_EMAIL, OPS_PASSWORD, BANK_HMAC_SECRET and BANK_API_KEY (else generated
# once into .data/secrets.env), LOG_FORMAT (text here; the processes' own default is json).
#
# The bank, worker and API run under scripts/supervise.sh: one that crashes is started
# again (a line in its log and on this console, with a growing wait if it keeps dying at
# once) instead of stopping the stack. Only the end of the Temporal dev server or Mailpit stops it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

STACK=up
DATA=$ROOT/.data
LOGS=$DATA/logs
# shellcheck source=scripts/pg.sh
. "$ROOT/scripts/pg.sh"
# shellcheck source=scripts/stack.sh
. "$ROOT/scripts/stack.sh"
stack_claim

# 1. Tools.
"$ROOT/scripts/tools.sh"

# 2. PostgreSQL.
pg_setup dev

# 3. Build.
stack_build

# 4. Secrets, made once and kept in .data/secrets.env (0600); the environment wins.
stack_secrets

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

# 6. Mailpit: every notification is also an e-mail (docs/collection.md "Contact"); here they
# land in Mailpit, read in its web UI or its API (/api/v1/messages).
MAIL_UI=""
if [[ -n ${SMTP_HOST:-} ]]; then
	say "up: e-mailing notices through the mail server at $SMTP_HOST"
else
	mail_smtp=${LENDFLOW_MAILPIT_SMTP:-127.0.0.1:1025}
	mail_ui=${LENDFLOW_MAILPIT_UI:-127.0.0.1:8025}
	free "$mail_smtp" LENDFLOW_MAILPIT_SMTP
	free "$mail_ui" LENDFLOW_MAILPIT_UI
	MAIL_UI=http://$mail_ui
	say "up: starting Mailpit (SMTP $mail_smtp, web UI $MAIL_UI; state .data/mailpit.db)"
	start mailpit "$TOOLS_BIN/mailpit" --smtp "$mail_smtp" --listen "$mail_ui" \
		--database "$DATA/mailpit.db" --disable-version-check --smtp-disable-rdns --quiet
	ready mailpit 30 http_ok "$MAIL_UI/readyz"
	export SMTP_HOST=${mail_smtp%:*} SMTP_PORT=${mail_smtp##*:} SMTP_TLS=none
fi
export SMTP_FROM=${SMTP_FROM:-lendflow <notices@lendflow.local>}
# Webhooks to a receiver on this machine (docs/events.md "Which URLs").
export WEBHOOK_ALLOW_NETS=${WEBHOOK_ALLOW_NETS:-127.0.0.1/32}

# 7. Migrations (each process also migrates at start; this makes a failure loud and early).
stack_migrate

# 8. The platform.
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
  Mail          ${MAIL_UI:-$SMTP_HOST}   (every notification e-mailed; Mailpit's API: ${MAIL_UI:-…}/api/v1/messages)
  Temporal      $TEMPORAL_ADDRESS (namespace $TEMPORAL_NAMESPACE)
  Bank (sim)    $BANK_URL
  PostgreSQL    $DATABASE_URL
  Metrics       http://$API_METRICS_LISTEN/metrics  http://$WORKER_METRICS_LISTEN/metrics  $BANK_URL/metrics

  Ops login     $OPS_EMAIL / $OPS_PASSWORD   (generated once into .data/secrets.env)
                curl -s $API_URL/v1/auth/login -d '{"email":"$OPS_EMAIL","password":"$OPS_PASSWORD"}'
  Logs          .data/logs/{temporal,mailpit,migrate,bank,worker,api}.log

  A crashed bank, worker or API is started again (see its log).
  Ctrl-C stops everything; the next \`make up\` continues with the same data.

EOF

# 9. Run until Ctrl-C or until a process dies (then stop the rest). The supervisors of
# bank, worker and API do not die with their process, so only Temporal's or Mailpit's end stops it.
stack_wait
