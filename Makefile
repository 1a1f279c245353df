# overcast: make run serves the AWS endpoint; make test runs every test.
GO      ?= go
BIN     := bin/overcast
# pipefail: a failing `go test` must fail the target even when piped.
SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build run test deps vet unit e2e bench generate clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/overcast

# Serves on 127.0.0.1:4566 with state in ~/.overcast (see `bin/overcast up -h`).
run: build
	./$(BIN) up

# Installs what the tests need (idempotent), then vets and runs every test:
# unit and in-process integration tests, then real-client end-to-end scripts.
test: deps vet unit e2e

deps:
	./scripts/deps.sh

vet:
	$(GO) vet ./...

# Prints failures, the conformance totals (wire protocols, OCI) and the
# passed/failed/skipped counts.
unit:
	$(GO) test -json -timeout 15m ./... | $(GO) run ./scripts/testsummary

e2e: build
	./test/e2e/run.sh

bench: build
	./bench/run.sh

# Regenerates internal/api and the protocol test shapes from the models.
generate:
	$(GO) generate ./internal/awsproto/gen

clean:
	rm -rf bin
