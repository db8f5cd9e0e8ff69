# tools/bench/ratios.gp — the picture of run.sh's table: per benchmark result, rt's median
# against Go's (dark bar) and the slow modes' ratio (light bar, run.sh's worst=), drawn
# from 1.0 on a log scale, so that a bar going down means rt ahead. The ratios are
# time-like: rt/Go for the lower-is-better units, Go/rt for the /s units (their labels
# say so). run.sh calls it as gnuplot -e "dat='<ratios.dat>'; out='<prefix>'; sub='<text>'"
# ratios.gp with dat's lines `<result name> <median ratio> <worst ratio>`, and it writes
# <prefix>.png and <prefix>.svg.
set title "rt vs Go 1.19, GOMAXPROCS=2 (" . sub . "): rt/Go, or Go/rt for throughput; below 1 = rt better"
set ylabel "time-like ratio rt/Go (log scale; below 1: rt better)"
set logscale y
set yrange [0.02:5]
set ytics (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)
set grid ytics
set xtics rotate by -60 left nomirror font ",9"
stats dat using 2 nooutput  # STATS_records + STATS_invalid: the bars
set xrange [-0.7:STATS_records + STATS_invalid - 0.3]
set key top left
set style fill solid 1.0 noborder
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc "black" front
set bmargin 12
set terminal pngcairo noenhanced size 1400,750 font ",10"
set output out . ".png"
# Each bar a box from 1.0 to the ratio (boxxyerror: x y xlow xhigh ylow yhigh).
plot dat using ($0 - 0.2):2:($0 - 0.4):($0):($2 < 1 ? $2 : 1):($2 < 1 ? 1 : $2):xtic(1) \
       with boxxyerror lc rgb "#2060c0" title "median ratio", \
     dat using ($0 + 0.2):3:($0):($0 + 0.4):($3 < 1 ? $3 : 1):($3 < 1 ? 1 : $3) \
       with boxxyerror lc rgb "#a0c0f0" title "worst (slow modes) ratio"
set terminal svg noenhanced size 1400,750 font ",10"
set output out . ".svg"
replot
set output
