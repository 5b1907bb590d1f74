# The test command of README and CI. CI adds TESTFLAGS=-race and sets
# ROSTER_TEST_POSTGRES so that every store test also runs on PostgreSQL.
TESTFLAGS ?=
BENCH ?= .

.PHONY: test bench build lint

test:
	go test $(TESTFLAGS) ./...

build:
	go build -o roster ./cmd/roster

bench:
	go test -run '^$$' -bench '$(BENCH)' -benchtime 1x ./...

lint:
	test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	go vet ./...
	staticcheck ./...
