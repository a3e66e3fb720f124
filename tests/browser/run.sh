#!/bin/sh
# The pages in a real browser: a demo shop on its own database, xsell serving it, and
# ui.test.mjs driving Debian's Chromium through playwright-core (npm, pinned in
# package.json, installed under build/browser).
# Usage: tests/browser/run.sh PG_DIR (make check passes its own cluster).
# Prints cmocka-style counts for tests/run.sh; screenshots go to build/screenshots/.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
pgdir=$1
bin=${XSELL_BIN:-$root/build/xsell}
work=$(mktemp -d "${TMPDIR:-/tmp}/xsell-browser.XXXXXX")
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# Debian's Chromium and Node.js, installed when missing (as tests/deploy does)
[ -x /usr/bin/chromium ] || "$root/deploy/deps.sh" chromium
command -v node >/dev/null && command -v npm >/dev/null || "$root/deploy/deps.sh" nodejs npm
# the npm packages under build/, installed again when package.json changes
dir="$root/build/browser"
mkdir -p "$dir"
if ! cmp -s "$root/tests/browser/package.json" "$dir/package.json" || [ ! -d "$dir/node_modules" ]; then
    cp "$root/tests/browser/package.json" "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --silent >/dev/null) || echo "browser: npm install failed"
fi
cp "$root/tests/browser/ui.test.mjs" "$dir/ui.test.mjs"

url=$("$root/deploy/pg.sh" start "$pgdir" xsell_browser)
# The demo shop with its simulated experiment (run in late 2025: the events are kept
# for ten years so that they stay in the window).
export XSELL_EVENTS_KEEP_DAYS=3650
"$bin" gen "$work/shop" --seed 42 --experiment 28 >/dev/null
# A product whose name is markup: the pages must show it as text.
hostile='<img src=x onerror=window.xssRan=1> Filters'
sed -i "s/^P004,[^,]*,/P004,$hostile,/" "$work/shop/products.csv"
grep -q "^P004,<img" "$work/shop/products.csv"
DATABASE_URL=$url "$bin" migrate >/dev/null 2>&1
for kind in products orders events answers; do
    DATABASE_URL=$url "$bin" import "$kind" "$work/shop/$kind.csv" >/dev/null
done

port=$(node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
env DATABASE_URL="$url" XSELL_LISTEN="127.0.0.1:$port" \
    XSELL_API_KEYS="public:pub-browser,internal:int-browser,admin:adm-browser" \
    XSELL_SNAPSHOT_DIR="$work/snapshots" XSELL_RETRAIN_S=0 "$bin" serve >"$work/serve.log" 2>&1 &
pid=$!
i=0
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 600 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "browser: the server did not become ready"
        tail -20 "$work/serve.log"
        echo "[  FAILED  ] 1 test(s)"
        exit 1
    fi
    sleep 0.2
done
# The experiment the simulator ran, and one whose id and variant names are markup.
put() {
    curl -fsS -X PUT -H "Authorization: Bearer adm-browser" -H "Content-Type: application/json" \
        --data-binary "$2" "http://127.0.0.1:$port/experiments/$1" >/dev/null
}
put sim "@$work/shop/experiment.json"
put "%3Cimg%20src%3Dx%20onerror%3Dwindow.xssRan%3D1%3E" '{"unit": "session", "surfaces": ["upsell"],
  "start": "2025-10-01T00:00:00Z", "end": "2025-10-05T00:00:00Z", "variants": [
  {"name": "<b>control</b>", "weight": 1}, {"name": "<img src=x onerror=window.xssRan=1>", "weight": 1,
   "settings": {"strategy": "popular"}}]}'
mkdir -p "$root/build/screenshots"
XSELL_URL="http://127.0.0.1:$port" SCREENSHOTS="$root/build/screenshots" \
    node "$dir/ui.test.mjs"
