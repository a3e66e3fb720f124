#!/bin/sh
# make bench-replicas: xsell as more than one process (README, "More than one
# process"). Figures are printed, never asserted.
#  1. Persisted snapshots, on UCI Online Retail (../shared/data) and on a generated
#     shop (SNAP_LINES lines, default 5M, as make bench-scale's): a process of role
#     all trains and stores the snapshot (the file's bytes, the save and the store
#     from its log); then an api process starts on an empty cache (fetched from the
#     database and mapped) and again on the filled cache: its readiness after start.
#  2. Replicas behind HAProxy (Debian's) on Online Retail: wrk against GET /recommend
#     through HAProxy with one api replica, then with two, in the same run (both
#     HAProxy setups up at once, measured one after the other).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/../shared/data/online_retail/online_retail.csv.gz"
xsell=${XSELL_BIN:-"$root/build/xsell"}
lines=${SNAP_LINES:-5000000}
"$root/deploy/deps.sh" wrk haproxy
tmp=$(mktemp -d /tmp/xsell-replicas.XXXXXX)
chmod 755 "$tmp"
pgdir="$tmp/pg"
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    "$root/deploy/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
"$root/deploy/pg.sh" start "$pgdir" postgres >/dev/null
KEY=benchadm-0001
port=18600

# serve NAME URL PORT [VAR=VALUE...]: starts xsell serve in the background, its log
# in $tmp/NAME.log and its pid in $pid.
serve() {
    s_log=$1 s_url=$2 s_port=$3
    shift 3
    env DATABASE_URL="$s_url" XSELL_LISTEN="127.0.0.1:$s_port" XSELL_API_KEYS="admin:$KEY" \
        XSELL_ACCESS_LOG=false XSELL_RATE_RPS=0 XSELL_RETRAIN_S=0 XSELL_EVAL_HOLDOUT_DAYS=0 \
        "$@" "$xsell" serve >"$tmp/$s_log.log" 2>&1 &
    pid=$!
    pids="$pids $pid"
}

ready() { "$root/deploy/wait-ready.sh" "$1"; }

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# snapshots NAME URL: the persistence figures of one shop.
snapshots() {
    name=$1 shop_url=$2
    serve "$name-train" "$shop_url" $port XSELL_SNAPSHOT_DIR="$tmp/cache-train"
    trainer=$pid
    i=0
    until grep -q "snapshots: version .* stored" "$tmp/$name-train.log"; do
        i=$((i + 1))
        [ $i -lt 12000 ] || { echo "bench: $name never stored a snapshot" >&2; exit 1; }
        sleep 0.1
    done
    stop $trainer
    grep -o "snapshots: version .* stored.*" "$tmp/$name-train.log"
    for cache in empty filled; do
        t0=$(date +%s.%N)
        serve "$name-api-$cache" "$shop_url" $((port + 1)) XSELL_ROLE=api \
            XSELL_SNAPSHOT_DIR="$tmp/cache-api-$name"
        ready $((port + 1))
        t1=$(date +%s.%N)
        rss=$(awk '/^RssAnon/ {a = $2} /^RssFile/ {f = $2} END {
            printf "%.0f MB of its own, %.0f MB of file pages: the snapshot, the binary, its libraries", a / 1024, f / 1024 }' "/proc/$pid/status")
        stop $pid
        awk -v a="$t0" -v b="$t1" -v c="$cache" -v r="$rss" 'BEGIN {
            printf "api process, %s cache: ready %.2f s after start (%s)\n", c, b - a, r }'
        grep -o "snapshots: serving the stored.*" "$tmp/$name-api-$cache.log"
    done
}

if [ -f "$data" ]; then
    echo "== Online Retail: persisted snapshots"
    url=$("$root/deploy/pg.sh" start "$pgdir" retail)
    DATABASE_URL="$url" "$xsell" migrate >/dev/null 2>&1
    gzip -dc "$data" | "$root/build/retail2csv" "$tmp/products.csv" >"$tmp/orders.csv"
    DATABASE_URL="$url" "$xsell" import products "$tmp/products.csv" >/dev/null 2>&1
    DATABASE_URL="$url" "$xsell" import orders "$tmp/orders.csv" >/dev/null 2>&1
    snapshots retail "$url"

    echo
    echo "== Online Retail: GET /recommend through HAProxy, one api replica, then two"
    serve r1 "$url" $((port + 2)) XSELL_ROLE=api XSELL_SNAPSHOT_DIR="$tmp/cache-r1"
    serve r2 "$url" $((port + 3)) XSELL_ROLE=api XSELL_SNAPSHOT_DIR="$tmp/cache-r2"
    ready $((port + 2))
    ready $((port + 3))
    for n in 1 2; do
        {
            printf 'defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n'
            printf '  timeout server 30s\n  retries 3\n  option redispatch 1\n'
            printf 'frontend shop\n  bind 127.0.0.1:%d\n  default_backend api\n' $((port + 10 + n))
            printf 'backend api\n  balance roundrobin\n  option httpchk GET /readyz\n'
            printf '  server r1 127.0.0.1:%d check\n' $((port + 2))
            [ $n = 1 ] || printf '  server r2 127.0.0.1:%d check\n' $((port + 3))
        } >"$tmp/haproxy$n.cfg"
        haproxy -db -f "$tmp/haproxy$n.cfg" >"$tmp/haproxy$n.log" 2>&1 &
        pids="$pids $!"
        ready $((port + 10 + n))
    done
    item=$(psql -X -A -t "$url" -c "SELECT product_id FROM order_lines GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    for n in 1 2; do
        wrk -t2 -c32 -d10s -H "Authorization: Bearer $KEY" \
            "http://127.0.0.1:$((port + 10 + n))/recommend?items=$item" >"$tmp/wrk$n.txt"
    done
    awk '/Requests\/sec/ {r[FILENAME] = $2} END {
        one = r[ARGV[1]]; two = r[ARGV[2]];
        printf "one replica %.0f req/s, two replicas %.0f req/s, two / one %.2f (HAProxy, wrk and\n", one, two, two / one
        printf "the replicas share the same two cores)\n" }' "$tmp/wrk1.txt" "$tmp/wrk2.txt"
else
    echo "bench: Online Retail skipped: $data is missing (the shared data sets sit beside the repository)"
fi

echo
echo "== a generated shop of $lines lines: persisted snapshots"
products=$((lines / 100))
customers=$((lines / 20))
"$xsell" gen "$tmp/gen" --lines "$lines" --products $products --customers $customers --seed 7 \
    >/dev/null
url=$("$root/deploy/pg.sh" start "$pgdir" generated)
DATABASE_URL="$url" "$xsell" migrate >/dev/null 2>&1
DATABASE_URL="$url" "$xsell" import products "$tmp/gen/products.csv" >/dev/null 2>&1
DATABASE_URL="$url" "$xsell" import orders "$tmp/gen/orders.csv" >/dev/null 2>&1
rm -f "$tmp/gen/orders.csv"
snapshots generated "$url"
