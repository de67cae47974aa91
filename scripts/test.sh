#!/usr/bin/env bash
# Runs Quill's whole test suite on a fresh machine with Go installed:
# installs Debian's awscli (for the server's CLI test), downloads the pinned
# modules, then runs every test (unit, conformance, differential, fuzz seed
# corpora, end to end). It starts the services the integration tests use
# on loopback (scripts/services.sh: MinIO, installed once per machine).
set -euo pipefail
cd "$(dirname "$0")/.."

export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:--buildvcs=false}"

# Debian's AWS CLI v2 still knows QLDB (pip's does not): the server is
# tested with it beside the Go SDK.
if [ ! -x /usr/bin/aws ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing Debian's awscli for the server's CLI test"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null
	else
		echo "note: /usr/bin/aws is missing and cannot be installed here; its test will be skipped" >&2
	fi
fi

go mod download

# MinIO (and, for the stream tests, kinesalite) on loopback; the tests
# that use them fail rather than skip when they are missing.
source scripts/services.sh
start_minio
start_kinesalite
export QUILL_TEST_REQUIRE_SERVICES=1

go test -count=1 ./...

# The benchmark peers (immudb, Tessera) live in their own module so that
# Quill's go.mod never requires immudb; their smoke test runs the harness
# with them so that the drivers cannot rot.
(cd bench/peers && go test -count=1 ./...)
