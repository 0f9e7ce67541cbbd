# Jindou. `make run` builds and runs a node; `make test` runs everything CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO      ?= go
BIN     := bin/jindou
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# Seeds for `make sim`: SEEDS consecutive seeds from SEED.
SEED    ?= 1
SEEDS   ?= 100
# Tests build with the expensive invariants of the core on (node/internal/
# invariant); the binary and the benchmarks build without them.
TESTTAGS ?= jindou_invariants
# How many seeds `make test` runs, how many of them `make determinism` runs
# twice (once under GOMAXPROCS=1), and how many of those a third time.
TEST_SEEDS ?= 200
DETERMINISM_SEEDS ?= 50
DETERMINISM_RECHECK_SEEDS ?= 10

.PHONY: cluster e2e-long scenarios-real scenarios-real-ci soak
.PHONY: all build run test lint unit seeds sim determinism vectors vectors-check deps e2e bench web chromium static

all: build

deps:
	$(GO) mod download

# web: bundle the chat demo (web/demo/app.js and the official wukongimjssdk,
# npm packages pinned in web/package.json) into web/dist/demo.js, which the
# binary embeds; no CDN at run time.
web:
	bash web/build.sh

# chromium: Debian's chromium for the browser tests (e2e/*_browser_test.go),
# installed with apt-get when missing; when it cannot be, those tests skip
# with a loud message.
SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null && echo sudo -n)
chromium:
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	echo "chromium: installing Debian's chromium for the browser tests"; \
	if ! { $(if $(SUDO),$(SUDO) ,)apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(if $(SUDO),$(SUDO) ,)apt-get install -y -qq --no-install-recommends chromium; } >/tmp/jindou-chromium-install.log 2>&1; then \
	  echo "!!! chromium: could not install it (see /tmp/jindou-chromium-install.log): THE BROWSER TESTS WILL SKIP"; fi

build: deps web
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/jindou

# static: the statically linked binary the Docker image ships
# (bin/jindou-static, no cgo). SKIP_WEB=1 when web/dist is already built.
static: deps $(if $(SKIP_WEB),,web)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/jindou-static ./cmd/jindou

# run: a single node with the embedded defaults (TCP :5100, WebSocket :5200,
# HTTP :5001, data in ./jindou-data); ARGS passes more, e.g. ARGS="--log-format json".
run: build
	./$(BIN) run $(ARGS)

# e2e: the real binary, started as a subprocess on 127.0.0.1: the official JS
# SDK (its pinned npm packages installed with npm ci), raw WKProto clients,
# kill -9 durability, SIGTERM, start-up failures.
e2e: chromium
	bash web/build.sh --ci
	bash tools/sdke2e/build.sh --ci >/dev/null
	$(GO) test -count=1 ./e2e/...

# cluster: three nodes on this machine (own ports, data dirs and logs under
# .cluster/), their addresses printed, all stopped on Ctrl-C; ARGS passes
# more, e.g. ARGS="--port-shift 100".
cluster: build
	./$(BIN) dev cluster $(ARGS)

