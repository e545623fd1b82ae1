# spike — common tasks. `make test` is what CI runs (see .ci/run).
GO ?= go
FUZZTIME ?= 20s

.PHONY: build test vet fmt-check fuzz bench bench-compare bench-fixed demo clean

build:
	$(GO) build -o bin/spike ./cmd/spike

test:
	$(GO) test -race ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzLoadScenario -fuzztime=$(FUZZTIME) ./scenarios/

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
