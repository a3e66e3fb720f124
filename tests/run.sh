#!/bin/sh
# `make check`: a throwaway PostgreSQL under /tmp, the unit and integration suites,
# then both again with the ASan+UBSan build. Ends with "N passed, N failed".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/xsell-check.XXXXXX)
chmod 755 "$tmp"
touch "$tmp/.start"
pgdir="$tmp/pg"
passed=0
failed=0
skipped=0

cleanup() {
    "$root/deploy/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export XSELL_PG_FAST=1
# Every scratch folder the suites make goes under $tmp, which cleanup removes.
export TMPDIR="$tmp"
export XSELL_SHARED_DATA="$root/../shared/data"
url_plain=$("$root/deploy/pg.sh" start "$pgdir" xsell_plain) || exit 1
url_asan=$("$root/deploy/pg.sh" start "$pgdir" xsell_asan) || exit 1
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Runs one suite, adds its cmocka counts; a suite that dies without a summary counts
# as one failure.
suite() {
    name=$1
    shift
    log="$tmp/$name.log"
    echo "== $name"
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    k=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    skipped=$((skipped + k))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "!! $name exited with $rc without a failing test: counted as one failure"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}

integration() {
    env XSELL_BIN="$1" DATABASE_URL="$2" XSELL_PG_DIR="$pgdir" XSELL_REPO="$root" \
        "$root/build/test_integration"
}

suite unit "$root/build/test_unit"
suite integration integration "$root/build/xsell" "$url_plain"
# The pages in Debian's Chromium (playwright-core and axe-core from npm).
suite browser "$root/tests/browser/run.sh" "$pgdir"
suite unit-asan "$root/build/asan/test_unit"
suite integration-asan integration "$root/build/asan/xsell" "$url_asan"
suite deploy "$root/tests/deploy/check.sh"
# The image built from deploy/Containerfile and the compose stack's equivalent run.
suite stack "$root/deploy/stack.sh"
suite fuzz-replay-asan "$root/build/asan/fuzz_replay" "$root/tests/fuzz/corpus"
# The threaded groups under ThreadSanitizer. OpenBLAS's own threads are not
# instrumented: one thread keeps its pool out of the picture.
suite unit-tsan env UNIT_GROUPS=models,sales,concurrency OPENBLAS_NUM_THREADS=1 \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" "$root/build/tsan/test_unit"

# Nothing of the run may stay behind in /tmp (everything goes under $tmp).
left=$(find /tmp -maxdepth 1 -name 'xsell-*' -newer "$tmp/.start" ! -path "$tmp" 2>/dev/null)
if [ -n "$left" ]; then
    echo "!! the suites left folders in /tmp: $left"
    failed=$((failed + 1))
fi

echo
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
