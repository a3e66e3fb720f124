#!/bin/sh
# make check's look at deploy/: each file checked by a real tool, one "test" a file.
#  - the container file, the Kubernetes manifests and the compose file by
#    tests/deploy/validate.mjs (npm packages pinned in tests/deploy/package.json,
#    installed once under build/deploy-check);
#  - deploy/haproxy.cfg by `haproxy -c`;
#  - deploy/xsell.service by `systemd-analyze verify` where systemd is installed
#    (a copy whose ExecStart names the binary just built).
# Ends with cmocka's summary lines, which tests/run.sh counts.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/build/deploy-check"
passed=0
failed=0
skipped=0
count() { # status: the line's outcome
    case "$1" in
    0) passed=$((passed + 1)) ;;
    skip) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)) ;;
    esac
}
command -v node >/dev/null && command -v npm >/dev/null || "$root/deploy/deps.sh" nodejs npm
mkdir -p "$dir"
if ! cmp -s "$root/tests/deploy/package.json" "$dir/package.json" || [ ! -d "$dir/node_modules" ]; then
    cp "$root/tests/deploy/package.json" "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --silent >/dev/null) || echo "npm install failed"
fi
cp "$root/tests/deploy/validate.mjs" "$dir/validate.mjs"
node "$dir/validate.mjs" "$root" >"$dir/validate.out" 2>&1
cat "$dir/validate.out"
n=$(grep -c ': valid$' "$dir/validate.out")
passed=$((passed + n))
[ "$n" -eq 3 ] || failed=$((failed + 3 - n))

if haproxy -c -q -f "$root/deploy/haproxy.cfg"; then
    echo "deploy/haproxy.cfg: valid (haproxy -c)"
    count 0
else
    count 1
fi

if command -v systemd-analyze >/dev/null; then
    unit="$dir/xsell.service"
    sed "s|^ExecStart=/usr/local/bin/xsell|ExecStart=$root/build/xsell|" "$root/deploy/xsell.service" >"$unit"
    out=$(systemd-analyze verify "$unit" 2>&1 | grep -v -e "EnvironmentFile" -e "^$")
    if [ -n "$out" ]; then
        echo "deploy/xsell.service: $out"
        count 1
    else
        echo "deploy/xsell.service: valid (systemd-analyze verify)"
        count 0
    fi
else
    echo "deploy/xsell.service: skipped: systemd-analyze is not installed"
    count skip
fi
echo "[  PASSED  ] $passed test(s)."
[ "$failed" -eq 0 ] || echo "[  FAILED  ] $failed test(s)."
[ "$skipped" -eq 0 ] || echo "[  SKIPPED ] $skipped test(s)."
[ "$failed" -eq 0 ]
