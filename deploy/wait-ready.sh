#!/bin/sh
# Waits until http://127.0.0.1:PORT/readyz answers 200, at most SECONDS (default
# 600); exits 1 saying so when it never does. For the scripts that start servers.
#   deploy/wait-ready.sh PORT [SECONDS]
set -eu
port=$1
tenths=$((${2:-600} * 10))
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; do
    i=$((i + 1))
    [ $i -lt $tenths ] || { echo "port $port never got ready" >&2; exit 1; }
    sleep 0.1
done
