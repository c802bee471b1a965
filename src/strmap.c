/*
 * Open-addressing hash map from byte strings to longs.
 *
 * Linear probing over a power-of-two table kept at most half full, keyed
 * by 64-bit FNV-1a.  The full hash is stored with each slot so probing
 * rarely touches key bytes, and keys are copied into the map.  There is
 * no deletion: the map only serves interning and name lookup, which never
 * remove anything.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "xalloc.h"

struct slot {
	uint64_t hash;
	char *key;		/* NULL: empty slot */
	size_t len;
	long value;
};

struct strmap {
	struct slot *slots;
	size_t cap;		/* power of two */
	size_t count;
};

static uint64_t hash_bytes(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ULL;
	}
	/* Mix the high bits down: the table index uses the low ones. */
	h ^= h >> 29;
	return h;
}

struct strmap *strmap_new(void)
{
	struct strmap *m = xmalloc(sizeof(*m));

	m->cap = 16;
	m->count = 0;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	return m;
}

void strmap_free(struct strmap *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
}

static struct slot *find(const struct strmap *m, uint64_t h, const char *key,
			 size_t len)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;
	struct slot *s;

	for (;;) {
		s = &m->slots[i];
		if (!s->key)
			return s;
		if (s->hash == h && s->len == len && !memcmp(s->key, key, len))
			return s;
		i = (i + 1) & mask;
	}
}

static void grow(struct strmap *m)
{
	struct slot *old = m->slots;
	size_t old_cap = m->cap, i;

	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < old_cap; i++) {
		struct slot *s;

		if (!old[i].key)
			continue;
		s = find(m, old[i].hash, old[i].key, old[i].len);
		*s = old[i];
	}
	free(old);
}

long strmap_get(const struct strmap *m, const char *key, size_t len)
{
	struct slot *s = find(m, hash_bytes(key, len), key, len);

	return s->key ? s->value : -1;
}

void strmap_put(struct strmap *m, const char *key, size_t len, long value)
{
	uint64_t h = hash_bytes(key, len);
	struct slot *s = find(m, h, key, len);

	if (s->key) {
		s->value = value;
		return;
	}
	if (2 * (m->count + 1) > m->cap) {
		grow(m);
		s = find(m, h, key, len);
	}
	s->hash = h;
	s->key = xstrndup(key, len);
	s->len = len;
	s->value = value;
	m->count++;
}

size_t strmap_count(const struct strmap *m)
{
	return m->count;
}
