# forecast_score.awk: sMAPE and MASE per series, averaged over series (the M3/M4
# definitions, ../shared/data/m3/README.md). Usage:
#   awk -v m=PERIOD -v label=NAME -f forecast_score.awk TRAIN.csv TEST.csv FORECASTS.csv
# TRAIN: id,values...   TEST: id,t,value   FORECASTS: xsell forecast's CSV.
# Prints: label series sMAPE MASE cover80 cover95 (the share of actual values inside
# the 80% and 95% intervals, averaged over series; -1 without intervals).
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
    if (NF >= 8) { in80[$1] += y >= $5 && y <= $6; in95[$1] += y >= $7 && y <= $8; bounds = 1 }
}
END {
    for (id in cnt) {
        S += smape[id] / cnt[id]; M += mase[id] / cnt[id]; N++
        C80 += in80[id] / cnt[id]; C95 += in95[id] / cnt[id]
    }
    printf "%s %d %.3f %.4f %.3f %.3f\n", label, N, N ? S / N : 0, N ? M / N : 0,
           bounds && N ? C80 / N : -1, bounds && N ? C95 / N : -1
}
