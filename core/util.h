/* core/util.h: small helpers the runtime and the domain layer share, each
 * written once here instead of once per table or list. Private to the core. */
#ifndef CORE_UTIL_H
#define CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* core_hash_mix64: MurmurHash3's 64-bit finaliser. Every input bit reaches
 * every output bit, so the low bits that pick a slot of a power-of-two table
 * are as good as the high ones, whether the input is a string hash or a
 * pointer whose differences sit in a few middle bits. */
static inline uint64_t core_hash_mix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

/* core_strv_free: free the first n strings of v, then v. Accepts NULL. */
static inline void core_strv_free(char **v, size_t n)
{
	if (v)
		for (size_t i = 0; i < n; i++)
			free(v[i]);
	free(v);
}

#endif
