#!/bin/sh
# The hardening attacks (build/attack) against a server on the demo shop, with its
# default limits: heavy POST /forecast beside GET /recommend, one public key shared by
# shoppers and an attacker, 1,100 slow and 1,100 idle connections from one address
# while another asks /healthz; before them the read-your-writes overlay's lookup
# (build/recent_bench). Figures, never asserted. ATTACK_SECONDS (default 45) is how
# long the slow and idle sieges last.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${ATTACK_SECONDS:-45}
tmp=$(mktemp -d /tmp/xsell-attack.XXXXXX)
chmod 755 "$tmp"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    "$root/deploy/pg.sh" stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

"$root/build/recent_bench"
url=$(XSELL_PG_FAST=1 "$root/deploy/pg.sh" start "$tmp/pg" attack)
export DATABASE_URL="$url"
"$root/build/xsell" gen "$tmp/demo" --seed 42 >/dev/null
"$root/build/xsell" migrate >/dev/null 2>&1
"$root/build/xsell" import products "$tmp/demo/products.csv" >/dev/null 2>&1
"$root/build/xsell" import orders "$tmp/demo/orders.csv" >/dev/null 2>&1
# More descriptors than connections: the sieges open 1,100 and the server their peers.
ulimit -n 8192 2>/dev/null || true
XSELL_API_KEYS="public:attack-pub-1,internal:attack-int-1" XSELL_LISTEN=127.0.0.1:18570 \
    XSELL_ACCESS_LOG=false XSELL_EVAL_HOLDOUT_DAYS=0 XSELL_RETRAIN_S=0 \
    "$root/build/xsell" serve 2>"$tmp/serve.log" &
server=$!
for _ in $(seq 1 300); do
    curl -sf http://127.0.0.1:18570/readyz >/dev/null 2>&1 && break
    sleep 0.2
done
a="$root/build/attack"
# The latency comparison first: after the sieges' hundreds of thousands of refused
# connections the machine's own tail (sockets closing) blurs a p99.
"$a" heavy 18570 attack-pub-1 attack-int-1 10
"$a" sharedkey 18570 attack-pub-1 10
"$a" slow 18570 "$secs" 1100
"$a" idle 18570 "$secs" 1100
