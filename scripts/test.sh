#!/usr/bin/env bash
# Runs Quill's whole test suite on a fresh machine with Go installed:
# downloads the pinned modules, then runs every test (unit, conformance,
# differential and fuzz seed corpora). Services that later tests need
# (MinIO, kinesalite) are started here too when those tests exist.
set -euo pipefail
cd "$(dirname "$0")/.."

export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:--buildvcs=false}"
go mod download
go test -count=1 ./...
