#!/bin/sh
# Benchmarks (make bench). Figures are printed, never asserted: the machines are
# noisy, so each figure stands beside a baseline measured in the same run.
#  1. Import: `xsell import orders` of UCI Online Retail (541,907 lines) into a fresh
#     database, beside PostgreSQL's own COPY of the same file into an unindexed
#     table (the ceiling); then a re-import (idempotent: nothing new).
#  2. HTTP: wrk against GET /recommend beside GET /healthz, keep-alive.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/../shared/data/online_retail/online_retail.csv.gz"
tmp=$(mktemp -d /tmp/xsell-bench.XXXXXX)
chmod 755 "$tmp"
pgdir="$tmp/pg"
xsell="$root/build/xsell"
runs=${BENCH_RUNS:-3}
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    "$root/deploy/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -f "$data" ]; then
    echo "bench: skipped: $data is missing (the shared data sets sit beside the repository)"
    exit 0
fi
"$root/deploy/pg.sh" start "$pgdir" postgres >/dev/null

echo "== import: UCI Online Retail"
gzip -dc "$data" | "$root/build/retail2csv" "$tmp/products.csv" >"$tmp/orders.csv"
lines=$(($(wc -l <"$tmp/orders.csv") - 1))
for i in $(seq 1 "$runs"); do
    db="imp$i"
    url=$("$root/deploy/pg.sh" start "$pgdir" "$db")
    DATABASE_URL="$url" "$xsell" migrate >/dev/null 2>&1
    DATABASE_URL="$url" "$xsell" import products "$tmp/products.csv" >/dev/null
    # The ceiling: PostgreSQL's COPY of the same CSV into a table with no key.
    psql -X -q "$url" -c "CREATE TABLE raw (order_id text, customer_id text, ordered_at timestamptz, product_id text, quantity int, unit_price numeric)"
    psql -X -q "$url" -c "CHECKPOINT" # no checkpoint of an earlier run inside the timings
    t0=$(date +%s.%N)
    psql -X -q "$url" -c "\\copy raw FROM '$tmp/orders.csv' WITH (FORMAT csv, HEADER true)"
    psql -X -q "$url" -c "CHECKPOINT"
    t1=$(date +%s.%N)
    DATABASE_URL="$url" "$xsell" import orders "$tmp/orders.csv" >"$tmp/import.out"
    t2=$(date +%s.%N)
    DATABASE_URL="$url" "$xsell" import orders "$tmp/orders.csv" >"$tmp/reimport.out"
    t3=$(date +%s.%N)
    awk -v n="$lines" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v i="$i" 'BEGIN {
        raw = b - a; imp = c - b; re = d - c;
        printf "run %d: xsell import %.2fs = %.0f lines/s | raw COPY %.2fs = %.0f lines/s | xsell/raw %.2f | re-import %.2fs = %.0f lines/s\n",
               i, imp, n / imp, raw, n / raw, raw / imp, re, n / re }'
done
grep -o "[0-9]* orders created.*" "$tmp/import.out"
grep -o "[0-9]* orders created.*" "$tmp/reimport.out"

echo
echo "== http: wrk, keep-alive, 2 threads, 64 connections, 5 s each"
if ! command -v wrk >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || true
fi
if ! command -v wrk >/dev/null 2>&1; then
    echo "http: skipped: wrk is not installed and could not be"
    exit 0
fi
url=$("$root/deploy/pg.sh" url "$pgdir" imp1)
DATABASE_URL="$url" XSELL_API_KEYS="public:benchkey-0001" XSELL_RATE_RPS=0 \
    XSELL_LISTEN=127.0.0.1:18555 XSELL_THREADS=2 "$xsell" serve 2>"$tmp/serve.log" &
server=$!
for _ in $(seq 1 100); do
    curl -sf http://127.0.0.1:18555/readyz >/dev/null 2>&1 && break
    sleep 0.2
done
for path in /healthz "/recommend?items=85123A,71053&limit=10"; do
    wrk -t2 -c64 -d5s -H "Authorization: Bearer benchkey-0001" "http://127.0.0.1:18555$path" |
        awk -v p="$path" '/Requests\/sec/ {r=$2} /Latency/ {l=$2} END {printf "%-45s %10s req/s  mean latency %s\n", p, r, l}'
done
