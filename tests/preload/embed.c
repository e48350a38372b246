/* SPDX-License-Identifier: MIT */
/* bpfemu_bpf(), the embedding API, called by a program that runs under the
 * shim: the engine's own file calls must not re-enter it (this hung once). */
#include "check.h"

int main(void)
{
	union bpf_attr a;

	require_shim();
	long (*bpf)(int, void *, unsigned int) = (long (*)(int, void *, unsigned int))dlsym(RTLD_DEFAULT, "bpfemu_bpf");
	CHECK(bpf, "dlsym bpfemu_bpf");
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 4;
	long fd = bpf(BPF_MAP_CREATE, &a, sizeof(a));
	CHECK(fd >= 0, "create");
	__u32 key = 1;
	__u64 val = 7;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)&val;
	CHECK(bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a)) == 0, "update");
	val = 0;
	CHECK(syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) == 0 && val == 7, "lookup via syscall");
	errno = 0;
	CHECK(bpf(12345, &a, sizeof(a)) == -1 && errno == EINVAL, "bad command");
	return 0;
}
