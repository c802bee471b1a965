/*
 * cell.c: ISO 8601 timestamps (forms, offsets, impossible dates, the
 * parts against dates whose weekday is known), non-finite spellings, and
 * missing tokens added with --na-values.
 */

#include <math.h>
#include <string.h>

#include "cell.h"
#include "tap.h"

static double ts(const char *s)
{
	double x;

	return cell_parse_timestamp(s, strlen(s), &x) ? NAN : x;
}

int main(void)
{
	static const char *const bad_ts[] = {
		"2019-02-29", "2019-13-01", "2019-00-10", "2019-04-31",
		"2019-03-23 24:00", "2019-03-23T12:60", "2019-03-23T12",
		"2019-03-23T12:00:00.", "2019-03-23T12:00+1", "2019/03/23",
		"20190323", "2019-3-23", "2019-03-23x", "2019-03-23 12:00 UTC",
		"", "2019"
	};
	static const char *const nonfinite[] = {
		"inf", "-inf", "+INF", "Infinity", "-infinity", "NAN", "-nan",
		"nan(0x1)", "1e400", "-1.5e309", " inf "
	};
	static const char *const finite_or_text[] = {
		"1e308", "1e-400", "nan", "NaN", "abc", "12abc", "0x1p3", "",
		"infinite", "nan(", "1,5"
	};
	static const char *const na[] = { " ? ", "-999" };
	struct cell_na set;
	size_t i;
	double t;

	ok(ts("1970-01-01") == 0, "the epoch");
	ok(ts("2019-03-23") == 1553299200, "a date");
	ok(ts("2019-03-23 20:21:09") == 1553372469, "a space before the time");
	ok(ts("2019-03-23T20:21:09") == 1553372469, "T before the time");
	ok(ts("2019-03-23t20:21:09z") == 1553372469, "lower-case t and z");
	ok(ts("2019-03-23T20:21:09Z") == 1553372469, "Z");
	ok(ts("2019-03-23T21:21:09+01:00") == 1553372469, "+01:00");
	ok(ts("2019-03-23T21:21:09+0100") == 1553372469, "+0100");
	ok(ts("2019-03-23T19:21:09-01") == 1553372469, "-01");
	ok(ts("2019-03-23T20:21") == 1553372460, "no seconds");
	ok(ts("2019-03-23T20:21:09.25") == 1553372469.25, "a fraction");
	ok(ts(" 2019-03-23 ") == 1553299200, "spaces around");
	ok(ts("2020-02-29") == 1582934400, "a leap day");
	ok(ts("1969-12-31T23:59:59Z") == -1, "before the epoch");
	for (i = 0; i < sizeof(bad_ts) / sizeof(*bad_ts); i++)
		ok(isnan(ts(bad_ts[i])), "not a timestamp: '%s'", bad_ts[i]);

	t = ts("2019-03-23T20:30:00Z");	/* a Saturday */
	is_double(cell_timestamp_part(t, CELL_EPOCH_DAYS),
		  17978 + 20.5 / 24, 1e-9, "epoch_days, fractional");
	is_double(cell_timestamp_part(t, CELL_MONTH), 3, 0, "month");
	is_double(cell_timestamp_part(t, CELL_DOW), 6, 0, "Saturday is 6");
	is_double(cell_timestamp_part(t, CELL_HOUR), 20.5, 0, "hour");
	is_double(cell_timestamp_part(ts("2024-12-31"), CELL_DOW), 2, 0,
		  "a Tuesday");
	is_double(cell_timestamp_part(ts("2024-12-31"), CELL_MONTH), 12, 0,
		  "December");
	is_double(cell_timestamp_part(ts("1969-12-29"), CELL_DOW), 1, 0,
		  "a Monday before the epoch");
	is_double(cell_timestamp_part(ts("1969-12-29T18:00"), CELL_HOUR), 18,
		  0, "an hour before the epoch");
	is_int(cell_part_from_name("dow"), CELL_DOW, "part by name");
	is_int(cell_part_from_name("year"), -1, "unknown part");
	is_str(cell_part_name(CELL_EPOCH_DAYS), "epoch_days", "part name");

	for (i = 0; i < sizeof(nonfinite) / sizeof(*nonfinite); i++)
		ok(cell_is_nonfinite(nonfinite[i], strlen(nonfinite[i])),
		   "non-finite: '%s'", nonfinite[i]);
	for (i = 0; i < sizeof(finite_or_text) / sizeof(*finite_or_text); i++)
		ok(!cell_is_nonfinite(finite_or_text[i],
				      strlen(finite_or_text[i])),
		   "not non-finite: '%s'", finite_or_text[i]);

	cell_na_init(&set, na, 2);
	ok(set.numeric, "a token that reads as a number is flagged");
	ok(cell_is_missing(&set, "?", 1) && cell_is_missing(&set, "  ?", 3),
	   "a token, spaces trimmed");
	ok(cell_is_missing(&set, "-999", 4) && !cell_is_missing(&set, "-999.0", 6),
	   "a numeric token matches its text only");
	ok(cell_is_missing(&set, "NA", 2) && cell_is_missing(NULL, "null", 4) &&
	   cell_is_missing(NULL, " ", 1), "the default set still applies");
	ok(!cell_is_missing(NULL, "?", 1) && !cell_is_missing(NULL, "NULL", 4),
	   "nothing else by default");
	cell_na_release(&set);
	return done_testing();
}
