#!/usr/bin/env bash
# Finds a PostgreSQL server for the dev stack or the tests, and exports DATABASE_URL.
#
#   . scripts/pg.sh && pg_setup dev|test     (sourced: exports DATABASE_URL; pg_stop_private stops
#                                            the private cluster if this shell started it)
#   scripts/pg.sh dev|test                   (prints `export DATABASE_URL=...` for eval)
#   scripts/pg.sh stop                       (stops the private cluster in .data/pg)
#
# In order, the first that answers:
#   1. $DATABASE_URL, as it is;
#   2. the server on 127.0.0.1:${LENDFLOW_PG_PORT_PROBE:-5432} as user postgres without a
#      password (the machine's own), database lendflow (dev) or lendflow_test (test),
#      created if missing; LENDFLOW_PG_PORT_PROBE=0 skips this probe;
#   3. a private cluster in ${LENDFLOW_PGDATA:-.data/pg} (initdb on first use), on
#      127.0.0.1:${LENDFLOW_PG_PORT:-55432} or the next free port, run by a user other than
#      root (${LENDFLOW_PG_OS_USER}, else postgres, else a new system user lendflow, else nobody).
#      Its log is .data/logs/postgres.log. It keeps running after this script ends.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PGDATA_DIR=${LENDFLOW_PGDATA:-$ROOT/.data/pg}
LENDFLOW_PG_STARTED=${LENDFLOW_PG_STARTED:-0}

# (Functions here end with "return 0", not a bare "return": up.sh calls them from its EXIT
# trap, where a bare return would give the status of the command the trap interrupted.)

# pg_bindir prints the folder holding initdb and pg_ctl, the newest installed.
pg_bindir() {
	if [[ -n ${LENDFLOW_PG_BINDIR:-} ]]; then
		echo "$LENDFLOW_PG_BINDIR"
		return 0
	fi
	local d
	d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)
	if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then
		echo "$d"
		return 0
	fi
	for d in /usr/local/bin /usr/local/pgsql/bin "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"; do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# pg_client NAME: psql or pg_isready, from PATH or the server's folder.
pg_client() {
	if command -v "$1" >/dev/null; then
		command -v "$1"
	else
		local d
		d=$(pg_bindir) || die "postgres: no $1 found; install postgresql-client"
		echo "$d/$1"
	fi
}

# pg_answers URL: a server answers at URL and lets us in.
pg_answers() {
	"$(pg_client pg_isready)" -q -t 3 -d "$1" >/dev/null 2>&1 &&
		"$(pg_client psql)" "$1" -X -Atq -c 'SELECT 1' >/dev/null 2>&1
}

