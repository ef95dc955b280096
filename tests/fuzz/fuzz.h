/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the fuzz targets. Each target is one file defining
 * LLVMFuzzerTestOneInput(); it links either with libFuzzer (-Dfuzz=true,
 * clang) or with replay.c, which runs it over the checked-in corpus as an
 * ordinary test.
 *
 * A broken invariant aborts rather than exits: libFuzzer and the sanitizers
 * treat SIGABRT as a crash and save the input that caused it.
 */
#ifndef NERRF_FUZZ_H
#define NERRF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                   \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "FUZZ FAIL %s:%d: '%s' ", __FILE__,     \
				__LINE__, #cond);                               \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			abort();                                                \
		}                                                               \
	} while (0)

/* The input read front to back; past its end every read gives zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t fuzz_bytes(struct fuzz_in *in, unsigned int k)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < k && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	return (uint8_t)fuzz_bytes(in, 1);
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)fuzz_bytes(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_bytes(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	return fuzz_bytes(in, 8);
}

#endif /* NERRF_FUZZ_H */
