# The commands of README and CI. CI adds TESTFLAGS=-race and sets
# ROSTER_TEST_POSTGRES so that every store test also runs on PostgreSQL.
TESTFLAGS ?=
BENCH ?= .
ARGS ?=

# Roster is built with this Go release (go.mod says the same): earlier ones
# have standard-library vulnerabilities reachable from our code. Any go
# command of 1.21 or later fetches it from the module proxy. Its own bin/
# goes first on PATH so that gofmt and the go/packages tools (staticcheck,
# govulncheck) see this release too, not the one installed.
GO_RELEASE := go1.27.3
export GOTOOLCHAIN := $(GO_RELEASE)
export PATH := $(shell GOTOOLCHAIN=$(GO_RELEASE) go env GOROOT)/bin:$(PATH)

STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.10.0
# The vulnerability database is built from this version of the
# golang.org/x/vulndb module (its data/osv files), since only the module
# proxy is reachable; `make vulncheck VULNDB_VERSION=latest` takes the newest.
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
VULNDB_DIR ?= $(CURDIR)/.vulndb

.PHONY: demo test bench build lint vulncheck

demo:
	go run ./cmd/roster demo $(ARGS)

test:
	go test $(TESTFLAGS) ./...

build:
	go build -o roster ./cmd/roster

bench:
	go test -run '^$$' -bench '$(BENCH)' -benchtime 1x ./...

lint:
	test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

vulncheck:
	rm -rf '$(VULNDB_DIR)'
	osv="$$(go mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p')/data/osv" && \
	go run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$osv" -out '$(VULNDB_DIR)'
	go run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db 'file://$(VULNDB_DIR)' ./...
