/* SPDX-License-Identifier: MIT */
/* /proc/mounts, /proc/self/mountinfo and getmntent() show a bpf mount;
 * mount() and umount() of bpf there succeed without doing anything. */
#include <fcntl.h>
#include <mntent.h>
#include <sys/mount.h>

#include "check.h"

int main(void)
{
	char path[64];

	require_shim();
	CHECK(strstr(slurp("/proc/mounts"), "\nbpf /sys/fs/bpf bpf rw,relatime 0 0\n"), "/proc/mounts");
	CHECK(strstr(slurp("/proc/self/mounts"), "bpf /sys/fs/bpf bpf rw,relatime 0 0\n"), "/proc/self/mounts");
	CHECK(strstr(slurp("/proc/self/mountinfo"), " / /sys/fs/bpf rw,relatime - bpf bpf rw\n"), "mountinfo");
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)getpid());
	CHECK(strstr(slurp(path), " /sys/fs/bpf rw,relatime - bpf bpf rw\n"), "%s", path);

	/* the real lines are all still there */
	CHECK(strstr(slurp("/proc/self/mounts"), " /proc proc "), "real lines kept");

	/* open() gives a read-only descriptor */
	int fd = open("/proc/mounts", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open");
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "read-only");
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "cloexec kept");
	close(fd);

	FILE *f = setmntent("/proc/mounts", "r");
	struct mntent *m;
	int seen = 0;
	CHECK(f, "setmntent");
	while ((m = getmntent(f)))
		if (!strcmp(m->mnt_dir, "/sys/fs/bpf") && !strcmp(m->mnt_type, "bpf"))
			seen++;
	endmntent(f);
	CHECK(seen == 1, "getmntent saw the bpf mount %d times", seen);

	CHECK(mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) == 0, "mount bpf");
	CHECK(mount("", "/sys/fs/bpf", "none", MS_PRIVATE | MS_REC, NULL) == 0, "make private");
	CHECK(umount("/sys/fs/bpf") == 0, "umount");
	CHECK(umount2("/sys/fs/bpf", MNT_DETACH) == 0, "umount2");
	return 0;
}
