#!/usr/bin/env bash
# `make cluster`: the production shape on this machine, in the foreground.
#
#   tools (scripts/tools.sh: the pinned Temporal server, schema tool and UI server too)
#   → PostgreSQL (scripts/pg.sh) → go build → Temporal's schema (deploy/temporal/schema.sh)
#   → Temporal node 1, then node 2 → namespace and search attributes (deploy/temporal/setup.sh)
#   → the Temporal UI → lendflow migrate → bank, worker ×2, api ×2 → lendflow lb on the
#   API's usual address → URLs and ops login.
#
# How it differs from `make up` (README "make cluster"): the real Temporal server on
# PostgreSQL instead of the CLI's dev server on SQLite, two nodes of it, two workers, two
# API replicas behind a load balancer, the pool sizes of deploy/lendflow.env and
# deploy/temporal/temporal.env (docs/deployment.md "Sizing"). Its state is apart from make
# up's: the databases lendflow_cluster, lendflow_temporal and lendflow_temporal_visibility
# on the same server, logs in .data/cluster/logs. Both use port 8080, so one runs at a time.
#
# Settings (environment): DATABASE_URL (the server; scripts/pg.sh finds or starts one),
# CLOCK_MODE (sandbox here, as make up; wall works too), CLOCK_START, OPS_EMAIL,
# OPS_PASSWORD, BANK_HMAC_SECRET, BANK_API_KEY (else .data/secrets.env, shared with make up).
# Every process runs under scripts/supervise.sh: one that dies is started again.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

STACK=cluster
DATA=$ROOT/.data/cluster
LOGS=$DATA/logs
# shellcheck source=scripts/pg.sh
. "$ROOT/scripts/pg.sh"
# shellcheck source=scripts/stack.sh
. "$ROOT/scripts/stack.sh"
stack_claim

# 1. Tools.
"$ROOT/scripts/tools.sh"
TEMPORAL=$TOOLS_BIN/temporal

