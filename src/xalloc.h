#ifndef MLOPS_XALLOC_H
#define MLOPS_XALLOC_H

/*
 * Allocation that cannot fail: on exhaustion these print one line and
 * abort(), as STYLE.md allows.  Sizes are checked for overflow.
 */

#include <stddef.h>
#include "error.h"

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xmalloc(n * size) with an overflow check. */
void *xmallocarray(size_t n, size_t size);
void *xreallocarray(void *ptr, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Return a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) MLOPS_PRINTF(1, 2);

/*
 * Grow `*ptr` (an array of `*alloc` elements of `size` bytes) so that it
 * holds at least `need` elements, doubling as it goes.
 */
void xgrow(void **ptr, size_t *alloc, size_t need, size_t size);
#define XGROW(ptr, alloc, need) \
	xgrow((void **)&(ptr), &(alloc), (need), sizeof(*(ptr)))

#endif
