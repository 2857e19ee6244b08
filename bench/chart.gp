# Bar chart of bench/run.sh: requests/s per target, drawn with Debian's gnuplot (gnuplot-nox).
#   gnuplot -e "datafile='chart.dat'; outfile='tokens.png'; subtitle='...'" bench/chart.gp
# chart.dat: one line per bar, "label" value 0xRRGGBB (written by bench/report.py).
# The y axis is logarithmic so the RS256 group (around the signing limit) and the ES256/EdDSA
# group (around the HTTP ceiling) are both readable; equal ratios are equal heights apart.
if (!exists("subtitle")) subtitle = ""
set terminal pngcairo size 1100,640 enhanced font "DejaVu Sans,11"
set output outfile
set title "client\\_credentials tokens/s on the same 2 cores (wrk -t1 -c32, keep-alive, Basic auth)\n{/*0.8 ".subtitle."}"
set style fill solid 0.85 border -1
set boxwidth 0.6
set logscale y
stats datafile using 2 nooutput
set yrange [STATS_min / 2 : STATS_max * 3]
set ylabel "requests/s, log scale (median of rounds)"
set grid ytics mytics lc rgb "#dddddd"
set xtics scale 0 font ",10"
set bmargin 5
unset key
plot datafile using 0:2:3:xtic(1) with boxes lc rgb variable, \
     ''       using 0:($2*1.12):(sprintf("%.0f", $2)) with labels font ",11"
