#!/bin/sh
# Registers lendflow's namespace and the loan's search attributes
# (workflows.SearchAttributeTypes) on a Temporal server, then waits until
# every frontend accepts them: the one-shot job after the server in
# docker-compose.yml (temporalio/admin-tools) and in make cluster, run
# twice without harm (deploy/compose_test.go runs it against a dev server).
#
# Environment: TEMPORAL_ADDRESS (one frontend, or several separated by
# commas: all are waited for), TEMPORAL_NAMESPACE (default default),
# TEMPORAL_RETENTION (how long closed workflows' histories are kept, default
# 720h).
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}"
ns=${TEMPORAL_NAMESPACE:-default}
retention=${TEMPORAL_RETENTION:-720h}
first=${TEMPORAL_ADDRESS%%,*}
attributes="LoanStatus=Keyword LoanBorrowerID=Int LoanGrade=Keyword LoanAmountFen=Int"

# patiently SECONDS WHAT CMD...: run CMD every second until it succeeds.
patiently() {
	limit=$1 what=$2 i=0
	shift 2
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -ge "$limit" ]; then
			echo "setup: $what: no success after ${limit}s" >&2
			"$@" >&2 || true
			exit 1
		fi
		sleep 1
	done
}

patiently 120 "Temporal at $first" temporal operator cluster health --address "$first"
if temporal operator namespace describe --address "$first" --namespace "$ns" >/dev/null 2>&1; then
	echo "setup: namespace $ns present"
else
	temporal operator namespace create --address "$first" --namespace "$ns" --retention "$retention"
fi
# The frontend's namespace cache learns of a new namespace within seconds.
patiently 60 "namespace $ns" temporal operator search-attribute list --address "$first" --namespace "$ns"

query=""
for sa in $attributes; do
	name=${sa%%=*} type=${sa#*=}
	if temporal operator search-attribute list --address "$first" --namespace "$ns" | grep -qw "$name"; then
		echo "setup: search attribute $name present"
	else
		temporal operator search-attribute create --address "$first" --namespace "$ns" --name "$name" --type "$type"
	fi
	case $type in
	Int) cond="$name = 0" ;;
	*) cond="$name = ''" ;;
	esac
	query="${query:+$query AND }$cond"
done

# Each frontend learns the attributes within seconds; until it does, a loan
# started through it would be refused. A query naming them all is refused
# just as long.
for addr in $(echo "$TEMPORAL_ADDRESS" | tr ',' ' '); do
	patiently 60 "the search attributes at $addr" temporal workflow count --address "$addr" --namespace "$ns" --query "$query"
done
echo "setup: namespace $ns and its search attributes ready at $TEMPORAL_ADDRESS"
