#ifndef MLOPS_STRMAP_H
#define MLOPS_STRMAP_H

/*
 * Open-addressing hash map from byte strings to non-negative longs, for
 * interning category levels and looking up column names.  Keys are
 * copied.  Not thread-safe for writes; concurrent reads are fine.
 */

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);
/* Value stored under key, or -1. */
long strmap_get(const struct strmap *m, const char *key, size_t len);
/* Store value (>= 0) under key, replacing any earlier value. */
void strmap_put(struct strmap *m, const char *key, size_t len, long value);
size_t strmap_count(const struct strmap *m);

#endif
