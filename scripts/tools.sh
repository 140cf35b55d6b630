#!/usr/bin/env bash
# Installs the pinned tools into ${LENDFLOW_TOOLS:-$HOME/.cache/lendflow/tools}/bin,
# a cache outside the clone that CI's fresh clones reuse, and points the clone's
# .tools at it. A tool already there at the pinned version is kept. The first
# run takes about 5 minutes (the Temporal CLI) for `make up`; `make cluster`'s
# tools (Temporal's server, its schema tool, its UI) take about 10 more. Later
# runs take a second.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# name | package | module | version | rebuild when the Go toolchain changes | CGO_ENABLED
# (the binary is installed under name, whatever the package's last element is)
TOOLS=(
	"temporal|github.com/temporalio/cli/cmd/temporal|github.com/temporalio/cli|v1.5.1|no|0"
	"sqlc|github.com/sqlc-dev/sqlc/cmd/sqlc|github.com/sqlc-dev/sqlc|v1.31.1|no|1"
	# staticcheck must be built by a Go at least as new as the code it checks.
	"staticcheck|honnef.co/go/tools/cmd/staticcheck|honnef.co/go/tools|v0.8.2|yes|0"
	# make cluster's Temporal server and schema tool (v1.32.2 needs Go 1.26.10),
	# and its web UI (v2.56 on needs Go 1.26.9); docker-compose.yml pins the same.
	"temporal-server|go.temporal.io/server/cmd/server|go.temporal.io/server|v1.32.1|no|0"
	"temporal-sql-tool|go.temporal.io/server/cmd/tools/sql|go.temporal.io/server|v1.32.1|no|0"
	"temporal-ui-server|github.com/temporalio/ui-server/v2/cmd/server|github.com/temporalio/ui-server/v2|v2.55.0|no|0"
	# The mail catcher the notifications can be sent to.
	"mailpit|github.com/axllent/mailpit|github.com/axllent/mailpit|v1.33.1|no|0"
)

command -v go >/dev/null || die "go is not on PATH"
GOVERSION=$(go env GOVERSION)

# built_ok BINARY MODULE VERSION CHECKGO: BINARY was built from MODULE@VERSION
# (and, when CHECKGO is yes, by this Go toolchain).
built_ok() {
	local bin=$1 mod=$2 ver=$3 checkgo=$4 info
	[[ -x $bin ]] || return 1
	info=$(go version -m "$bin" 2>/dev/null) || return 1
	[[ $(awk -v m="$mod" '$1 == "mod" && $2 == m { print $3 }' <<<"$info") == "$ver" ]] || return 1
	if [[ $checkgo == yes ]]; then
		[[ $(head -n1 <<<"$info" | awk '{ print $NF }') == "$GOVERSION" ]] || return 1
	fi
}

# place SRC NAME: copy SRC into the cache as NAME, atomically.
place() {
	cp "$1" "$TOOLS_BIN/.$2.tmp.$$"
	mv -f "$TOOLS_BIN/.$2.tmp.$$" "$TOOLS_BIN/$2"
}

mkdir -p "$TOOLS_BIN"
if command -v flock >/dev/null; then
	# Two scripts starting at once (make up and make test) install once.
	exec 9>"$TOOLS_DIR/.lock"
	flock 9
fi
staging=$TOOLS_DIR/.staging.$$
trap 'rm -rf "$staging"' EXIT

# The clone's .tools may be a real folder from before this script (a go install
# run by hand): its binaries seed the cache, and it is kept as it is.
local_tools=""
if [[ -d $ROOT/.tools && ! -L $ROOT/.tools ]] && [[ $(cd "$ROOT/.tools" && pwd -P) != $(cd "$TOOLS_DIR" && pwd -P) ]]; then
	local_tools=$ROOT/.tools
fi

start_all=$SECONDS
for spec in "${TOOLS[@]}"; do
	IFS='|' read -r name pkg mod ver checkgo cgo <<<"$spec"
	if built_ok "$TOOLS_BIN/$name" "$mod" "$ver" "$checkgo"; then
		say "tools: $name $ver present"
		continue
	fi
	if [[ -n $local_tools ]] && built_ok "$local_tools/bin/$name" "$mod" "$ver" "$checkgo"; then
		say "tools: $name $ver copied from $local_tools/bin"
		place "$local_tools/bin/$name" "$name"
		continue
	fi
	hint=""
	[[ $name == temporal || $name == temporal-server ]] && hint=" (about 5 minutes the first time)"
	say "tools: installing $name $ver$hint"
	t0=$SECONDS
	rm -rf "$staging"
	mkdir -p "$staging"
	GOBIN=$staging CGO_ENABLED=$cgo go install "$pkg@$ver"
	mv -f "$staging/${pkg##*/}" "$TOOLS_BIN/$name"
	built_ok "$TOOLS_BIN/$name" "$mod" "$ver" "$checkgo" || die "tools: $name was installed but is not $mod $ver"
	say "tools: $name $ver installed in $(elapsed "$t0")"
done

if [[ -n $local_tools ]]; then
	# Keep .tools/bin/<tool> working in this clone too.
	mkdir -p "$local_tools/bin"
	for spec in "${TOOLS[@]}"; do
		IFS='|' read -r name _ mod ver checkgo _ <<<"$spec"
		if ! built_ok "$local_tools/bin/$name" "$mod" "$ver" "$checkgo"; then
			cp "$TOOLS_BIN/$name" "$local_tools/bin/.$name.tmp.$$"
			mv -f "$local_tools/bin/.$name.tmp.$$" "$local_tools/bin/$name"
		fi
	done
	say "tools: $ROOT/.tools is a folder of its own; kept, and brought up to date"
elif [[ $(readlink "$ROOT/.tools" 2>/dev/null || true) != "$TOOLS_DIR" ]]; then
	ln -sfn "$TOOLS_DIR" "$ROOT/.tools"
	say "tools: $ROOT/.tools -> $TOOLS_DIR"
fi
say "tools: ready in $TOOLS_BIN ($(elapsed "$start_all"))"
