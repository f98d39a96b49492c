/* modules/xds-grpc/xds_digest.c: the content hash every translation takes
 * of what it encodes, and the SHA-1/SHA-256 digests resource names are made
 * of. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "modules/xds-grpc/xds_translate.h"

static inline uint64_t xds_rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* A content fingerprint, not a defence: eight bytes a step, multiply and
 * fold (resources reach megabytes; a byte-wise hash showed in profiles),
 * in four independent lanes over 32-byte blocks so the multiplies overlap
 * (every translation hashes all it encodes, 30 MB for 10,000 proxies). */
uint64_t xds_hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ (n * 0x9E3779B97F4A7C15ULL);
	if (n >= 32) {
		uint64_t l[4] = {h, h ^ 0xC2B2AE3D27D4EB4FULL, h ^ 0x165667B19E3779F9ULL,
		                 h ^ 0x27D4EB2F165667C5ULL};
		while (n >= 32) {
			for (int i = 0; i < 4; i++) {
				uint64_t v;
				memcpy(&v, b + 8 * i, 8);
				l[i] = (l[i] ^ v) * 0x9E3779B97F4A7C15ULL;
				l[i] ^= l[i] >> 29;
			}
			b += 32;
			n -= 32;
		}
		h = (l[0] ^ xds_rotl(l[1], 17) ^ xds_rotl(l[2], 31) ^ xds_rotl(l[3], 47)) *
		    0x9E3779B97F4A7C15ULL;
	}
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
		b += 8;
		n -= 8;
	}
	uint64_t t = 0;
	memcpy(&t, b, n);
	h = (h ^ t) * 0x9E3779B97F4A7C15ULL;
	h ^= h >> 32;
	return h;
}

/* SHA-1 and SHA-256 through digests fetched once: the one-shot SHA1()
 * fetches the implementation on every call (a lock and a lookup). */
static EVP_MD *xds_md_sha1, *xds_md_sha256;
static pthread_once_t xds_md_once = PTHREAD_ONCE_INIT;

static void xds_md_init(void)
{
	xds_md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	xds_md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void xds_translate_cleanup(void)
{
	/* the once-control cannot be reset: xds_digest falls back to SHA1() */
	pthread_once(&xds_md_once, xds_md_init);
	EVP_MD_free(xds_md_sha1);
	EVP_MD_free(xds_md_sha256);
	xds_md_sha1 = NULL;
	xds_md_sha256 = NULL;
}

void xds_digest(int sha256, const void *p, size_t n, uint8_t *out)
{
	pthread_once(&xds_md_once, xds_md_init);
	EVP_MD *md = sha256 ? xds_md_sha256 : xds_md_sha1;
	if (!md || !EVP_Digest(p, n, out, NULL, md, NULL)) {
		if (sha256)
			SHA256(p, n, out);
		else
			SHA1(p, n, out);
	}
}

void xds_hex(const uint8_t *d, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = 0;
}
