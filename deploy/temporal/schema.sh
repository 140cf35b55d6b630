#!/bin/sh
# Sets up or upgrades the Temporal server's two databases with the schema tool
# of the pinned server (temporal-sql-tool): the one-shot job that runs before
# the server in docker-compose.yml (temporalio/admin-tools) and in make
# cluster. Safe to run again: a database that exists is kept, the version
# table is set up once, and update-schema applies only the versions after the
# one recorded, from the schemas embedded in the tool. A new server version is
# deployed by running this first with the new tool (docs/deployment.md
# "Upgrades").
#
# Environment: SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD (read by the tool
# itself), DBNAME (default temporal), VISIBILITY_DBNAME (default
# temporal_visibility).
set -eu
: "${SQL_HOST:?set SQL_HOST}" "${SQL_USER:?set SQL_USER}"
export SQL_PLUGIN=postgres12 SQL_PORT="${SQL_PORT:-5432}"

# tool ARGS...: the schema tool, quiet unless it fails.
tool() {
	if ! out=$(temporal-sql-tool "$@" 2>&1); then
		printf '%s\n' "$out" >&2
		echo "schema: temporal-sql-tool $* failed" >&2
		exit 1
	fi
}

for pair in "${DBNAME:-temporal}=temporal" "${VISIBILITY_DBNAME:-temporal_visibility}=visibility"; do
	db=${pair%=*}
	schema=postgresql/v12/${pair#*=}
	tool --db "$db" create-database
	tool --db "$db" setup-schema -v 0.0
	tool --db "$db" update-schema -s "$schema"
	echo "schema: $db is at the latest $schema"
done
