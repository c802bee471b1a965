# A year of timestamped rows for the drift tests: `when` spread evenly
# over the year given as -v year=Y (any hour), x drawn alone, and y from
# x only, so that only the timestamp's place in time moves between years.
# -v seed=S.
function pad(v) { return v < 10 ? "0" v : v }
BEGIN {
	srand(seed)
	mdays = "31 28 31 30 31 30 31 31 30 31 30 31"
	split(mdays, md, " ")
	print "when,x,y"
	for (i = 0; i < 2000; i++) {
		doy = int(rand() * 365)
		for (mo = 1; doy >= md[mo]; mo++)
			doy -= md[mo]
		x = rand() * 4 - 2
		y = x + rand() * 2 - 1 > 0 ? 1 : 0
		printf "%d-%s-%sT%s:%s:00Z,%.4f,%d\n", year, pad(mo), pad(doy + 1),
		    pad(int(rand() * 24)), pad(int(rand() * 60)), x, y
	}
}
