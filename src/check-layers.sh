#!/bin/sh
# make check-layers: the folders under src/ are layers, and an include may only point
# down the list below (STYLE.md: models and maths know nothing of HTTP, SQL or JSON;
# handlers see a request, a snapshot and the services, never the database or the
# process's internals).
#
#   core      support and maths            may include: core
#   models    history, models, snapshot    core models
#   data      PostgreSQL, CSV, import      core models data
#   http      server, request, routing     core models http
#   handlers  one file per resource        core models http handlers
#   app       config, trainer, services    everything but cmd
#   cmd       main and one file a command  everything
#
# A header include/xsell/NAME.h belongs to the layer of src/*/NAME.c; the few
# headers without a .c are placed below. Libraries: libpq only in data and app,
# libmicrohttpd only in http_server.c, cJSON nowhere in core or models.
set -u
cd "$(dirname "$0")/.."

header_layer() {
    case "$1" in
    banned | caps | common | figures) echo core ;;
    embedded) echo core ;; # generated from sql/ and openapi.yaml
    handlers | services) echo http ;;
    app) echo app ;;
    *)
        f=$(ls src/*/"$1".c 2>/dev/null | head -n 1)
        [ -n "$f" ] && basename "$(dirname "$f")" || echo unknown
        ;;
    esac
}

allowed() { # layer -> the layers it may include
    case "$1" in
    core) echo "core" ;;
    models) echo "core models" ;;
    data) echo "core models data" ;;
    http) echo "core models http" ;;
    handlers) echo "core models http handlers" ;;
    app) echo "core models data http handlers app" ;;
    cmd) echo "core models data http handlers app cmd" ;;
    esac
}

# The layer of a file: its folder under src/, or for a header the layer of its .c.
file_layer() {
    case "$1" in
    src/*/*.c) basename "$(dirname "$1")" ;;
    include/xsell/*.h) header_layer "$(basename "$1" .h)" ;;
    esac
}

bad=0
for f in src/*/*.c include/xsell/*.h; do
    layer=$(file_layer "$f")
    if [ "$layer" = unknown ]; then
        echo "check-layers: $f has no layer (add its .c under src/LAYER/ or name it here)"
        bad=1
        continue
    fi
    ok=$(allowed "$layer")
    for inc in $(sed -n 's/^#include "xsell\/\([a-z_0-9]*\)\.h".*/\1/p' "$f"); do
        to=$(header_layer "$inc")
        # the server alone reaches the process state, to hand handlers their services
        [ "$f:$inc" = src/http/http_server.c:app ] && continue
        case " $ok " in
        *" $to "*) ;;
        *)
            echo "check-layers: $f ($layer) includes xsell/$inc.h ($to)"
            bad=1
            ;;
        esac
    done
    libs=$(sed -n 's/^#include <\(libpq-fe\|microhttpd\|cjson\/cJSON\)\.h>.*/\1/p' "$f")
    for lib in $libs; do
        case "$lib:$layer:$f" in
        libpq-fe:data:* | libpq-fe:app:* | libpq-fe:cmd:*) ;;
        microhttpd:http:src/http/http_server.c) ;;
        cjson/cJSON:http:* | cjson/cJSON:handlers:* | cjson/cJSON:data:* | cjson/cJSON:app:*) ;;
        cjson/cJSON:cmd:*) ;;
        *)
            echo "check-layers: $f ($layer) includes <$lib.h>"
            bad=1
            ;;
        esac
    done
done
# What a handler sees through every header it pulls in, as the compiler reads them:
# no libpq, no database pool, no process state, no libmicrohttpd.
for f in src/handlers/*.c; do
    seen=$(${CC:-cc} -M -D_GNU_SOURCE -Iinclude -I/usr/include/postgresql "$f" 2>&1 |
        tr ' \\' '\n\n' | grep -E 'libpq-fe\.h|microhttpd\.h|xsell/(app|db|trainer|ingest)\.h$' |
        sort -u | tr '\n' ' ')
    if [ -n "$seen" ]; then
        echo "check-layers: $f reaches $seen"
        bad=1
    fi
done
[ "$bad" -eq 0 ] && echo "check-layers: ok"
exit "$bad"
