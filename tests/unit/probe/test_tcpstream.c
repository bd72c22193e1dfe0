/* SPDX-License-Identifier: MIT */
/* tcpstream: the generator is deterministic and the verifier finds a changed,
 * lost or extra byte at the right offset, whatever the read sizes. */
#include "tcpstream.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define LEN  100000
#define SEED 0xfeedface12345678ULL

static uint8_t *stream(uint64_t seed, size_t len)
{
	uint8_t *buf = malloc(len);
	struct stream_gen g;
	size_t done = 0, step = 1;

	assert_non_null(buf);
	stream_gen_init(&g, seed);
	/* odd chunk sizes: the generator must not depend on how it is asked */
	while (done < len) {
		size_t n = step < len - done ? step : len - done;

		stream_gen_fill(&g, buf + done, n);
		done += n;
		step = step * 3 % 1031 + 1;
	}
	return buf;
}

static void feed(struct stream_verifier *v, const uint8_t *buf, size_t len, size_t chunk)
{
	for (size_t off = 0; off < len; off += chunk)
		stream_verify(v, buf + off, off + chunk <= len ? chunk : len - off);
}

static void test_deterministic(void **state)
{
	uint8_t *a = stream(SEED, LEN), *b = stream(SEED, LEN), *c = stream(SEED + 1, LEN);
	struct stream_gen g;
	uint8_t whole[64];

	(void)state;
	assert_memory_equal(a, b, LEN);
	assert_memory_not_equal(a, c, LEN);
	stream_gen_init(&g, SEED);
	stream_gen_fill(&g, whole, sizeof(whole));
	assert_memory_equal(a, whole, sizeof(whole));
	free(a);
	free(b);
	free(c);
}

static void test_clean_stream(void **state)
{
	uint8_t *a = stream(SEED, LEN);
	struct stream_verifier v;

	(void)state;
	stream_verifier_init(&v, SEED);
	feed(&v, a, LEN, 1460);
	assert_int_equal(v.mismatch, -1);
	assert_int_equal(v.verified, LEN);
	assert_int_equal(v.received, LEN);
	free(a);
}

static void test_corrupted_byte(void **state)
{
	static const size_t chunks[] = {1, 7, 1460, 4096, 65536, LEN};
	static const size_t offsets[] = {0, 1, 4095, 4096, 54321, LEN - 1};

	(void)state;
	for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			uint8_t *a = stream(SEED, LEN);
			struct stream_verifier v;

			a[offsets[o]] ^= 0x04;
			stream_verifier_init(&v, SEED);
			feed(&v, a, LEN, chunks[c]);
			assert_int_equal(v.mismatch, offsets[o]);
			assert_int_equal(v.verified, offsets[o]);
			assert_int_equal(v.received, LEN);
			free(a);
		}
	}
}

static void test_lost_byte(void **state)
{
	uint8_t *a = stream(SEED, LEN);
	struct stream_verifier v;
	size_t at = 30000;

	(void)state;
	/* drop byte 30000: the first offset that differs is where the stream shifted */
	memmove(a + at, a + at + 1, LEN - at - 1);
	stream_verifier_init(&v, SEED);
	feed(&v, a, LEN - 1, 512);
	assert_true(v.mismatch >= (int64_t)at);
	assert_true(v.mismatch < (int64_t)at + 16); /* equal neighbours can hide it briefly */
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_clean_stream),
	    cmocka_unit_test(test_corrupted_byte),
	    cmocka_unit_test(test_lost_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
