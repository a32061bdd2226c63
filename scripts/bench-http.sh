#!/usr/bin/env bash
# HTTP load figures for the inference server, measured with wrk on loopback and printed as ratios
# against a baseline taken in the same run (GET /ping: net/http and the server's own routing, no
# prediction). Needs wrk (apt-get install wrk). Bounded: each load runs for DURATION seconds against
# 127.0.0.1 only, and the server is stopped at the end.
# Usage: scripts/bench-http.sh [DURATION=10] [CONNECTIONS=32]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
conns=${2:-32}
port=${PORT:-18080}
command -v wrk >/dev/null || { echo "bench-http: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -trimpath -o "$work/server" ./inference
"$work/server" -port "$port" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
	curl -fs "http://127.0.0.1:$port/ping" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fs "http://127.0.0.1:$port/ping" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

# A 1000-row CSV batch of iris rows for the batch figure.
awk 'BEGIN { srand(1); for (i = 0; i < 1000; i++) printf "%.1f,%.1f,%.1f,%.1f\n", 4+4*rand(), 2+2.5*rand(), 1+6*rand(), 0.1+2.4*rand() }' >"$work/batch.csv"
cat >"$work/post.lua" <<'LUA'
local body_file, content_type = os.getenv("BODY_FILE"), os.getenv("CONTENT_TYPE")
local f = assert(io.open(body_file, "rb")); local body = f:read("*a"); f:close()
wrk.method = "POST"; wrk.body = body
wrk.headers["Content-Type"] = content_type; wrk.headers["Accept"] = content_type
LUA
printf '{"instances":[[5.1,3.5,1.4,0.2]]}' >"$work/row.json"

# rps runs one load and prints its requests per second; wrk's own report goes to the log.
rps() {
	local name=$1; shift
	wrk -t2 -c"$conns" -d"${duration}s" --latency "$@" >"$work/$name.txt"
	awk '/^Requests\/sec/ { print $2 }' "$work/$name.txt"
}
p99() { awk '$1 == "99%" { print $2 }' "$work/$1.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }

base=$(rps ping "http://127.0.0.1:$port/ping")
single=$(BODY_FILE="$work/row.json" CONTENT_TYPE=application/json rps single -s "$work/post.lua" "http://127.0.0.1:$port/invocations")
batch=$(BODY_FILE="$work/batch.csv" CONTENT_TYPE=text/csv rps batch -s "$work/post.lua" "http://127.0.0.1:$port/invocations")

echo "inference server, embedded iris model, wrk -t2 -c$conns -d${duration}s on 127.0.0.1 ($(nproc) cores shared by wrk and the server)"
printf '%-34s %12s %10s %14s\n' "request" "requests/s" "p99" "vs GET /ping"
printf '%-34s %12.0f %10s %14s\n' "GET /ping (baseline)" "$base" "$(p99 ping)" "1.00"
printf '%-34s %12.0f %10s %14.2f\n' "POST 1-row JSON" "$single" "$(p99 single)" "$(ratio "$single" "$base")"
printf '%-34s %12.0f %10s %14.2f\n' "POST 1000-row CSV" "$batch" "$(p99 batch)" "$(ratio "$batch" "$base")"
printf '%-34s %12.0f\n' "rows/s in 1000-row CSV batches" "$(awk -v b="$batch" 'BEGIN { print b * 1000 }')"
