# forecast_score.awk: sMAPE and MASE per series, averaged over series (the M3/M4
# definitions, ../shared/data/m3/README.md). Usage:
#   awk -v m=PERIOD -v label=NAME -f forecast_score.awk TRAIN.csv TEST.csv FORECASTS.csv
# TRAIN: id,values...   TEST: id,t,value   FORECASTS: xsell forecast's CSV.
# Prints: label series sMAPE MASE
BEGIN { FS = "," }
FILENAME == ARGV[1] {
    s = 0; k = 0
    for (i = 2 + m; i <= NF; i++) { d = $i - $(i - m); s += d < 0 ? -d : d; k++ }
    scale[$1] = k ? s / k : 1; next
}
FILENAME == ARGV[2] { test[$1 "," $2] = $3; next }
FNR > 1 {
    if (match($0, /"[^"]*"/)) $0 = substr($0, 1, RSTART - 1) "m" substr($0, RSTART + RLENGTH)
    y = test[$1 "," $3]; if (y == "") next
    f = $4; d = y > f ? y - f : f - y; den = (y < 0 ? -y : y) + (f < 0 ? -f : f)
    smape[$1] += den > 0 ? 200 * d / den : 0; mase[$1] += scale[$1] > 0 ? d / scale[$1] : 0; cnt[$1]++
}
END {
    for (id in cnt) { S += smape[id] / cnt[id]; M += mase[id] / cnt[id]; N++ }
    printf "%s %d %.3f %.4f\n", label, N, N ? S / N : 0, N ? M / N : 0
}
