/*
 * SHA-256: the FIPS 180-4 / NIST example vectors, padding boundaries
 * against the one-shot form, and incremental updates in odd-sized pieces
 * against a single update.
 */

#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "tap.h"

static void hex_of_pieces(const unsigned char *data, size_t len, size_t piece,
			  char hex[65])
{
	struct sha256_ctx c;
	unsigned char digest[32];
	size_t off, n;

	sha256_init(&c);
	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		sha256_update(&c, data + off, n);
	}
	sha256_final(&c, digest);
	sha256_to_hex(digest, hex);
}

int main(void)
{
	static const char *msg448 =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char *msg896 =
		"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	unsigned char *buf;
	char hex[65], want[65];
	size_t len, piece;
	int all_ok;

	(void)is_double;	/* tap.h helpers this file does not need */
	(void)is_int;
	sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	       "27ae41e4649b934ca495991b7852b855", "empty string");
	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223"
	       "b00361a396177a9cb410ff61f20015ad", "abc");
	sha256_hex(msg448, strlen(msg448), hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039"
	       "a33ce45964ff2167f6ecedd419db06c1", "448-bit message");
	sha256_hex(msg896, strlen(msg896), hex);
	is_str(hex, "cf5b16a778af8380036ce59e7b049237"
	       "0b249b11e8f07a51afac45037afee9d1", "896-bit message");

	buf = malloc(1000000);
	memset(buf, 'a', 1000000);
	sha256_hex(buf, 1000000, hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	       "f1809a48a497200e046d39ccc7112cd0", "one million 'a'");
	hex_of_pieces(buf, 1000000, 4097, hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	       "f1809a48a497200e046d39ccc7112cd0",
	       "one million 'a' in pieces of 4097");

	/* Every length across several block and padding boundaries, fed
	 * in pieces of every small size: incremental == one-shot. */
	srand(1);
	for (len = 0; len < 1000; len++)
		buf[len] = (unsigned char)rand();
	all_ok = 1;
	for (len = 0; len <= 300 && all_ok; len++) {
		sha256_hex(buf, len, want);
		for (piece = 1; piece <= 70 && all_ok; piece++) {
			hex_of_pieces(buf, len, piece, hex);
			if (strcmp(hex, want)) {
				all_ok = 0;
				printf("# len %zu piece %zu\n", len, piece);
			}
		}
	}
	ok(all_ok, "incremental updates match one-shot for lengths 0..300");

	sha256_hex("The quick brown fox jumps over the lazy dog", 43, hex);
	is_str(hex, "d7a8fbb307d7809469ca9abcb0082e4f"
	       "8d5651e46d3cdb762d02d0bf37c9e592", "quick brown fox");
	free(buf);
	return done_testing();
}
