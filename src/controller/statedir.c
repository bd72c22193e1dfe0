/* SPDX-License-Identifier: MIT */
#include "statedir.h"
#include "lib/log.h"
#include "store_sqlite_file.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int statedir_lock(const char *dir, int *fd_out)
{
	char path[PATH_MAX], owner[32] = "";
	ssize_t n;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cannot create the state dir %s", dir);
	if (snprintf(path, sizeof(path), "%s/godwitd.lock", dir) >= (int)sizeof(path))
		return log_error_errno(-ENAMETOOLONG, "state dir %.100s", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = -errno;

		n = err == -EWOULDBLOCK ? pread(fd, owner, sizeof(owner) - 1, 0) : -1;
		owner[n > 0 ? n : 0] = '\0';
		owner[strcspn(owner, "\n")] = '\0';
		close(fd);
		if (err != -EWOULDBLOCK)
			return log_error_errno(err, "cannot lock %s", path);
		log_error("the state dir %s is in use by another godwitd (pid %s); stop it first, "
			  "or give this one another --state-dir",
			  dir, owner[0] ? owner : "unknown");
		return -EBUSY;
	}
	n = snprintf(owner, sizeof(owner), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, owner, (size_t)n, 0) != n)
		log_warn_errno(-errno, "cannot write the pid into %s", path);
	*fd_out = fd;
	return 0;
}

bool statedir_is_command(int argc, char **argv)
{
	return argc > 1 && (strcmp(argv[1], "backup") == 0 || strcmp(argv[1], "restore") == 0);
}

static void command_usage(FILE *f)
{
	fprintf(f,
		"usage: godwitd backup --state-dir DIR FILE\n"
		"         a consistent copy of DIR/godwit.db into FILE (new), while godwitd "
		"runs\n"
		"       godwitd restore --state-dir DIR [--bump-revision N] FILE\n"
		"         puts the backup FILE in place of DIR/godwit.db (godwitd stopped);\n"
		"         the replaced store is kept beside it; the revision moves N ahead\n"
		"         (default %d) and every watcher lists again\n",
		STORE_RESTORE_BUMP);
}

static int parse_bump(const char *text, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 1 || v > 1000000000000LL) {
		fprintf(stderr, "godwitd: --bump-revision: \"%s\" is not a number in 1..10^12\n",
			text);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int run_restore(const char *dir, const char *db, const char *file, long long bump)
{
	char kept[PATH_MAX];
	int fd = -1, r;

	r = statedir_lock(dir, &fd);
	if (r < 0)
		return r;
	r = store_sqlite_restore(file, db, bump, kept, sizeof(kept));
	if (r == 0)
		log_info("restored %s from %s; the revision moved %lld ahead%s%s", db, file, bump,
			 kept[0] ? "; the replaced store is " : "", kept);
	close(fd);
	return r;
}

int statedir_command(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"state-dir", required_argument, NULL, 's'},
	    {"bump-revision", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *verb = argv[1], *dir = NULL;
	long long bump = STORE_RESTORE_BUMP;
	bool restore = strcmp(verb, "restore") == 0;
	char db[PATH_MAX];
	int c, r;

	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			dir = optarg;
			break;
		case 'b':
			if (!restore) {
				fprintf(stderr, "godwitd backup: --bump-revision is for restore\n");
				return 2;
			}
			if (parse_bump(optarg, &bump) < 0)
				return 2;
			break;
		case 'h':
			command_usage(stdout);
			return 0;
		default:
			command_usage(stderr);
			return 2;
		}
	}
	if (!dir || optind != argc - 1) {
		fprintf(stderr, "godwitd %s: needs --state-dir DIR and one FILE\n", verb);
		command_usage(stderr);
		return 2;
	}
	if (snprintf(db, sizeof(db), "%s/godwit.db", dir) >= (int)sizeof(db)) {
		fprintf(stderr, "godwitd %s: --state-dir is too long\n", verb);
		return 2;
	}
	if (restore)
		r = run_restore(dir, db, argv[optind], bump);
	else if ((r = store_sqlite_backup(db, argv[optind])) == 0)
		log_info("backed up %s into %s", db, argv[optind]);
	return r < 0 ? 1 : 0;
}