# scenarios-real: the scenario files (scenarios/testdata) against real
# jindou processes on 127.0.0.1 (a node, or a cluster whose peer links go
# through toxiproxy), each command's output compared with the file's with
# timestamps stripped and the clients in name order; the files whose
# `# backends:` line leaves real out are skipped with their reason.
# scenarios-real-ci runs the subset SCENARIOS_REAL_CI (about 20 s), as
# `make test` does.
SCENARIOS_REAL_CI ?= person_chat,sessions,group_permissions,crash_kill9,cluster_failover,cluster_restart
scenarios-real:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/jindou
	$(GO) test -count=1 -timeout 10m -run '^TestScenariosReal$$' ./scenarios -jindou=$(CURDIR)/$(BIN)
	@echo "scenarios-real: the files not run on real processes, and why:"; grep -H '^# backends:' scenarios/testdata/*.txt | grep -v 'real,' || true

scenarios-real-ci:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/jindou
	$(GO) test -count=1 -timeout 5m -run '^TestScenariosReal$$' ./scenarios -jindou=$(CURDIR)/$(BIN) -real-files=$(SCENARIOS_REAL_CI)

# e2e-long: the cluster end-to-end tests with the long loops (20 kill -9 of
# the busiest leader instead of 3).
e2e-long:
	bash tools/sdke2e/build.sh --ci >/dev/null
	E2E_CLUSTER_KILLS=20 $(GO) test -count=1 -timeout 30m -run '^TestCluster' -v ./e2e/

# soak: the 30-minute soak with churn (e2e/soak_test.go): TCP and WebSocket
# clients connecting and disconnecting, person and group sends, HTTP calls,
# slow readers cut; RSS, goroutines and descriptors sampled every 30 s must
# stay flat after a 5-minute warm-up. Not part of `make test`.
# SOAK_DURATION and SOAK_WARMUP shorten it, e.g. SOAK_DURATION=5m SOAK_WARMUP=1m.
SOAK_DURATION ?= 30m
SOAK_WARMUP   ?= 5m
soak:
	E2E_SOAK=1 E2E_SOAK_DURATION=$(SOAK_DURATION) E2E_SOAK_WARMUP=$(SOAK_WARMUP) \
	  $(GO) test -count=1 -timeout 60m -run '^TestSoak' -v ./e2e/

# bench: the measured budget per message (not part of `make test`: it
# measures, it does not check). `jindou bench all` starts a fresh node per
# phase on a temporary data dir with 127.0.0.1 port-0 listeners (the node on
# CPU 0, the load on CPU 1 when taskset exists), runs send (50 clients x 16
# in flight for 10 s), fanout (500 online members), idle TCP and WebSocket
# connections and the core's BenchmarkAckedPersonSends, removes every node
# and data dir however it ends, and prints one table: measure | now |
# target. BENCH_ARGS passes more, e.g. BENCH_ARGS="--fanout-members 2000".
bench: build
	./$(BIN) bench all --repo . $(BENCH_ARGS)

# lint: formatting, vet, and the determinism and import rules of the core.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './tools/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags $(TESTTAGS) ./...
	$(GO) test -count=1 ./internal/lint/

# unit: every package but the end-to-end tests (the e2e target runs those);
# the demo's bundle first, which the HTTP tests serve.
unit: web
	$(GO) test -tags $(TESTTAGS) -count=1 $$($(GO) list ./... | grep -v /e2e)

# seeds: the whole node under TEST_SEEDS seeded worlds.
seeds:
	@out=$$(mktemp); \
	if $(GO) test -tags $(TESTTAGS) -count=1 -timeout 30m ./sim -run '^Test(Kept)?Seeds$$' -seeds=$(TEST_SEEDS) -v > $$out 2>&1; then \
	  echo "seeds: $$(grep -c '^seed=' $$out) seeds of the whole node passed"; tail -n 1 $$out; \
	else grep -v '^=== RUN' $$out; rm -f $$out; exit 1; fi; rm -f $$out

# determinism: the same seeds must give the same trace hashes, run after
# run and under GOMAXPROCS=1: one test binary runs DETERMINISM_SEEDS seeds of
# the whole node (and the kept seeds) and of the toy world three times: run
# a, run b under GOMAXPROCS=1, run c over the first DETERMINISM_RECHECK_SEEDS
# of them.
determinism:
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(GO) test -tags $(TESTTAGS) -c -o $$tmp/sim.test ./sim; \
	run() { (cd sim && $$tmp/sim.test -test.count=1 -test.timeout=30m -test.v -test.run '^Test(Kept|Toy)?Seeds$$' -seeds=$$1) | \
	  grep -oE '^seed=[0-9]+ trace=[0-9a-f]+ (users|nodes)='; }; \
	failed() { echo "determinism: run $$1 failed: a seed failed or a required feature never happened (go test -tags $(TESTTAGS) ./sim -run '^Test(Kept|Toy)?Seeds$$' -seeds=$(DETERMINISM_SEEDS) -v says which)"; exit 1; }; \
	run $(DETERMINISM_SEEDS) > $$tmp/a || failed a; \
	GOMAXPROCS=1 run $(DETERMINISM_SEEDS) > $$tmp/b || failed b; \
	run $(DETERMINISM_RECHECK_SEEDS) > $$tmp/c || failed c; \
	node=$$(grep -c ' users=$$' $$tmp/a || true); toy=$$(grep -c ' nodes=$$' $$tmp/a || true); \
	if [ "$$node" -lt $(DETERMINISM_SEEDS) ] || [ "$$toy" -lt $(DETERMINISM_SEEDS) ]; then \
	  echo "determinism: run a gave $$node node and $$toy toy seed lines, want $(DETERMINISM_SEEDS) of each"; exit 1; fi; \
	if ! diff $$tmp/a $$tmp/b; then echo "determinism: trace hashes differ under GOMAXPROCS=1"; exit 1; fi; \
	if grep -Fvxf $$tmp/a $$tmp/c; then echo "determinism: run c gave these trace hashes, run a others"; exit 1; fi; \
	test "$$(wc -l < $$tmp/c)" -ge $$((2 * $(DETERMINISM_RECHECK_SEEDS))) || { echo "determinism: run c gave too few seed lines"; exit 1; }; \
	echo "determinism: $$node seeds of the whole node (kept seeds included) and $$toy of the toy world gave the same trace hashes twice (once under GOMAXPROCS=1), the first $(DETERMINISM_RECHECK_SEEDS) of each a third time"

# The SDK conformance vectors: regenerate with the official JS SDK and
# compare with the committed ones (installs the npm packages it needs).
vectors-check:
	bash tools/sdkvectors/check.sh

vectors:
	bash tools/sdkvectors/gen.sh

sim:
	$(GO) test -tags $(TESTTAGS) -count=1 ./sim -run '^TestSeeds$$' -seed=$(SEED) -seeds=$(SEEDS) -v

test: lint unit seeds determinism vectors-check e2e scenarios-real-ci
