#!/bin/sh
# Benchmarks (make bench). Figures are printed, never asserted: the machines are
# noisy, so each figure stands beside a baseline measured in the same run.
#  1. Import: `xsell import orders` of UCI Online Retail (541,907 lines) into a fresh
#     database, beside PostgreSQL's own COPY of the same file into an unindexed
#     table (the ceiling); then a re-import (idempotent: nothing new).
#  2. HTTP: wrk against GET /recommend beside GET /healthz, keep-alive.
#  3. /churn's models (build/churn_bench, no database): the CDNOW fits, 100,000
#     simulated customers, one customer's answer.
#  4. Forecasting (bench/forecast.sh, no database): M3 and M4 subsets beside the
#     published tables and R's forecast::ets (about 13 minutes of R).
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

sh "$root/bench/forecast.sh"
echo
echo "== churn: model fits and answers (build/churn_bench)"
"$root/build/churn_bench" "$root/../shared/data/cdnow/CDNOW_sample.txt"
echo

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
echo "== training on Online Retail (models after loading; evaluation off, then on)"
url=$("$root/deploy/pg.sh" url "$pgdir" imp1)
for ev in 0 28; do
    DATABASE_URL="$url" XSELL_EVAL_HOLDOUT_DAYS=$ev "$xsell" train 2>/dev/null >"$tmp/train.json"
    python3 - "$tmp/train.json" "$ev" <<'PY' 2>/dev/null || grep -o '"seconds":{[^}]*}' "$tmp/train.json"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["seconds"]
fits = ", ".join(f'{k} {v:.2f}s' for k, v in s["models"].items())
print(f'evaluation {sys.argv[2]} days: load {s["load"]:.2f}s, fit {s["fit"]:.2f}s ({fits}), evaluations {s["evaluations"]:.2f}s, total {s["total"]:.2f}s, models after load {s["total"] - s["load"]:.2f}s; snapshot {d["snapshot_bytes"] / 1e6:.1f} MB')
PY
done

echo
echo "== http: wrk, keep-alive, loopback, 64 connections, 2 threads, 8 s each, beside h2o"
for tool in wrk h2o; do
    if ! command -v $tool >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO=sudo
        $SUDO apt-get install -y -qq $tool >/dev/null 2>&1 || true
    fi
done
if ! command -v wrk >/dev/null 2>&1 || ! command -v h2o >/dev/null 2>&1; then
    echo "http: skipped: wrk or h2o is not installed and could not be"
    exit 0
fi
DATABASE_URL="$url" XSELL_API_KEYS="internal:benchkey-0001" XSELL_RATE_RPS=0 \
    XSELL_EVAL_HOLDOUT_DAYS=0 XSELL_ACCESS_LOG=false XSELL_LISTEN=127.0.0.1:18555 XSELL_THREADS=2 \
    "$xsell" serve 2>"$tmp/serve.log" &
server=$!
for _ in $(seq 1 900); do # training (with every sales forecast) comes first
    curl -sf http://127.0.0.1:18555/readyz >/dev/null 2>&1 && break
    sleep 0.2
done
# Thousands of different carts (1-3 items of real baskets) and customers.
psql -X -q -tA "$url" -c "SELECT '/recommend?items=' || string_agg(product_id, ',') || '&limit=10'
    FROM (SELECT order_id, product_id, row_number() OVER (PARTITION BY order_id ORDER BY line_no) r,
                 (abs(hashtext(order_id)) % 3) + 1 k FROM order_lines) t
    WHERE r <= k GROUP BY order_id LIMIT 5000" >"$tmp/carts.txt"
psql -X -q -tA "$url" -c "SELECT '/recommend?customer=' || customer_id || '&limit=10'
    FROM customers ORDER BY customer_id LIMIT 4000" >"$tmp/customers.txt"
psql -X -q -tA "$url" -c "SELECT '/churn?customer=' || customer_id
    FROM customers ORDER BY customer_id LIMIT 4000" >"$tmp/churn.txt"
psql -X -q -tA "$url" -c "SELECT '/forecast?item=' || product_id || '&horizon=28'
    FROM products ORDER BY product_id LIMIT 4000" >"$tmp/forecast.txt"
# h2o serves a static file the size of a typical answer (neither server writes an
# access log here: a line per request would be a write(2) per request).
mkdir -p "$tmp/www"
curl -s "http://127.0.0.1:18555$(sed -n 1p "$tmp/carts.txt")" -H "Authorization: Bearer benchkey-0001" >"$tmp/www/answer.json"
printf '/answer.json\n' >"$tmp/static.txt"
cat >"$tmp/h2o.conf" <<CONF
listen:
  host: 127.0.0.1
  port: 18556
num-threads: 2
hosts:
  default:
    paths:
      /:
        file.dir: $tmp/www
CONF
h2o -c "$tmp/h2o.conf" >"$tmp/h2o.log" 2>&1 &
h2o_pid=$!
sleep 1
bench() { # name port pathfile
    wrk -t2 -c64 -d8s -s "$root/bench/paths.lua" "http://127.0.0.1:$2" -- "$3" 2>/dev/null |
        awk -v n="$1" '/^RESULT/ {printf "%-26s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n", n, $2, $3, $4; print $2, $4 > "/dev/stderr"}'
}
bench "h2o static file ($(wc -c <"$tmp/www/answer.json") B)" 18556 "$tmp/static.txt" 2>"$tmp/h2o.res"
bench "xsell /recommend carts" 18555 "$tmp/carts.txt" 2>"$tmp/carts.res"
bench "xsell /recommend customers" 18555 "$tmp/customers.txt" 2>"$tmp/cust.res"
bench "xsell /churn customers" 18555 "$tmp/churn.txt" 2>"$tmp/churn.res"
bench "xsell /forecast products" 18555 "$tmp/forecast.txt" 2>"$tmp/forecast.res"
kill $h2o_pid 2>/dev/null
read -r h_rps h_p99 <"$tmp/h2o.res"
read -r c_rps c_p99 <"$tmp/carts.res"
read -r u_rps u_p99 <"$tmp/cust.res"
read -r k_rps k_p99 <"$tmp/churn.res"
read -r f_rps f_p99 <"$tmp/forecast.res"
awk -v hr="$h_rps" -v hp="$h_p99" -v cr="$c_rps" -v cp="$c_p99" -v ur="$u_rps" -v up="$u_p99" \
    -v kr="$k_rps" -v kp="$k_p99" -v fr="$f_rps" -v fp="$f_p99" 'BEGIN {
    printf "carts: %.2f x h2o requests/s, p99 %.2f x h2o\n", cr / hr, cp / hp;
    printf "customers: %.2f x h2o requests/s, p99 %.2f x h2o\n", ur / hr, up / hp;
    printf "churn: %.2f x h2o requests/s, p99 %.2f x h2o\n", kr / hr, kp / hp;
    printf "forecast: %.2f x h2o requests/s, p99 %.2f x h2o\n", fr / hr, fp / hp }'
curl -s http://127.0.0.1:18555/metrics | grep '^xsell_snapshot_bytes'
