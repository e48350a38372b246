/* SPDX-License-Identifier: MIT */
/* mmap() of a non-mmapable map fd fails with the kernel's errno; ordinary
 * files and anonymous memory map as usual. */
#include <fcntl.h>
#include <sys/mman.h>

#include "check.h"

int main(void)
{
	require_shim();
	int fd = make_map();
	errno = 0;
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p == MAP_FAILED && errno != 0, "mmap of a hash map fails");

	int f = open("/proc/self/exe", O_RDONLY);
	CHECK(f >= 0, "open");
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, f, 0);
	CHECK(p != MAP_FAILED && !memcmp(p, "\177ELF", 4), "file mmap");
	munmap(p, 4096);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "anonymous mmap");
	return 0;
}
