#ifndef MLOPS_SHA256_H
#define MLOPS_SHA256_H

/* SHA-256 (FIPS 180-4), incremental. */

#include <stddef.h>
#include <stdint.h>

struct sha256_ctx {
	uint32_t h[8];
	uint64_t n_bytes;
	unsigned char buf[64];
	size_t buf_len;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, unsigned char out[32]);
/* One call: lowercase hex digest of data, NUL-terminated, into hex[65]. */
void sha256_hex(const void *data, size_t len, char hex[65]);
/* Digest bytes to lowercase hex, NUL-terminated. */
void sha256_to_hex(const unsigned char digest[32], char hex[65]);

#endif
