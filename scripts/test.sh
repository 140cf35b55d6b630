#!/usr/bin/env bash
# `make test` (and CI): every check, then the tests.
#
#   tools → PostgreSQL (database lendflow_test; see scripts/pg.sh) → Chromium (installed in CI)
#   → sqlc generated code is current → shellcheck (if installed) → make up's supervisor
#   (scripts/supervise_test.sh) → gofmt → go vet → staticcheck
#   → go test -count=1 -p 2 ./e2e ./...
#
# A failing check stops here, before the tests. go test's own output comes last, and the
# exit status is non-zero on any failure. Extra arguments go to go test (make test
# passes none): scripts/test.sh -run TestLoan ./workflows/...
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
t_all=$SECONDS

"$ROOT/scripts/tools.sh"
export PATH=$TOOLS_BIN:$PATH

# shellcheck source=scripts/pg.sh
. "$ROOT/scripts/pg.sh"
# Stop a private cluster this run started, quietly: go test's lines stay last.
trap 'pg_stop_private 2>/dev/null' EXIT
pg_setup test
# The end-to-end test starts its own Temporal dev server with this binary.
export TEMPORAL_CLI=$TOOLS_BIN/temporal

# The console's browser test (e2e/console_test.go) drives headless Chromium. In CI it must
# run, so a missing Chromium is installed from the Debian packages; elsewhere the test says
# it is skipped.
ensure_chromium() {
	local c
	for c in "${LENDFLOW_CHROMIUM:-}" chromium chromium-browser google-chrome; do
		[[ -n $c ]] && command -v "$c" >/dev/null && return 0
	done
	if [[ ${CI:-} != true ]]; then
		say "test: no Chromium; the console's browser test will be skipped (apt-get install -y chromium)"
		return 0
	fi
	local sudo=()
	((EUID == 0)) || sudo=(sudo)
	say "test: installing Chromium for the console's browser test"
	if ! "${sudo[@]}" apt-get update -qq >/dev/null ||
		! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
		die "test: could not install Chromium (apt-get install -y chromium)"
	fi
}
ensure_chromium

# check NAME CMD...: run one check; stop the script if it fails.
check() {
	local name=$1 t0=$SECONDS
	shift
	if "$@"; then
		say "test: $name ok ($(elapsed "$t0"))"
	else
		die "test: $name FAILED (fix it, then run make test again)"
	fi
}

sqlc_current() {
	local out
	if ! out=$(sqlc diff 2>&1); then
		printf '%s\n' "$out" | head -n 60 >&2
		warn "generated code in db/dbq or bank/sim/simdb differs from the SQL: run make sqlc and commit the result"
		return 1
	fi
}

gofmt_clean() {
	local files
	# Tracked and new files alike; .tools and .data are ignored by git.
	files=$(git ls-files -co --exclude-standard -- '*.go' | xargs -r gofmt -l)
	if [[ -n $files ]]; then
		printf '%s\n' "$files" >&2
		warn "gofmt would change these files: gofmt -w them"
		return 1
	fi
}

check "sqlc diff" sqlc_current
if command -v shellcheck >/dev/null; then
	check "shellcheck" shellcheck -x scripts/*.sh deploy/temporal/*.sh .ci/run
else
	say "test: shellcheck not installed; skipped (apt-get install shellcheck)"
fi
check "supervise test" "$ROOT/scripts/supervise_test.sh"
check "gofmt" gofmt_clean
check "go vet" go vet ./...
check "staticcheck" staticcheck ./...

# ./e2e first: the longest package starts at once, and the others share the
# second slot meanwhile (go test runs each package once, in the order given).
all=(./e2e ./...)
say "test: checks done in $(elapsed "$t_all"); go test -count=1 -p 2 ${*:-${all[*]}} (DATABASE_URL=$DATABASE_URL)"
if (($#)); then
	go test -count=1 -p 2 "$@"
else
	go test -count=1 -p 2 "${all[@]}"
fi
