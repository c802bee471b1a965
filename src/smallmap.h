#ifndef MLOPS_SMALLMAP_H
#define MLOPS_SMALLMAP_H

/*
 * A front for a strmap of category levels when they are few and short,
 * as most are ("a", "yes", "Adelie"...): up to SMALLMAP_SLOTS keys of at
 * most 7 bytes, each packed with its length into one word and found by
 * a scan of a few words, where hashing and comparing bytes cost several
 * times more.  `complete` says whether every key of the map behind it
 * is here too, so that a miss is an answer and not a referral.
 */

#include <stdint.h>
#include <stddef.h>

#define SMALLMAP_SLOTS 16

struct smallmap {
	size_t n;
	int complete;		/* no key of the full map is missing here */
	uint64_t key[SMALLMAP_SLOTS];
	long value[SMALLMAP_SLOTS];
};

/* Empty, and complete while its map is empty too. */
static inline void smallmap_init(struct smallmap *m)
{
	m->n = 0;
	m->complete = 1;
}

/* The word for a key of at most 7 bytes: its bytes, then its length. */
static inline uint64_t smallmap_word(const char *s, size_t len)
{
	uint64_t w = len;
	size_t i;

	for (i = 0; i < len; i++)
		w |= (uint64_t)(unsigned char)s[i] << (8 * (i + 1));
	return w;
}

/*
 * The value of key s, or -1 when it is not here: then the key is in no
 * map if m->complete, and the full map must be asked otherwise.
 */
static inline long smallmap_get(const struct smallmap *m, const char *s,
				size_t len)
{
	uint64_t w;
	size_t i;

	if (len > 7)
		return -1;
	w = smallmap_word(s, len);
	for (i = 0; i < m->n; i++)
		if (m->key[i] == w)
			return m->value[i];
	return -1;
}

/* Record a key just added to the full map (one it did not hold). */
static inline void smallmap_add(struct smallmap *m, const char *s, size_t len,
				long value)
{
	if (len > 7 || m->n == SMALLMAP_SLOTS) {
		m->complete = 0;
		return;
	}
	m->key[m->n] = smallmap_word(s, len);
	m->value[m->n++] = value;
}

#endif
