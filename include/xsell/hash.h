/* hash.h - 64-bit FNV-1a over bytes, and splitmix64's finalizer for when the bits must
 * be uniform (FNV alone mixes the last bytes poorly, and ids often differ only there). */
#ifndef XSELL_HASH_H
#define XSELL_HASH_H

#include "xsell/common.h"

#define HASH_FNV_SEED 0xcbf29ce484222325ULL

/* h folded with the n bytes at p. */
uint64_t hash_bytes(uint64_t h, const void *p, size_t n);
/* h folded with the bytes of s up to its NUL. */
uint64_t hash_str(uint64_t h, const char *s);
/* splitmix64's finalizer (Steele, Lea & Flood 2014). */
uint64_t hash_mix(uint64_t z);

#endif
