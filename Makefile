# spike — common tasks. `make test` is what CI runs (see .ci/run).
GO ?= go
FUZZTIME ?= 20s

.PHONY: build test vet fmt-check fuzz bench demo clean

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

demo:
	$(GO) run ./cmd/spike demo

clean:
	rm -rf bin spike-results
