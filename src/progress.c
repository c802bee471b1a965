/*
 * Progress on stderr.  Plumbing like error.c: it prints, but only to
 * stderr and only when the caller decided stderr is a terminal.
 */

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "progress.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(struct progress *p, int enabled, const char *what,
		    const char *path)
{
	struct stat st;

	p->enabled = enabled;
	p->what = what;
	p->total_bytes = 0;
	p->start = p->last = now();
	p->drawn = 0;
	if (enabled && path && stat(path, &st) == 0 && S_ISREG(st.st_mode))
		p->total_bytes = (uint64_t)st.st_size;
}

void progress_update(struct progress *p, uint64_t rows, uint64_t bytes)
{
	double t = now(), elapsed = t - p->start, rate;

	if (!p->enabled || t - p->last < 0.25)
		return;
	p->last = t;
	rate = elapsed > 0 ? (double)bytes / elapsed : 0;
	fprintf(stderr, "\r%s %llu rows, %.1f MB/s", p->what,
		(unsigned long long)rows, rate / 1e6);
	if (p->total_bytes && rate > 0 && bytes <= p->total_bytes)
		fprintf(stderr, ", %.0f%%, ETA %.0fs",
			100.0 * (double)bytes / (double)p->total_bytes,
			(double)(p->total_bytes - bytes) / rate);
	fprintf(stderr, "\033[K");
	p->drawn = 1;
}

void progress_end(struct progress *p)
{
	if (p->enabled && p->drawn)
		fprintf(stderr, "\r\033[K");
	p->drawn = 0;
}
