# The project's everyday commands. Each target is one command written out below;
# run it directly when make is not installed.
#
#   make test    the whole test suite (./scripts/test; ARGS go to go test, e.g.
#                make test ARGS="-race -count=1")
#   make serve   the server on the embedded SQLite default (./socialpredict.db)
#   make bench   the performance suite (socialpredict bench --all), written to
#                docs/performance.md with its chart: against DATABASE_URL or the
#                configured PostgreSQL, else a throwaway cluster it starts and
#                deletes; about 6 minutes (BENCH_FLAGS go to the command, e.g.
#                make bench BENCH_FLAGS="--quick --out /tmp/perf.md")

GO ?= go
ARGS ?=
BENCH_FLAGS ?=

.PHONY: test serve bench

test:
	./scripts/test $(ARGS)

serve:
	$(GO) run ./cmd/socialpredict serve

bench:
	$(GO) run ./cmd/socialpredict bench --all $(BENCH_FLAGS)
