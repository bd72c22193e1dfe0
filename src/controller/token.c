/* SPDX-License-Identifier: MIT */
#include "token.h"
#include "lib/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int token_create(const char *path)
{
	char hex[SECRET_HEX_LEN + 2];
	size_t len;
	int fd, r;

	r = secret_random(hex);
	if (r < 0)
		return r;
	strcat(hex, "\n");
	len = strlen(hex);
	/* O_EXCL: never replace a token another process just made */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, hex, len) != (ssize_t)len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	if (r < 0)
		unlink(path);
	return r;
}

int token_load_or_create(const char *path, char **token)
{
	int r = secret_read_file(path, token);

	if (r != -ENOENT)
		return r;
	r = token_create(path);
	if (r < 0 && r != -EEXIST) /* EEXIST: another process just created it */
		return r;
	return secret_read_file(path, token);
}
