/*
 * dotloop: the floor for batch scoring, for bench/run.sh.
 *
 * Reads a CSV file (header row, then plain comma-separated fields, no
 * quotes), splits it into NTHREADS byte ranges cut at newlines, and on
 * each thread parses every field with a simple decimal parser (no strtod)
 * and takes a dot product with fixed weights.  A field that is not a
 * number (a category) contributes its first byte.  Prints the sum of the
 * row scores, so the work cannot be optimised away; writes nothing else.
 *
 *   cc -O2 -pthread -o dotloop bench/dotloop.c
 *   ./dotloop FILE [NTHREADS]        (default 2)
 *
 * It does nothing mlops does beyond that: no quoting, no validation, no
 * preprocessing, no output file.  It is what "parse and dot" costs.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXCOLS 4096

static double weights[MAXCOLS];

struct part {
	const char *p, *end;
	double sum;
	long rows;
};

static const double pow10_neg[] = {
	1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9,
	1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18,
};

static void *
work(void *arg)
{
	struct part *pt = arg;
	const char *p = pt->p, *end = pt->end;
	double total = 0;
	long rows = 0;

	while (p < end) {
		double acc = 0;
		int col = 0;
		for (;;) {
			/* one field */
			const char *f = p;
			int neg = 0;
			unsigned long long mant = 0;
			int frac = 0, digits = 0;
			double v;
			if (p < end && (*p == '-' || *p == '+')) {
				neg = *p == '-';
				p++;
			}
			while (p < end && (unsigned)(*p - '0') < 10) {
				mant = mant * 10 + (unsigned)(*p - '0');
				p++;
				digits++;
			}
			if (p < end && *p == '.') {
				p++;
				while (p < end && (unsigned)(*p - '0') < 10) {
					if (frac < 18) {
						mant = mant * 10 + (unsigned)(*p - '0');
						frac++;
					}
					p++;
					digits++;
				}
			}
			if (digits && (p >= end || *p == ',' || *p == '\n' || *p == '\r')) {
				v = (double)mant * pow10_neg[frac];
				if (neg)
					v = -v;
			} else {
				/* not a number: a category, or empty */
				v = f < end && *f != ',' && *f != '\n' ? (double)(unsigned char)*f : 0;
				while (p < end && *p != ',' && *p != '\n')
					p++;
			}
			if (col < MAXCOLS)
				acc += weights[col] * v;
			col++;
			if (p < end && *p == '\r')
				p++;
			if (p >= end || *p == '\n') {
				p++;
				break;
			}
			p++; /* the comma */
		}
		total += acc;
		rows++;
	}
	pt->sum = total;
	pt->rows = rows;
	return NULL;
}

int
main(int argc, char **argv)
{
	int fd, nt = 2, i;
	struct stat st;
	const char *base, *p, *end;
	struct part parts[64];
	pthread_t th[64];
	double sum = 0;
	long rows = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: dotloop FILE [NTHREADS]\n");
		return 2;
	}
	if (argc == 3)
		nt = atoi(argv[2]);
	if (nt < 1 || nt > 64) {
		fprintf(stderr, "dotloop: threads must be 1..64\n");
		return 2;
	}
	for (i = 0; i < MAXCOLS; i++)
		weights[i] = 1.0 / (i + 1);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(argv[1]);
		return 1;
	}
	if (st.st_size == 0) {
		printf("rows 0 sum 0\n");
		return 0;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise((void *)base, (size_t)st.st_size, MADV_SEQUENTIAL);
	end = base + st.st_size;
	/* skip the header */
	p = memchr(base, '\n', (size_t)st.st_size);
	p = p ? p + 1 : end;
	for (i = 0; i < nt; i++) {
		const char *cut = end;
		if (i < nt - 1) {
			cut = p + (end - p) / (nt - i);
			cut = memchr(cut, '\n', (size_t)(end - cut));
			cut = cut ? cut + 1 : end;
		}
		parts[i].p = p;
		parts[i].end = cut;
		p = cut;
	}
	for (i = 0; i < nt; i++)
		if (pthread_create(&th[i], NULL, work, &parts[i]) != 0) {
			fprintf(stderr, "dotloop: cannot start a thread\n");
			return 1;
		}
	for (i = 0; i < nt; i++) {
		pthread_join(th[i], NULL);
		sum += parts[i].sum;
		rows += parts[i].rows;
	}
	printf("rows %ld sum %.17g\n", rows, sum);
	return 0;
}
