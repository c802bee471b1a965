#ifndef MLOPS_PROGRESS_H
#define MLOPS_PROGRESS_H

/*
 * A one-line progress report on stderr for long runs (rows, MB/s, ETA),
 * redrawn at most four times a second and erased at the end.  Commands
 * use it only when stderr is a terminal (ctx->progress).
 */

#include <stdint.h>

struct progress {
	int enabled;
	const char *what;	/* "scored", "read" */
	uint64_t total_bytes;	/* 0 if unknown (stdin, compressed) */
	double start, last;
	int drawn;
};

/* Start; `path` is stat()ed for the ETA when it is a regular file. */
void progress_start(struct progress *p, int enabled, const char *what,
		    const char *path);
void progress_update(struct progress *p, uint64_t rows, uint64_t bytes);
void progress_end(struct progress *p);

#endif
