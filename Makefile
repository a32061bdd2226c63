# Developer shortcuts. Each target runs what CI runs for that part (.ci/run runs them all), so
# `make ci` passing here is CI passing. `make help` lists the targets.
GO ?= go
# make bench BENCH=Cache PKG=./lambda/proxy/ COUNT=10 > new.txt   (then benchstat old.txt new.txt)
BENCH ?= .
PKG ?= ./...
COUNT ?= 1
BENCHTIME ?= 1s

.PHONY: help test race lint cover bench ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

test: ## go test ./... (offline; no AWS, Docker or Pulumi CLI)
	$(GO) test ./...

race: ## the race detector on the packages that run goroutines (.ci/race)
	.ci/race

lint: ## golangci-lint v2.15.0 on the default, rie and onnx builds (.ci/lint; builds it into bin/ once)
	.ci/lint

cover: ## the coverage gate: components/ and inference/ at 70% or more (.ci/coverage)
	.ci/coverage 70

bench: ## benchmarks: BENCH=regexp PKG=./pkg/ COUNT=n BENCHTIME=1s
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(COUNT) -benchtime $(BENCHTIME) $(PKG)

ci: ## everything CI runs (.ci/run): also fetches the emulator and ONNX Runtime
	.ci/run
