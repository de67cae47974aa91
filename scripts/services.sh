#!/usr/bin/env bash
# Sourced by scripts/test.sh: installs (once per machine, cached) and starts
# the services the integration tests use, on loopback only, and exports
# their endpoints. Everything it starts is stopped when the calling shell
# exits.
#
#   MinIO (S3)          go install of a pinned MinIO into ${XDG_CACHE_HOME:-~/.cache}/quill/bin
#   kinesalite (Kinesis) and aws-kinesis-agg (the tests' de-aggregator): npm, pinned, into
#                        ${XDG_CACHE_HOME:-~/.cache}/quill/node

QUILL_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/quill"
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
NODE_PACKAGES="kinesalite@3.3.3 aws-kinesis-agg@4.2.8 amazon-qldb-driver-nodejs@3.1.0 @aws-sdk/client-qldb-session@3.918.0 @aws-sdk/client-qldb@3.918.0 ion-js@5.2.1 jsbi@3.2.5"
SERVICES_DIR=$(mktemp -d)
SERVICE_PIDS=()

stop_services() {
	for pid in "${SERVICE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${SERVICE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$SERVICES_DIR"
}
trap stop_services EXIT

# free_port prints a loopback port nothing listens on.
free_port() {
	local port
	for port in $(shuf -i 20000-40000 -n 50); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	echo "no free port found" >&2
	return 1
}

# wait_for_port PORT: until something listens on it, at most 60 s.
wait_for_port() {
	local port=$1 i
	for i in $(seq 600); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on port $port" >&2
	return 1
}

# wait_for URL: until it answers, at most 60 s.
wait_for() {
	local url=$1 i
	for i in $(seq 600); do
		curl -sf -o /dev/null "$url" && return 0
		sleep 0.1
	done
	echo "$url did not come up" >&2
	return 1
}

start_minio() {
	local bin="$QUILL_CACHE/bin/minio"
	if [ ! -x "$bin" ] || ! grep -q "$MINIO_VERSION" "$QUILL_CACHE/minio.version" 2>/dev/null; then
		echo "installing MinIO $MINIO_VERSION into $QUILL_CACHE/bin (a few minutes, once per machine)"
		mkdir -p "$QUILL_CACHE/bin"
		GOBIN="$QUILL_CACHE/bin" go install "github.com/minio/minio@$MINIO_VERSION"
		echo "$MINIO_VERSION" >"$QUILL_CACHE/minio.version"
	fi
	local port console
	port=$(free_port)
	console=$(free_port)
	# A static KMS key lets MinIO serve SSE-S3 and SSE-KMS requests.
	MINIO_ROOT_USER=minioadmin MINIO_ROOT_PASSWORD=minioadmin123 MINIO_UPDATE=off MINIO_BROWSER=off \
		MINIO_KMS_SECRET_KEY="quill-test-key:$(head -c 32 /dev/urandom | base64)" \
		"$bin" server "$SERVICES_DIR/minio" --address "127.0.0.1:$port" --console-address "127.0.0.1:$console" --quiet \
		>"$SERVICES_DIR/minio.log" 2>&1 &
	SERVICE_PIDS+=($!)
	if ! wait_for "http://127.0.0.1:$port/minio/health/live"; then
		cat "$SERVICES_DIR/minio.log" >&2
		return 1
	fi
	export QUILL_TEST_S3_ENDPOINT="http://127.0.0.1:$port" QUILL_TEST_S3_KMS_KEY=quill-test-key
	echo "MinIO on $QUILL_TEST_S3_ENDPOINT"
}

start_kinesalite() {
	local modules="$QUILL_CACHE/node"
	if ! grep -qx "$NODE_PACKAGES" "$modules/packages.version" 2>/dev/null; then
		echo "installing $NODE_PACKAGES into $modules"
		mkdir -p "$modules"
		# shellcheck disable=SC2086 # the list is words on purpose
		npm install --prefix "$modules" --no-audit --no-fund --silent $NODE_PACKAGES
		echo "$NODE_PACKAGES" >"$modules/packages.version"
	fi
	local port
	port=$(free_port)
	NODE_PATH="$modules/node_modules" node internal/testenv/kinesalite.js "$port" >"$SERVICES_DIR/kinesalite.log" 2>&1 &
	SERVICE_PIDS+=($!)
	if ! wait_for_port "$port"; then
		cat "$SERVICES_DIR/kinesalite.log" >&2
		return 1
	fi
	export QUILL_TEST_KINESIS_ENDPOINT="http://127.0.0.1:$port" QUILL_TEST_NODE_PATH="$modules/node_modules"
	echo "kinesalite on $QUILL_TEST_KINESIS_ENDPOINT"
}
