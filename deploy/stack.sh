#!/bin/sh
# The compose stack's equivalent with podman, on this machine, from Debian's packages
# alone (no registry): a Debian root file system made by mmdebstrap stands in for
# debian:bookworm-slim, the image is built from deploy/Containerfile, and the
# containers run with the host's network: a PostgreSQL of its own (TCP on loopback),
# migrate, two trainers, two api replicas, HAProxy in front (Debian's, on the host).
# Then it checks what compose would show: both replicas serve the same version, a
# request through HAProxy is answered, the leading trainer stopped hard, the other
# leads and a run requested through HAProxy is followed by both replicas.
#   deploy/stack.sh        (as root; installs podman, runc, mmdebstrap when missing)
# Prints what it saw and ends with cmocka's summary line (make check counts it): passed;
# failed, at the first thing that fails; skipped, saying why, when podman cannot run a
# container on this machine.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/deps.sh" podman runc mmdebstrap haproxy
work=$(mktemp -d /tmp/xsell-stack.XXXXXX)
chmod 755 "$work"
PODMAN="podman --runtime runc"
# this machine's limits: podman's defaults ask for more than a container may set
RUNOPTS="--network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
pg=/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -n 1)/bin
port=$((20000 + $$ % 10000))
KEY=stackadm-0001
containers=""
outcome=FAILED
cleanup() {
    rc=$?
    [ "$outcome" = FAILED ] && [ $rc -eq 0 ] && rc=1
    for c in $containers; do $PODMAN rm -f "$c" >/dev/null 2>&1 || true; done
    $PODMAN rmi -f xsell:stack >/dev/null 2>&1 || true
    $PODMAN image prune -f >/dev/null 2>&1 || true
    [ -n "${hap:-}" ] && kill "$hap" 2>/dev/null
    runuser -u postgres -- "$pg/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$work"
    echo "[  $outcome  ] 1 test(s)." | sed 's/\[  SKIPPED  \]/[  SKIPPED ]/'
    exit $rc
}
trap cleanup EXIT

if ! $PODMAN image exists xsell-base:bookworm; then
    echo "== a Debian root file system (mmdebstrap) as the base image"
    mmdebstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs.tar" \
        http://deb.debian.org/debian >"$work/mmdebstrap.log" 2>&1
    $PODMAN import "$work/rootfs.tar" xsell-base:bookworm >/dev/null
    rm -f "$work/rootfs.tar"
fi
$PODMAN tag xsell-base:bookworm docker.io/library/debian:bookworm-slim
if ! probe=$($PODMAN run --rm $RUNOPTS xsell-base:bookworm true 2>&1); then
    echo "stack: skipped: podman cannot run a container on this machine: $probe"
    outcome=SKIPPED
    exit 0
fi
echo "== the image (deploy/Containerfile)"
t0=$(date +%s)
$PODMAN build $RUNOPTS -q -f "$root/deploy/Containerfile" -t xsell:stack "$root" >/dev/null
echo "built in $(($(date +%s) - t0)) s: $($PODMAN image inspect xsell:stack --format '{{.Size}}' |
    awk '{printf "%.0f MB", $1 / 1e6}'), user $($PODMAN image inspect xsell:stack --format '{{.Config.User}}')"

echo "== PostgreSQL on 127.0.0.1:$port"
chown postgres "$work"
runuser -u postgres -- "$pg/initdb" -D "$work/pg" -U xsell --auth=trust >/dev/null
runuser -u postgres -- "$pg/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" start >/dev/null
url="postgresql://xsell@127.0.0.1:$port/postgres"

run() { # NAME ROLE LISTEN-PORT
    containers="$containers $1"
    $PODMAN run -d $RUNOPTS --name "$1" -e DATABASE_URL="$url" -e XSELL_ROLE="$2" \
        -e XSELL_LISTEN="127.0.0.1:$3" -e XSELL_API_KEYS="admin:$KEY" -e XSELL_RETRAIN_S=0 \
        -e XSELL_LOG_FORMAT=text xsell:stack >/dev/null
}
ready() { "$root/deploy/wait-ready.sh" "$1" 120; }
version() { # PORT
    curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:$1/admin/models" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["serving_version"])'
}

$PODMAN run --rm $RUNOPTS -e DATABASE_URL="$url" xsell:stack migrate >/dev/null 2>&1
"$root/build/xsell" gen "$work/demo" --seed 42 >/dev/null
$PODMAN run --rm $RUNOPTS -v "$work/demo:/data:ro,z" -e DATABASE_URL="$url" xsell:stack \
    import products /data/products.csv >/dev/null 2>&1
$PODMAN run --rm $RUNOPTS -v "$work/demo:/data:ro,z" -e DATABASE_URL="$url" xsell:stack \
    import orders /data/orders.csv >/dev/null 2>&1
echo "migrated and loaded the demo shop through the image"

run trainer1 trainer $((port + 1))
ready $((port + 1))
run trainer2 trainer $((port + 2))
run api1 api $((port + 3))
run api2 api $((port + 4))
for p in $((port + 2)) $((port + 3)) $((port + 4)); do ready $p; done
sed -e "s/^    bind :8080/    bind 127.0.0.1:$((port + 5))/" \
    -e "s/^    server api1 api1:8080/    server api1 127.0.0.1:$((port + 3))/" \
    -e "s/^    server api2 api2:8080/    server api2 127.0.0.1:$((port + 4))/" \
    -e '/^resolvers docker/,/^$/d' -e 's/ resolvers docker//' \
    "$root/deploy/haproxy.cfg" >"$work/haproxy.cfg"
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
hap=$!
ready $((port + 5))
v1=$(version $((port + 3)))
v2=$(version $((port + 4)))
echo "api1 serves version $v1, api2 version $v2"
[ "$v1" = "$v2" ]
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" \
    "http://127.0.0.1:$((port + 5))/recommend?items=P001")
echo "GET /recommend through HAProxy: $code"
[ "$code" = 200 ]

leader=trainer1
curl -s "http://127.0.0.1:$((port + 2))/metrics" | grep -q '^xsell_training_leader 1' && leader=trainer2
$PODMAN kill -s KILL "$leader" >/dev/null
echo "$leader (leading) killed"
run=$(curl -s -X POST -H "Authorization: Bearer $KEY" "http://127.0.0.1:$((port + 5))/admin/train" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["run"])')
i=0
until [ "$(version $((port + 3)))" = "$run" ] && [ "$(version $((port + 4)))" = "$run" ]; do
    i=$((i + 1))
    [ $i -lt 600 ] || { echo "stack: run $run never served by both replicas" >&2; exit 1; }
    sleep 0.1
done
echo "run $run, requested through HAProxy, trained by the other trainer and served by both replicas"
outcome=PASSED
