/* SPDX-License-Identifier: MIT */
/* open, stat, mkdir, rename, readdir, unlink, rmdir, chdir/getcwd and
 * realpath under /sys/fs/bpf land in $BPFEMU_ROOT/bpffs. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>

#include "check.h"

static int count_entries(const char *dir, const char *want)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	CHECK(d, "opendir %s", dir);
	while ((e = readdir(d)))
		if (!strcmp(e->d_name, want))
			found++;
	closedir(d);
	return found;
}

static int walked;

static int walk(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	CHECK(!strncmp(path, "/sys/fs/bpf", 11), "nftw path %s", path);
	CHECK(ftw->base > 0 && path[ftw->base - 1] == '/', "nftw base %d in %s", ftw->base, path);
	walked++;
	return 0;
}

int main(void)
{
	struct stat st;
	char buf[PATH_MAX];

	require_shim();
	CHECK(stat("/sys/fs/bpf", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777,
	      "bpffs root mode %o", st.st_mode);
	CHECK(mkdir("/sys/fs/bpf/dir", 0700) == 0, "mkdir");
	CHECK(stat(root_path("bpffs/dir"), &st) == 0 && S_ISDIR(st.st_mode), "lands in the state root");
	CHECK(mkdir("/sys/fs/bpf//dir/./x", 0700) == 0, "mkdir with // and .");
	CHECK(access("/sys/fs/bpf/dir/x", F_OK) == 0, "access");
	CHECK(count_entries("/sys/fs/bpf/dir", "x") == 1, "readdir sees x");

	/* *at() relative to a bpffs directory fd, and ".." that stays inside */
	int dfd = open("/sys/fs/bpf/dir", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0, "open dir");
	CHECK(mkdirat(dfd, "y", 0700) == 0, "mkdirat");
	CHECK(fstatat(dfd, "../dir/y", &st, 0) == 0, "fstatat with ..");
	CHECK(renameat(dfd, "y", AT_FDCWD, "/sys/fs/bpf/z") == 0, "renameat");
	CHECK(stat(root_path("bpffs/z"), &st) == 0, "renamed in the state root");
	/* ".." at the mount point goes to /sys/fs, never to the state root */
	CHECK(fstatat(dfd, "../../bpf/z", &st, 0) == 0, "fstatat up to /sys/fs and back");
	CHECK(fstatat(dfd, "../../../../objs", &st, 0) != 0, ".. does not reach the state root");
	close(dfd);

	/* moving across the mount is EXDEV, as between two file systems */
	errno = 0;
	CHECK(rename("/sys/fs/bpf/z", root_path("z")) == -1 && errno == EXDEV, "rename out");

	/* no regular files on bpffs: O_CREAT is EACCES */
	errno = 0;
	CHECK(open("/sys/fs/bpf/file", O_CREAT | O_WRONLY, 0600) == -1 && errno == EACCES, "creat");
	CHECK(fopen("/sys/fs/bpf/file", "w") == NULL && errno == EACCES, "fopen w");

	/* the process sees mount-point paths, never state-root ones */
	CHECK(chdir("/sys/fs/bpf/dir") == 0, "chdir");
	CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, "/sys/fs/bpf/dir"), "getcwd %s", buf);
	CHECK(stat("x", &st) == 0, "relative stat");
	CHECK(stat("../z", &st) == 0, "relative .. stat");
	CHECK(realpath("../dir/x", buf) && !strcmp(buf, "/sys/fs/bpf/dir/x"), "realpath %s", buf);
	char *cwd = getcwd(NULL, 0);
	CHECK(cwd && !strcmp(cwd, "/sys/fs/bpf/dir"), "getcwd(NULL, 0)");
	free(cwd);
	CHECK(chdir("/") == 0, "chdir /");

	CHECK(symlink("dir", "/sys/fs/bpf/link") == 0, "symlink");
	ssize_t n = readlink("/sys/fs/bpf/link", buf, sizeof(buf));
	CHECK(n == 3 && !memcmp(buf, "dir", 3), "readlink");

	/* the root, dir, dir/x, z, link, and the kernel's maps.debug and progs.debug */
	CHECK(nftw("/sys/fs/bpf", walk, 4, FTW_PHYS) == 0 && walked == 7, "nftw walked %d", walked);

	CHECK(rmdir("/sys/fs/bpf/dir/x") == 0, "rmdir");
	CHECK(unlink("/sys/fs/bpf/link") == 0, "unlink");
	CHECK(count_entries("/sys/fs/bpf", "link") == 0, "unlinked");
	CHECK(stat(root_path("bpffs/dir/x"), &st) == -1 && errno == ENOENT, "gone from the state root");
	return 0;
}
