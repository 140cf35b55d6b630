# The two commands: `make up` runs the platform here, `make test` runs every check.
.PHONY: up cluster test tools build sqlc

# Tools, PostgreSQL, Temporal dev server, bank, worker and API in the foreground; Ctrl-C stops them.
up:
	@scripts/up.sh

# The production shape here: the real Temporal server (two nodes on PostgreSQL), its UI,
# two workers, two API replicas behind lendflow lb on the API's address, the bank; Ctrl-C stops it.
cluster:
	@scripts/cluster.sh

# sqlc drift, gofmt, go vet, staticcheck, then go test ./... (what CI runs).
test:
	@scripts/test.sh

# The pinned Temporal CLI, sqlc and staticcheck, into ~/.cache/lendflow/tools (.tools points there).
tools:
	@scripts/tools.sh

# The one binary: .data/bin/lendflow api|worker|bank|migrate|dev|lb
build:
	go build -o .data/bin/lendflow ./cmd/lendflow

# Regenerate db/dbq and bank/sim/simdb from the SQL.
sqlc: tools
	.tools/bin/sqlc generate
