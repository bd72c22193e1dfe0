/* SPDX-License-Identifier: MIT */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static void to_hex(const unsigned char *raw, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int secret_random(char out[SECRET_HEX_LEN + 1])
{
	unsigned char raw[SECRET_BYTES];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	to_hex(raw, sizeof(raw), out);
	return 0;
}

int secret_hash(const char *text, char out[SECRET_HEX_LEN + 1])
{
	unsigned char digest[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, text, strlen(text), digest) < 0)
		return -EIO;
	to_hex(digest, sizeof(digest), out);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int secret_wrap(const char *key, const char *context, const char *in_hex,
		char out[SECRET_HEX_LEN + 1])
{
	unsigned char pad[32], raw[SECRET_BYTES];

	if (strlen(in_hex) != SECRET_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < SECRET_BYTES; i++) {
		int hi = hex_digit(in_hex[2 * i]), lo = hex_digit(in_hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, strlen(key), context, strlen(context), pad) <
	    0)
		return -EIO;
	for (size_t i = 0; i < SECRET_BYTES; i++)
		raw[i] ^= pad[i];
	to_hex(raw, sizeof(raw), out);
	memset(raw, 0, sizeof(raw));
	memset(pad, 0, sizeof(pad));
	return 0;
}

bool secret_equal(const char *given, const char *want)
{
	size_t n = strlen(want);
	unsigned char diff = 0;

	if (strlen(given) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(given[i] ^ want[i]);
	return diff == 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int secret_read_file(const char *path, char **out)
{
	char buf[SECRET_MAX + 2], *start, *copy;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	while (n > 0 && blank(buf[n - 1]))
		n--;
	buf[n] = '\0';
	for (start = buf; blank(*start); start++)
		;
	if (!*start)
		return -ENODATA;
	if (strlen(start) > SECRET_MAX)
		return -E2BIG;
	for (const char *p = start; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return -EINVAL;
	copy = strdup(start);
	if (!copy)
		return -ENOMEM;
	*out = copy;
	return 0;
}

int secret_write_file(const char *path, const char *text)
{
	char tmp[4096];
	size_t len = strlen(text);
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
