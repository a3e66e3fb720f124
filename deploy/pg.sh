#!/bin/sh
# A private PostgreSQL cluster in a folder: unix socket only, no TCP port.
#   deploy/pg.sh start DIR [DBNAME]  init if new, start, create DBNAME (default xsell);
#                                    prints the DATABASE_URL on stdout
#   deploy/pg.sh stop DIR            fast, clean shutdown
#   deploy/pg.sh url DIR [DBNAME]    the DATABASE_URL
#   deploy/pg.sh drop DIR            stop, and remove the cluster's files
#   deploy/pg.sh standby DIR SOCKET  a streaming replica (hot standby) of the cluster
#                                    whose socket folder is SOCKET, made and started
#                                    in DIR (pg_basebackup -R, a fast checkpoint
#                                    first); `url DIR DB` names it
# PostgreSQL refuses to run as root: as root, the cluster belongs to the unprivileged
# "postgres" user (from Debian's postgresql package) and commands run through runuser.
set -eu
cmd=${1:-}
dir=${2:-}
db=${3:-xsell}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|url DIR [DBNAME]" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# As root the cluster belongs to "postgres", which must be able to enter every folder
# above it: a checkout under /root (mode 700) is not. Such a cluster lives under
# /var/lib/xsell-pg instead, in a folder named after DIR (the same one each time).
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/xsell-pg --no-create-home postgres
    if ! runuser -u postgres -- test -x "$dir"; then
        alt="/var/lib/xsell-pg/$(printf %s "$dir" | md5sum | cut -c1-16)"
        mkdir -p "$alt"
        chmod 755 /var/lib/xsell-pg
        [ "$cmd" = start ] &&
            echo "pg.sh: the postgres user cannot enter $dir; the cluster lives in $alt" >&2
        dir="$alt"
    fi
fi
data="$dir/data"
sock="$dir/run"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || { echo "pg.sh: PostgreSQL server binaries not found (make deps)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() { echo "host=$sock dbname=$1 user=xsell"; }

case "$cmd" in
start)
    mkdir -p "$sock"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir" "$sock"
        [ -d "$data" ] && chown -R postgres "$data"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$data" -U xsell --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
CONF
        [ "${XSELL_PG_FAST:-}" = 1 ] && printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$data/postgresql.conf"
    fi
    if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        # setsid: a Ctrl-C meant for the server in front must not reach PostgreSQL;
        # stop is orderly, from our own trap.
        as_owner setsid "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 start >/dev/null ||
            { tail -n 20 "$dir/postgres.log" >&2; exit 1; }
    fi
    if ! "$bin/psql" -X -q -h "$sock" -U xsell -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        "$bin/psql" -X -q -h "$sock" -U xsell -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
    fi
    url "$db"
    ;;
standby)
    primary_sock=$db
    mkdir -p "$sock"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir" "$sock"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$bin/pg_basebackup" -h "$primary_sock" -U xsell -D "$data" -R -X stream -c fast \
            >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
        echo "unix_socket_directories = '$sock'" >>"$data/postgresql.conf"
    fi
    if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner setsid "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 start >/dev/null ||
            { tail -n 20 "$dir/postgres.log" >&2; exit 1; }
    fi
    ;;
stop)
    if [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    ;;
url)
    url "$db"
    ;;
drop)
    if [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    rm -rf "$data" "$sock" "$dir/postgres.log" "$dir/initdb.log" "$dir/basebackup.log"
    ;;
*)
    echo "usage: $0 start|stop|drop|url DIR [DBNAME] | standby DIR SOCKET" >&2
    exit 2
    ;;
esac