# 2. PostgreSQL: the server make up uses, with databases of this stack's own.
pg_setup dev
SERVER_URL=$DATABASE_URL
export DATABASE_URL
DATABASE_URL=$(with_db "$SERVER_URL" lendflow_cluster)
ensure_db "$DATABASE_URL"
export BANK_DATABASE_URL=$DATABASE_URL
# user[:password]@host[:port] of the server, for Temporal and its schema tool.
[[ $SERVER_URL =~ ^postgres(ql)?://([^:@/]+)(:([^@/]*))?@([^:/?]+)(:([0-9]+))? ]] ||
	die "cluster: cannot read user, host and port from $SERVER_URL"
PG_USER=${BASH_REMATCH[2]} PG_PASSWORD=${BASH_REMATCH[4]} PG_HOST=${BASH_REMATCH[5]} PG_PORT=${BASH_REMATCH[7]:-5432}
TEMPORAL_DB=lendflow_temporal
TEMPORAL_VISIBILITY_DB=lendflow_temporal_visibility

# 3. Build, secrets, settings.
stack_build
stack_secrets
set -a
# shellcheck source=deploy/lendflow.env
. "$ROOT/deploy/lendflow.env"
set +a
export LOG_FORMAT=${LOG_FORMAT:-text}
export TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE:-default}
export CLOCK_MODE=${CLOCK_MODE:-sandbox}
CLOCK_START=${CLOCK_START:-$(TZ=Asia/Shanghai date +%F)}
export CLOCK_START
export PUBLIC_HTTPS=${PUBLIC_HTTPS:-false}
LB_ADDR=127.0.0.1:8080
export BANK_LISTEN=127.0.0.1:8090
export BANK_URL=http://$BANK_LISTEN
# The bank's callbacks come through the balancer, as every client's requests do.
export BANK_CALLBACK_URL=http://$LB_ADDR/v1/bank/callbacks
API_ADDRS=(127.0.0.1:8081 127.0.0.1:8082)
API_METRICS=(127.0.0.1:9111 127.0.0.1:9112)
WORKER_METRICS=(127.0.0.1:9101 127.0.0.1:9102)
LB_METRICS=127.0.0.1:9093
UI_ADDR=127.0.0.1:8233
# Temporal node N's ports: node 1 Temporal's usual ones, node 2 the same plus 100.
node_port() { echo $(($2 + ($1 - 1) * 100)); }
FRONTENDS=127.0.0.1:$(node_port 1 7233),127.0.0.1:$(node_port 2 7233)
export TEMPORAL_ADDRESS=$FRONTENDS
export TEMPORAL_UI_URL=http://$UI_ADDR
for addr in $LB_ADDR $BANK_LISTEN "${API_ADDRS[@]}" "${API_METRICS[@]}" "${WORKER_METRICS[@]}" $LB_METRICS $UI_ADDR; do
	free "$addr" "(a fixed address of make cluster)"
done
for n in 1 2; do
	for p in 7233 7234 7235 7239 7243 6933 6934 6935 6939 8000; do
		free "127.0.0.1:$(node_port $n $p)" "(Temporal node $n's port)"
	done
done

# 4. Temporal's schema, set up or upgraded by the pinned schema tool.
say "cluster: Temporal's schema in $TEMPORAL_DB and $TEMPORAL_VISIBILITY_DB"
printf '\n=== %s: schema\n' "$(date -Is)" >>"$LOGS/temporal-schema.log"
PATH=$TOOLS_BIN:$PATH SQL_HOST=$PG_HOST SQL_PORT=$PG_PORT SQL_USER=$PG_USER SQL_PASSWORD=$PG_PASSWORD \
	DBNAME=$TEMPORAL_DB VISIBILITY_DBNAME=$TEMPORAL_VISIBILITY_DB \
	sh "$ROOT/deploy/temporal/schema.sh" >>"$LOGS/temporal-schema.log" 2>&1 || {
	tail -n 30 "$LOGS/temporal-schema.log" >&2
	die "cluster: Temporal's schema job failed"
}

# 5. Two Temporal nodes, each all four services, with a clean environment: the
# settings of deploy/temporal/temporal.env, the database, its own ports. The first
# creates the cluster's metadata; the second starts once it answers.
mapfile -t NODE_ENV < <(grep -Ev '^[[:space:]]*(#|$)' "$ROOT/deploy/temporal/temporal.env")
for n in 1 2; do
	supervised "temporal-$n" env -i PATH="$PATH" HOME="$HOME" "${NODE_ENV[@]}" \
		POSTGRES_SEEDS="$PG_HOST" DB_PORT="$PG_PORT" POSTGRES_USER="$PG_USER" POSTGRES_PWD="$PG_PASSWORD" \
		DBNAME=$TEMPORAL_DB VISIBILITY_DBNAME=$TEMPORAL_VISIBILITY_DB BIND_ON_IP=127.0.0.1 \
		DYNAMIC_CONFIG_FILE_PATH="$ROOT/deploy/temporal/dynamicconfig.yaml" \
		PROMETHEUS_ENDPOINT="127.0.0.1:$(node_port $n 8000)" \
		FRONTEND_GRPC_PORT="$(node_port $n 7233)" FRONTEND_HTTP_PORT="$(node_port $n 7243)" \
		FRONTEND_MEMBERSHIP_PORT="$(node_port $n 6933)" HISTORY_GRPC_PORT="$(node_port $n 7234)" \
		HISTORY_MEMBERSHIP_PORT="$(node_port $n 6934)" MATCHING_GRPC_PORT="$(node_port $n 7235)" \
		MATCHING_MEMBERSHIP_PORT="$(node_port $n 6935)" WORKER_GRPC_PORT="$(node_port $n 7239)" \
		WORKER_MEMBERSHIP_PORT="$(node_port $n 6939)" \
		"$TOOLS_BIN/temporal-server" --allow-no-auth start
	ready "temporal-$n" 120 "$TEMPORAL" operator cluster health --address "127.0.0.1:$(node_port $n 7233)"
done
say "cluster: namespace $TEMPORAL_NAMESPACE and the loan's search attributes"
printf '\n=== %s: setup\n' "$(date -Is)" >>"$LOGS/temporal-setup.log"
PATH=$TOOLS_BIN:$PATH sh "$ROOT/deploy/temporal/setup.sh" >>"$LOGS/temporal-setup.log" 2>&1 || {
	tail -n 30 "$LOGS/temporal-setup.log" >&2
	die "cluster: Temporal's setup job failed"
}
supervised temporal-ui env -i PATH="$PATH" HOME="$HOME" TEMPORAL_ADDRESS="127.0.0.1:$(node_port 1 7233)" \
	TEMPORAL_UI_PORT="${UI_ADDR##*:}" TEMPORAL_NAMESPACE="$TEMPORAL_NAMESPACE" \
	"$TOOLS_BIN/temporal-ui-server" --root "$ROOT/deploy/temporal" --config ui --env cluster start
ready temporal-ui 60 http_ok "http://$UI_ADDR/"

# 6. The platform: migrations, the bank, two workers, two API replicas, the balancer.
stack_migrate
supervised bank "$LENDFLOW" bank
ready bank 60 http_ok "$BANK_URL/healthz"
for i in 0 1; do
	supervised "worker-$((i + 1))" env WORKER_METRICS_LISTEN="${WORKER_METRICS[i]}" "$LENDFLOW" worker
done
backends=""
for i in 0 1; do
	# The balancer reaches the replicas from loopback: the address its X-Forwarded-For is
	# believed from, so each caller behind it keeps its own throttles (docs/security.md).
	supervised "api-$((i + 1))" env API_LISTEN="${API_ADDRS[i]}" API_METRICS_LISTEN="${API_METRICS[i]}" \
		TRUSTED_PROXIES=127.0.0.1 "$LENDFLOW" api
	ready "api-$((i + 1))" 90 http_ok "http://${API_ADDRS[i]}/readyz"
	backends+="${backends:+,}http://${API_ADDRS[i]}"
done
supervised lb env LB_LISTEN=$LB_ADDR LB_BACKENDS="$backends" LB_METRICS_LISTEN=$LB_METRICS "$LENDFLOW" lb
ready lb 30 http_ok "http://$LB_ADDR/readyz"
for w in worker-1 worker-2; do
	ready "$w" 60 http_ok "http://${WORKER_METRICS[${w#worker-} - 1]}/metrics"
done

cat <<EOF

  lendflow's production shape is up in ${SECONDS}s ($CLOCK_MODE clock)

  API           http://$LB_ADDR   (lendflow lb → api-1 http://${API_ADDRS[0]}, api-2 http://${API_ADDRS[1]})
  Ops console   http://$LB_ADDR/console/
  Temporal UI   http://$UI_ADDR
  Temporal      $FRONTENDS (two nodes, namespace $TEMPORAL_NAMESPACE; databases $TEMPORAL_DB, $TEMPORAL_VISIBILITY_DB)
  Bank (sim)    $BANK_URL
  PostgreSQL    $DATABASE_URL
  Metrics       api http://${API_METRICS[0]}/metrics http://${API_METRICS[1]}/metrics
                worker http://${WORKER_METRICS[0]}/metrics http://${WORKER_METRICS[1]}/metrics
                lb http://$LB_METRICS/metrics  bank $BANK_URL/metrics
                temporal http://127.0.0.1:$(node_port 1 8000)/metrics http://127.0.0.1:$(node_port 2 8000)/metrics

  Ops login     $OPS_EMAIL / $OPS_PASSWORD   (.data/secrets.env)
  Logs          .data/cluster/logs/{temporal-1,temporal-2,temporal-ui,bank,worker-1,worker-2,api-1,api-2,lb}.log

  Kill any process (kill -9 \$(cat .data/cluster/api-1.pid)): it is started again, and the
  other replica or node carries on meanwhile. Ctrl-C stops everything.

EOF

stack_wait
