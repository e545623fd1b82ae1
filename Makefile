# spike — common tasks. CI (.ci/run) runs `make test` and `make test-load`.
GO ?= go
FUZZTIME ?= 20s
# Release stamping: `spike --version` shows these (see cmd/spike/version.go).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
IMAGE ?= spike:$(VERSION)

.PHONY: build image test test-load vet fmt-check fuzz bench bench-compare bench-fixed demo clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/spike ./cmd/spike

# A container image (needs a Docker engine; see the Dockerfile).
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t $(IMAGE) .

# The fast suite (a few minutes on 2 cores): tests that would send seconds of
# real-time load skip themselves under -short.
test:
	$(GO) test -race -short ./...

# Everything, the real-time load tests included (e2e runs against the example
# app, the breakpoint search on loopback, the CLI scripts that send load).
# Without -race (make test runs the same code under -race; here it would add
# 80 s to a suite that takes 12 minutes); -p 1: one package at a time, so
# that two packages' load tests never share the CPU.
test-load:
	$(GO) test -count=1 -p 1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Each fuzzer checks its own time and memory per input; ulimit -v caps the
# process too, so an input that would exhaust memory is a crash, not a hang.
fuzz:
	ulimit -v 8000000; $(GO) test -run='^$$' -fuzz=FuzzLoadScenario -fuzztime=$(FUZZTIME) ./scenarios/
	ulimit -v 8000000; $(GO) test -run='^$$' -fuzz=FuzzParseServerTiming -fuzztime=$(FUZZTIME) ./engine/
	ulimit -v 8000000; $(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./result/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# spike side by side with wrk and vegeta's CLI on this machine (loopback, ~1 min).
bench-compare:
	examples/bench/compare.sh 10

# fixed 5,000 and 10,000 req/s, 10 runs of 10 s each: did spike keep up (~4 min).
bench-fixed:
	examples/bench/fixed.sh 10 10 5000 10000

demo:
	$(GO) run ./cmd/spike demo

clean:
	rm -rf bin spike-results
