# The two commands: `make up` runs the platform here, `make test` runs every check.
.PHONY: up test tools build sqlc

# Tools, PostgreSQL, Temporal dev server, bank, worker and API in the foreground; Ctrl-C stops them.
up:
	@scripts/up.sh

# sqlc drift, gofmt, go vet, staticcheck, then go test ./... (what CI runs).
test:
	@scripts/test.sh

# The pinned Temporal CLI, sqlc and staticcheck, into ~/.cache/lendflow/tools (.tools points there).
tools:
	@scripts/tools.sh

# The one binary: .data/bin/lendflow api|worker|bank|migrate|dev
build:
	go build -o .data/bin/lendflow ./cmd/lendflow

# Regenerate db/dbq and bank/sim/simdb from the SQL.
sqlc: tools
	.tools/bin/sqlc generate
