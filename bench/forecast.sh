#!/bin/sh
# The forecasting benchmark (make bench): `xsell forecast` on all 3,003 M3 series
# (horizons and periods as ../shared/data/m3/README.md) beside the published table,
# each of its methods alone, R's forecast::ets on the same series when Debian's
# r-cran-forecast is installed, and the M4 Hourly and Weekly subsets beside the
# official M4 benchmarks. sMAPE and MASE per series, averaged; wall times.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/../shared/data"
xsell="$root/build/xsell"
score="$root/bench/forecast_score.awk"
tmp=$(mktemp -d /tmp/xsell-fc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$data/m3/m3_values.csv.gz" ]; then
    echo "forecast: skipped: $data/m3 is missing (the shared data sets sit beside the repository)"
    exit 0
fi
now() { date +%s.%N; }

# M3: per period, train as "id,values..." and test as "id,t,value"
gzip -dc "$data/m3/m3_values.csv.gz" | awk -F, -v dir="$tmp" '
    NR == 1 { next }
    $2 == "train" { if ($1 != cur) { if (cur != "") print line > (dir "/m3_" substr(cur, 1, 1) ".csv"); cur = $1; line = $1 }
                    line = line "," $4; next }
    $2 == "test" { print $1 "," $3 "," $4 > (dir "/m3_test.csv") }
    END { print line > (dir "/m3_" substr(cur, 1, 1) ".csv") }'
periods="Y:6:1 Q:8:4 M:18:12 O:8:1"
run() { # method label -> appends "label period series smape mase" and the seconds
    for p in $periods; do
        set -- $(echo "$p" | tr ':' ' ')
        t0=$(now)
        "$xsell" forecast "$tmp/m3_$1.csv" --horizon "$2" --period "$3" --method "$meth" \
            >"$tmp/fc_$1.csv" 2>/dev/null
        t1=$(now)
        awk -v m="$3" -v label="$1" -f "$score" "$tmp/m3_$1.csv" "$tmp/m3_test.csv" "$tmp/fc_$1.csv"
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "time %.2f\n", b - a }'
    done >"$tmp/res_$meth"
}
table() { # name resultfile
    awk -v name="$1" '
        $1 == "time" { secs += $2; next }
        { n[$1] = $2; s[$1] = $3; ms[$1] = $4; N += $2; S += $2 * $3; M += $2 * $4
          C80 += $2 * $5; C95 += $2 * $6 }
        END { printf "%-22s %6.2f %6.2f %6.2f %6.2f | %6.2f | %5.3f | %6.1f s", name,
                     s["Y"], s["Q"], s["M"], s["O"], S / N, M / N, secs
              if (C80 >= 0) printf " | coverage 80%% %.3f, 95%% %.3f", C80 / N, C95 / N
              printf "\n" }' "$2"
}
echo "== forecast: M3, 3,003 series; sMAPE yearly / quarterly / monthly / other | all | MASE all | time"
for meth in auto ets theta snaive; do run; done
table "xsell auto (ETS+Theta)" "$tmp/res_auto"
table "xsell ETS alone" "$tmp/res_ets"
table "xsell Theta alone" "$tmp/res_theta"
table "xsell seasonal naive" "$tmp/res_snaive"
echo "published (M3 README): THETA 16.97 8.96 13.89 4.41 | 12.76 | 1.39; ForecastPro 17.27 9.82 13.90 4.60 | 13.06 | 1.47"
if [ "${BENCH_SKIP_R:-0}" = 1 ]; then
    echo "R forecast::ets: skipped: BENCH_SKIP_R=1"
elif command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(forecast)' >/dev/null 2>&1; then
    for p in $periods; do
        set -- $(echo "$p" | tr ':' ' ')
        t0=$(now)
        Rscript "$root/bench/ets.R" "$tmp/m3_$1.csv" "$3" "$2" "$tmp/r_$1.csv" >/dev/null 2>&1
        t1=$(now)
        awk -v m="$3" -v label="$1" -f "$score" "$tmp/m3_$1.csv" "$tmp/m3_test.csv" "$tmp/r_$1.csv"
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "time %.2f\n", b - a }'
    done >"$tmp/res_r"
    table "R forecast::ets" "$tmp/res_r"
else
    echo "R forecast::ets: skipped: Rscript with the forecast package is not installed (apt-get install r-cran-forecast)"
fi

# M4 Hourly (m = 24, h = 48) and Weekly (m = 1, h = 13)
for sub in Hourly:48:24 Weekly:13:1; do
    set -- $(echo "$sub" | tr ':' ' ')
    [ -f "$data/m4/$1-train.csv.gz" ] || continue
    gzip -dc "$data/m4/$1-train.csv.gz" | awk -F, 'NR > 1 { gsub(/"/, ""); line = $1
        for (i = 2; i <= NF && $i != ""; i++) line = line "," $i; print line }' >"$tmp/m4_train.csv"
    gzip -dc "$data/m4/$1-test.csv.gz" | awk -F, 'NR > 1 { gsub(/"/, "")
        for (i = 2; i <= NF && $i != ""; i++) print $1 "," i - 1 "," $i }' >"$tmp/m4_test.csv"
    t0=$(now)
    "$xsell" forecast "$tmp/m4_train.csv" --horizon "$2" --period "$3" >"$tmp/m4_fc.csv" 2>/dev/null
    t1=$(now)
    res=$(awk -v m="$3" -v label="$1" -f "$score" "$tmp/m4_train.csv" "$tmp/m4_test.csv" "$tmp/m4_fc.csv")
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    official=$(awk -F, -v col="$1" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "sMAPE_" col) s = i; if ($i == "MASE_" col) k = i } next }
        $1 == "Theta" || $1 == "Com" || $1 == "Naive2" { printf "%s %.3f / %.3f; ", $1, $s, $k }' \
        "$data/m4/m4_point_forecast_accuracy_by_frequency.csv")
    echo "$res" | awk -v secs="$secs" -v off="$official" '{ printf "M4 %s (%d series): xsell sMAPE %.3f MASE %.3f coverage 80%% %.3f 95%% %.3f in %s s | official %s\n", $1, $2, $3, $4, $5, $6, secs, off }'
done