# with_db URL DB: URL with its database replaced by DB.
with_db() {
	local url=$1 db=$2 base query=""
	if [[ $url == *\?* ]]; then
		query="?${url#*\?}"
		url=${url%%\?*}
	fi
	base=$url
	# postgres://host:port may have no path at all.
	[[ ${url#*://} == */* ]] && base=${url%/*}
	echo "$base/$db$query"
}

# ensure_db URL: create URL's database through the server's postgres database if missing.
ensure_db() {
	local url=$1 db admin psql
	db=${url%%\?*}
	db=${db##*/}
	admin=$(with_db "$url" postgres)
	psql=$(pg_client psql)
	if [[ -z $("$psql" "$admin" -X -Atq -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
		say "postgres: creating database $db"
		# A concurrent run may have created it meanwhile; that is fine.
		"$psql" "$admin" -X -q -c "CREATE DATABASE \"$db\"" >/dev/null 2>&1 ||
			[[ -n $("$psql" "$admin" -X -Atq -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ]] ||
			die "postgres: cannot create database $db"
	fi
}

# pg_os_user prints the account the private cluster runs as ("" when not root).
pg_os_user() {
	if ((EUID != 0)); then
		echo ""
		return 0
	fi
	if [[ -n ${LENDFLOW_PG_OS_USER:-} ]]; then
		echo "$LENDFLOW_PG_OS_USER"
	elif getent passwd postgres >/dev/null; then
		echo postgres
	elif getent passwd lendflow >/dev/null ||
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin lendflow >/dev/null 2>&1; then
		echo lendflow
	else
		echo nobody
	fi
}

# as_pg_user CMD...: run CMD as the cluster's account.
as_pg_user() {
	local user
	user=$(pg_os_user)
	if [[ -z $user ]]; then
		"$@"
	elif command -v runuser >/dev/null; then
		runuser -u "$user" -- "$@"
	elif command -v setpriv >/dev/null; then
		setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"
	else
		su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
	fi
}

# pg_private_port prints the port written in the private cluster's settings.
pg_private_port() {
	sed -n 's/^port = \([0-9][0-9]*\).*/\1/p' "$PGDATA_DIR/lendflow.conf" 2>/dev/null | tail -n1
}

# pg_private_start: initialize (first time) and start the private cluster; sets PG_PRIVATE_PORT.
pg_private_start() {
	local bindir user logfile port
	bindir=$(pg_bindir) || die "postgres: nothing answers and no initdb/pg_ctl found (set DATABASE_URL or install postgresql)"
	user=$(pg_os_user)
	logfile=$ROOT/.data/logs/postgres.log
	mkdir -p "$PGDATA_DIR" "$ROOT/.data/logs"
	chmod 755 "$ROOT/.data" "$ROOT/.data/logs" 2>/dev/null || true
	touch "$logfile"
	# make up and make test starting at once: one initializes and starts, the other reuses.
	if command -v flock >/dev/null; then
		exec 8>"$ROOT/.data/pg.lock"
		flock 8
	fi
	if [[ -n $user ]]; then
		chown "$user" "$logfile"
		chown -R "$user" "$PGDATA_DIR"
		as_pg_user test -w "$PGDATA_DIR" ||
			die "postgres: user $user cannot reach $PGDATA_DIR (a parent folder is closed to it); set LENDFLOW_PGDATA to a folder it can use"
	fi
	chmod 700 "$PGDATA_DIR"
	# Commands run from .data so that the cluster's user can stat its working folder.
	cd "$ROOT/.data"
	if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
		say "postgres: initializing a private cluster in $PGDATA_DIR${user:+ as user $user} ($bindir)"
		as_pg_user "$bindir/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --no-locale >>"$logfile" 2>&1 ||
			die "postgres: initdb failed; see $logfile"
		echo "include_if_exists = 'lendflow.conf'" >>"$PGDATA_DIR/postgresql.conf"
	fi
	if as_pg_user "$bindir/pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1; then
		port=$(pg_private_port)
		say "postgres: private cluster already running on port $port"
	else
		port=${LENDFLOW_PG_PORT:-55432}
		local tries=0
		while port_open 127.0.0.1 "$port"; do
			((++tries < 50)) || die "postgres: no free port from ${LENDFLOW_PG_PORT:-55432} up"
			port=$((port + 1))
		done
		printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n" "$port" >"$PGDATA_DIR/lendflow.conf"
		[[ -n $user ]] && chown "$user" "$PGDATA_DIR/lendflow.conf"
		say "postgres: starting the private cluster on 127.0.0.1:$port (log $logfile)"
		as_pg_user "$bindir/pg_ctl" start -D "$PGDATA_DIR" -l "$logfile" -w -t 60 >/dev/null ||
			die "postgres: the private cluster did not start; see $logfile"
		LENDFLOW_PG_STARTED=1
	fi
	cd - >/dev/null
	PG_PRIVATE_PORT=$port
	if command -v flock >/dev/null; then
		flock -u 8
		exec 8>&-
	fi
}

# pg_stop_private: stop the private cluster if this shell started it (or always with "force").
pg_stop_private() {
	[[ $LENDFLOW_PG_STARTED == 1 || ${1:-} == force ]] || return 0
	[[ -f $PGDATA_DIR/PG_VERSION ]] || return 0
	local bindir
	bindir=$(pg_bindir) || return 0
	LENDFLOW_PG_STARTED=0
	(cd "$ROOT/.data" && as_pg_user "$bindir/pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1) || return 0
	if [[ ${1:-} != force ]]; then
		# Another make up or make test may have come to use it meanwhile: leave it to them.
		local port others
		port=$(pg_private_port)
		others=$("$(pg_client psql)" "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" -X -Atq -c \
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" 2>/dev/null || echo 0)
		if ((others > 0)); then
			say "postgres: private cluster left running: $others other connection(s) use it (scripts/pg.sh stop stops it)"
			return 0
		fi
	fi
	if (cd "$ROOT/.data" && as_pg_user "$bindir/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w) >>"$ROOT/.data/logs/postgres.log" 2>&1; then
		say "postgres: private cluster stopped"
	else
		warn "postgres: could not stop the private cluster in $PGDATA_DIR; see $ROOT/.data/logs/postgres.log"
	fi
}

# pg_setup dev|test: export DATABASE_URL.
pg_setup() {
	local mode=${1:-dev} db url probe
	case $mode in
	dev) db=lendflow ;;
	test) db=lendflow_test ;;
	*) die "pg_setup: want dev or test, got $mode" ;;
	esac
	if [[ -n ${DATABASE_URL:-} ]]; then
		if pg_answers "$DATABASE_URL"; then
			say "postgres: using DATABASE_URL"
			export DATABASE_URL
			return 0
		fi
		warn "postgres: DATABASE_URL does not answer; looking for another server"
	fi
	probe=${LENDFLOW_PG_PORT_PROBE:-5432}
	if [[ $probe != 0 && $probe != none ]]; then
		url="postgres://postgres@127.0.0.1:$probe/postgres?sslmode=disable"
		if pg_answers "$url"; then
			url=$(with_db "$url" "$db")
			ensure_db "$url"
			say "postgres: using the server on 127.0.0.1:$probe, database $db"
			export DATABASE_URL=$url
			return 0
		fi
		say "postgres: nothing lets us in on 127.0.0.1:$probe"
	fi
	pg_private_start
	url="postgres://postgres@127.0.0.1:$PG_PRIVATE_PORT/$db?sslmode=disable"
	wait_for 30 "postgres on port $PG_PRIVATE_PORT" pg_answers "$(with_db "$url" postgres)" ||
		die "postgres: the private cluster does not answer; see $ROOT/.data/logs/postgres.log"
	ensure_db "$url"
	say "postgres: using the private cluster on 127.0.0.1:$PG_PRIVATE_PORT, database $db"
	export DATABASE_URL=$url
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case ${1:-dev} in
	dev | test)
		pg_setup "${1:-dev}"
		printf 'export DATABASE_URL=%q\n' "$DATABASE_URL"
		;;
	stop) pg_stop_private force ;;
	*) die "usage: $0 dev|test|stop" ;;
	esac
fi
