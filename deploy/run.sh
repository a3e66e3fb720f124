#!/bin/sh
# `make run`: a private PostgreSQL under .xsell/, migrate, demo data when the database
# is empty, train, then serve on XSELL_LISTEN (default 127.0.0.1:8080) until Ctrl-C.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
state="${XSELL_STATE_DIR:-$root/.xsell}" # the tests use a folder of their own
xsell="$root/build/xsell"
mkdir -p "$state"

DATABASE_URL=$("$root/deploy/pg.sh" start "$state/pg")
export DATABASE_URL
stop_db() { "$root/deploy/pg.sh" stop "$state/pg" || true; }
trap stop_db EXIT
trap 'exit 130' INT TERM

"$xsell" migrate
# The demo shop's history ends in late 2025, with a month-long experiment after it:
# its events are kept ten years so that they stay in the window (a real shop keeps
# XSELL_EVENTS_KEEP_DAYS' default, 90).
if [ -f "$state/demo/experiment.json" ]; then
    export XSELL_EVENTS_KEEP_DAYS="${XSELL_EVENTS_KEEP_DAYS:-3650}"
fi
lines=$(psql -X -q -tA "$DATABASE_URL" -c "SELECT count(*) FROM order_lines")
if [ "$lines" = 0 ]; then
    echo "run: the database is empty; loading a demo shop and its experiment (xsell gen)"
    "$xsell" gen "$state/demo" --experiment 28
    export XSELL_EVENTS_KEEP_DAYS="${XSELL_EVENTS_KEEP_DAYS:-3650}"
    for kind in products orders events answers; do
        "$xsell" import "$kind" "$state/demo/$kind.csv"
    done
fi

# API keys: made once, kept (mode 0600) so a second `make run` takes the same ones.
if [ ! -f "$state/keys.env" ]; then
    key() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
    umask 077
    {
        echo "XSELL_PUBLIC_KEY=$(key)"
        echo "XSELL_INTERNAL_KEY=$(key)"
        echo "XSELL_ADMIN_KEY=$(key)"
    } >"$state/keys.env"
fi
. "$state/keys.env"
export XSELL_API_KEYS="public:$XSELL_PUBLIC_KEY,internal:$XSELL_INTERNAL_KEY,admin:$XSELL_ADMIN_KEY"
export XSELL_CORS_ORIGINS="${XSELL_CORS_ORIGINS:-http://localhost:3000}"
listen="${XSELL_LISTEN:-127.0.0.1:8080}"
# The demo shop's planted elasticities: each training run scores /price against them.
if [ -f "$state/demo/truth.json" ] && [ -z "${XSELL_PRICE_TRUTH:-}" ]; then
    export XSELL_PRICE_TRUTH="$state/demo/truth.json"
fi

echo "run: training once to show the figures (the server trains again at start-up)"
"$xsell" train >"$state/train.json"
cat "$state/train.json"
echo

customer=$(psql -X -q -tA "$DATABASE_URL" -c \
    "SELECT customer_id FROM orders WHERE customer_id IS NOT NULL ORDER BY ordered_at DESC LIMIT 1")
items=$(psql -X -q -tA "$DATABASE_URL" -c \
    "SELECT string_agg(product_id, ',') FROM (SELECT product_id FROM order_lines GROUP BY product_id ORDER BY count(*) DESC LIMIT 2) t")
item=${items%%,*}
# (a psql variable, quoted by psql: the id is data, never part of the SQL text)
category=$(echo "SELECT coalesce(category, '') FROM products WHERE product_id = :'item'" |
    psql -X -q -tA -v item="$item" "$DATABASE_URL")
# Start the server first: only once it listens are the keys and examples below true
# (a port taken by another process would answer them). Its log goes to the terminal
# and to .xsell/serve.log.
: >"$state/serve.log"
XSELL_LISTEN="$listen" "$xsell" serve 2>>"$state/serve.log" &
pid=$!
tail -n +1 -f "$state/serve.log" &
tailpid=$!
trap 'kill -TERM $pid 2>/dev/null' INT TERM
stop_tail() { kill "$tailpid" 2>/dev/null || true; }
i=0
until grep -q "listening on" "$state/serve.log"; do
    if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 300 ]; then
        sleep 0.2
        stop_tail
        wait "$pid" 2>/dev/null || true
        echo "run: xsell serve did not start on $listen (see above). Is another server on" >&2
        echo "run: that port? Stop it, or choose another: XSELL_LISTEN=127.0.0.1:8081 make run" >&2
        exit 1
    fi
    i=$((i + 1))
    sleep 0.1
done
# The demo's experiment, as the simulator ran it (the same definition again is no change).
if [ -f "$state/demo/experiment.json" ]; then
    curl -fsS -o /dev/null -X PUT "http://$listen/experiments/sim" \
        -H "Authorization: Bearer $XSELL_ADMIN_KEY" -H 'Content-Type: application/json' \
        --data-binary "@$state/demo/experiment.json" ||
        echo "run: the demo's experiment could not be registered (see above)" >&2
fi
cat <<MSG

xsell serves on http://$listen  (Ctrl-C stops the server and the database)
API keys (kept in .xsell/keys.env):
  public   $XSELL_PUBLIC_KEY
  internal $XSELL_INTERNAL_KEY
  admin    $XSELL_ADMIN_KEY

In a browser:
  http://$listen/ui/       the dashboard: sign in with the internal key (the admin key for Models)
  http://$listen/ui/demo   a cart page with the widget: give it the public key
  http://$listen/docs      the API reference

Try, from another terminal:
  curl -s 'http://$listen/recommend?items=$items&limit=5' -H 'Authorization: Bearer $XSELL_PUBLIC_KEY'
  curl -s 'http://$listen/recommend?customer=$customer&limit=5' -H 'Authorization: Bearer $XSELL_PUBLIC_KEY'
  curl -s 'http://$listen/upsell?item=$item&customer=$customer' -H 'Authorization: Bearer $XSELL_PUBLIC_KEY'
  curl -s -X POST 'http://$listen/events' -H 'Authorization: Bearer $XSELL_PUBLIC_KEY' -H 'Content-Type: application/json' -d '{"event_id": "demo-view-1", "type": "view", "session_id": "s-demo", "product_id": "$item"}'
  curl -s 'http://$listen/recommend?session_id=s-demo&limit=5' -H 'Authorization: Bearer $XSELL_PUBLIC_KEY'
  curl -s 'http://$listen/experiments' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/experiments/sim/report' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/admin/attribution?from=2025-10-30&to=2025-11-27' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/churn?customer=$customer&curve=true' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/churn?limit=5' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/churn/summary' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/retention?limit=5' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/retention?customer=$customer' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/channels?from=2023-01-01' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/price?item=$item' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/price?${category:+category=$category&}limit=5' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/forecast?item=$item&horizon=7' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/forecast?${category:+category=$category&}freq=week&horizon=8' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s 'http://$listen/forecast?measure=revenue&level=50,90' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY'
  curl -s -X POST 'http://$listen/forecast' -H 'Authorization: Bearer $XSELL_INTERNAL_KEY' -H 'Content-Type: application/json' -d '{"series": [12, 15, 14, 18, 21, 19, 24, 26, 25, 29, 31, 30], "horizon": 4}'
  curl -s -X POST 'http://$listen/admin/train' -H 'Authorization: Bearer $XSELL_ADMIN_KEY'
  curl -s 'http://$listen/admin/models' -H 'Authorization: Bearer $XSELL_ADMIN_KEY'
  curl -s 'http://$listen/metrics'

MSG
wait $pid || wait $pid || true
stop_tail
