#!/bin/sh
# Event ingest (make bench-events; also in make bench): POST /events with batches of
# 100 events on the demo shop, alone and side by side with GET /recommend, beside
# /recommend alone. Figures printed, never asserted. PostgreSQL with its durable
# defaults (fsync, synchronous commit): an answered batch is on disk.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/xsell-bench-events.XXXXXX)
chmod 755 "$tmp"
pgdir="$tmp/pg"
xsell="$root/build/xsell"
secs=${BENCH_EVENTS_S:-10}
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    "$root/deploy/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
"$root/deploy/deps.sh" wrk
url=$("$root/deploy/pg.sh" start "$pgdir" events)
"$xsell" gen "$tmp/shop" --customers 3000 >/dev/null
DATABASE_URL="$url" "$xsell" migrate >/dev/null
DATABASE_URL="$url" "$xsell" import products "$tmp/shop/products.csv" >/dev/null
DATABASE_URL="$url" "$xsell" import orders "$tmp/shop/orders.csv" >/dev/null
DATABASE_URL="$url" XSELL_API_KEYS="public:benchkey-0001" XSELL_RATE_RPS=0 XSELL_TUNE=0 \
    XSELL_EVAL_HOLDOUT_DAYS=0 XSELL_ACCESS_LOG=false XSELL_LISTEN=127.0.0.1:18575 \
    "$xsell" serve 2>"$tmp/serve.log" &
server=$!
for _ in $(seq 1 600); do
    curl -sf http://127.0.0.1:18575/readyz >/dev/null 2>&1 && break
    sleep 0.2
done
psql -X -q -tA "$url" -c "SELECT '/recommend?items=' || string_agg(product_id, ',') || '&limit=10'
    FROM (SELECT order_id, product_id, row_number() OVER (PARTITION BY order_id ORDER BY line_no) r,
                 (abs(hashtext(order_id)) % 3) + 1 k FROM order_lines) t
    WHERE r <= k GROUP BY order_id LIMIT 5000" >"$tmp/carts.txt"
load() { # script argument out: wrk, 1 thread, 16 connections
    wrk -t1 -c16 -d"${secs}s" -s "$root/bench/$1" http://127.0.0.1:18575 -- "$2" 2>/dev/null |
        grep '^RESULT' >"$3"
}
echo "== events: POST /events, batches of 100, 16 connections, ${secs} s each"
load paths.lua "$tmp/carts.txt" "$tmp/rec_alone"
load events.lua - "$tmp/ev_alone"
load paths.lua "$tmp/carts.txt" "$tmp/rec_beside" &
beside=$!
load events.lua - "$tmp/ev_beside"
wait "$beside"
stored=$(psql -X -q -tA "$url" -c "SELECT count(*) FROM events")
read -r _ ra_rps ra_p50 ra_p99 <"$tmp/rec_alone"
read -r _ ea_eps ea_p50 ea_p99 ea_err <"$tmp/ev_alone"
read -r _ rb_rps rb_p50 rb_p99 <"$tmp/rec_beside"
read -r _ eb_eps eb_p50 eb_p99 eb_err <"$tmp/ev_beside"
awk -v ra="$ra_rps" -v ra9="$ra_p99" -v ea="$ea_eps" -v ea5="$ea_p50" -v ea9="$ea_p99" \
    -v ee="$ea_err" -v rb="$rb_rps" -v rb9="$rb_p99" -v eb="$eb_eps" -v eb5="$eb_p50" \
    -v eb9="$eb_p99" -v be="$eb_err" -v n="$stored" 'BEGIN {
    printf "/recommend alone          %8.0f req/s     p99 %6.2f ms\n", ra, ra9;
    printf "/events alone             %8.0f events/s  p50 %6.2f ms  p99 %6.2f ms  (%d failed)\n", ea, ea5, ea9, ee;
    printf "/events beside /recommend %8.0f events/s  p50 %6.2f ms  p99 %6.2f ms  (%d failed)\n", eb, eb5, eb9, be;
    printf "/recommend beside /events %8.0f req/s     p99 %6.2f ms\n", rb, rb9;
    printf "beside / alone: events %.2f, /recommend %.2f; events stored %d\n", eb / ea, rb / ra, n }'
