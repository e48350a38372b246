/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/trace_calls.c: a fixed sequence of raw bpf() calls,
 * successes and errors, for the trace tests: run under `strace -e trace=bpf`
 * on the kernel and under the shim with BPFEMU_TRACE, the two logs must agree
 * once pointers, fds and ids are normalized. The pin path is argv[1].
 * With "thread" as argv[2], the calls after the maps are created run in a
 * second thread; with "fork", in a child process. Then, while that task is
 * still alive (it waits on a pipe), the first one makes one call; with "fork"
 * it makes one more after reaping the child. strace -f (to stderr) prefixes
 * "[pid N] " to every line while it traces more than one task: the lines of
 * the second task and the first task's call in between, not the others.
 */
#include <linux/bpf.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long sys(int cmd, void *attr, unsigned int size)
{
	return syscall(SYS_bpf, cmd, attr, size);
}

#define END(f) (offsetof(union bpf_attr, f) + sizeof(((union bpf_attr *)0)->f))

static const char *pin;
static int map_fd, arr_fd;
static int done_pipe[2], go_pipe[2];
static void *calls(void *arg);

/* the second task: its calls, then "done", then wait for "go" */
static void *second(void *arg)
{
	char c = 0;
	calls(arg);
	if (write(done_pipe[1], &c, 1) != 1 || read(go_pipe[0], &c, 1) != 1)
		perror("trace_calls: pipe");
	return NULL;
}

/* the first task's call: a lookup of a key that is not there (ENOENT) */
static void first_call(void)
{
	union bpf_attr a;
	unsigned int key = 5;
	unsigned long long out = 0;
	memset(&a, 0, sizeof(a));
	a.map_fd = map_fd; a.key = (unsigned long)&key; a.value = (unsigned long)&out;
	sys(BPF_MAP_LOOKUP_ELEM, &a, END(flags));
}

static void with_second_task(int fork_it)
{
	pthread_t t;
	pid_t child = -1;
	char c = 0;
	if (pipe(done_pipe) || pipe(go_pipe)) {
		perror("trace_calls: pipe");
		return;
	}
	if (fork_it) {
		child = fork();
		if (child == 0) {
			second(NULL);
			_exit(0);
		}
	} else if (pthread_create(&t, NULL, second, NULL)) {
		return;
	}
	if (read(done_pipe[0], &c, 1) != 1)
		perror("trace_calls: pipe");
	first_call();                                         /* two tasks: prefixed */
	if (write(go_pipe[1], &c, 1) != 1)
		perror("trace_calls: pipe");
	if (fork_it) {
		waitpid(child, NULL, 0);
		first_call();                                 /* one task again: no prefix */
	} else {
		pthread_join(t, NULL);
	}
}

static void *calls(void *arg)
{
	union bpf_attr a;
	unsigned int key = 1, next = 0;
	unsigned long long val = 0x1122334455667788ull, out = 0;
	char big[200];
	(void)arg;

	/* elements: update, lookup, get_next_key, delete, errors */
	memset(&a, 0, sizeof(a));
	a.map_fd = map_fd; a.key = (unsigned long)&key; a.value = (unsigned long)&val; a.flags = BPF_NOEXIST;
	sys(BPF_MAP_UPDATE_ELEM, &a, END(flags));
	sys(BPF_MAP_UPDATE_ELEM, &a, END(flags));               /* EEXIST */
	a.flags = BPF_EXIST;
	key = 7;
	sys(BPF_MAP_UPDATE_ELEM, &a, END(flags));               /* ENOENT */
	a.flags = 99;
	sys(BPF_MAP_UPDATE_ELEM, &a, END(flags));               /* EINVAL */
	key = 1;
	memset(&a, 0, sizeof(a));
	a.map_fd = map_fd; a.key = (unsigned long)&key; a.value = (unsigned long)&out;
	sys(BPF_MAP_LOOKUP_ELEM, &a, END(flags));
	a.flags = BPF_F_LOCK;
	sys(BPF_MAP_LOOKUP_ELEM, &a, END(flags));               /* EINVAL */
	a.flags = 0;
	sys(BPF_MAP_LOOKUP_ELEM, &a, END(value));                /* short size */
	memset(&a, 0, sizeof(a));
	a.map_fd = map_fd; a.next_key = (unsigned long)&next;
	sys(BPF_MAP_GET_NEXT_KEY, &a, END(next_key));
	a.key = (unsigned long)&next;
	sys(BPF_MAP_GET_NEXT_KEY, &a, END(next_key));           /* ENOENT */
	memset(&a, 0, sizeof(a));
	a.map_fd = map_fd; a.key = (unsigned long)&key; a.value = (unsigned long)&out;
	sys(BPF_MAP_LOOKUP_AND_DELETE_ELEM, &a, END(flags));
	sys(BPF_MAP_DELETE_ELEM, &a, END(key));                  /* ENOENT */
	a.map_fd = 999;
	sys(BPF_MAP_DELETE_ELEM, &a, END(key));                  /* EBADF */
	/* array map: E2BIG, frozen */
	memset(&a, 0, sizeof(a));
	key = 9;
	a.map_fd = arr_fd; a.key = (unsigned long)&key; a.value = (unsigned long)&out;
	sys(BPF_MAP_UPDATE_ELEM, &a, END(flags));                /* E2BIG */
	memset(&a, 0, sizeof(a));
	a.map_fd = arr_fd;
	sys(BPF_MAP_FREEZE, &a, END(map_fd));
	sys(BPF_MAP_FREEZE, &a, END(map_fd));                    /* EBUSY */
	/* pin / get */
	memset(&a, 0, sizeof(a));
	a.pathname = (unsigned long)pin; a.bpf_fd = map_fd;
	sys(BPF_OBJ_PIN, &a, END(file_flags));
	sys(BPF_OBJ_PIN, &a, END(file_flags));                   /* EEXIST */
	a.bpf_fd = 0; a.file_flags = BPF_F_RDONLY;
	long ro = sys(BPF_OBJ_GET, &a, END(file_flags));
	a.file_flags = BPF_F_RDONLY | BPF_F_WRONLY;
	sys(BPF_OBJ_GET, &a, END(file_flags));                   /* EINVAL */
	a.pathname = (unsigned long)"/sys/fs/bpf/no\tsuch\"pin";
	a.file_flags = 0;
	sys(BPF_OBJ_GET, &a, END(file_flags));                   /* ENOENT */
	memset(&a, 0, sizeof(a));
	a.map_fd = (unsigned int)ro; a.key = (unsigned long)&key; a.value = (unsigned long)&val;
	sys(BPF_MAP_UPDATE_ELEM, &a, END(flags));                /* EPERM */
	if (ro >= 0)
		close((int)ro);
	/* info */
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = map_fd; a.info.info_len = sizeof(info); a.info.info = (unsigned long)&info;
	sys(BPF_OBJ_GET_INFO_BY_FD, &a, END(info));
	memset(big, 0, sizeof(big));
	a.info.info_len = sizeof(big); a.info.info = (unsigned long)big;
	sys(BPF_OBJ_GET_INFO_BY_FD, &a, END(info));              /* info_len shrinks */
	a.info.bpf_fd = 999;
	sys(BPF_OBJ_GET_INFO_BY_FD, &a, END(info));              /* EBADF(D) */
	/* ids */
	memset(&a, 0, sizeof(a));
	a.map_id = info.id;
	long byid = sys(BPF_MAP_GET_FD_BY_ID, &a, END(open_flags));
	if (byid >= 0)
		close((int)byid);
	a.open_flags = BPF_F_RDONLY;
	byid = sys(BPF_MAP_GET_FD_BY_ID, &a, END(open_flags));
	if (byid >= 0)
		close((int)byid);
	a.open_flags = 0x10;
	sys(BPF_MAP_GET_FD_BY_ID, &a, END(open_flags));          /* EINVAL */
	memset(&a, 0, sizeof(a));
	a.start_id = 0x7fffffff;
	sys(BPF_MAP_GET_NEXT_ID, &a, END(next_id));              /* EINVAL */
	sys(BPF_PROG_GET_NEXT_ID, &a, END(next_id));
	sys(BPF_BTF_GET_NEXT_ID, &a, END(next_id));
	sys(BPF_LINK_GET_NEXT_ID, &a, END(next_id));
	memset(&a, 0, sizeof(a));
	a.prog_id = 0x7ffffff0;
	sys(BPF_PROG_GET_FD_BY_ID, &a, END(prog_id));            /* ENOENT */
	a.btf_id = 0x7ffffff0;
	sys(BPF_BTF_GET_FD_BY_ID, &a, END(btf_id));              /* ENOENT */
	/* attr edge cases */
	sys(BPF_MAP_FREEZE, NULL, 4);                              /* EFAULT */
	sys(BPF_MAP_FREEZE, (void *)8, 4);                         /* EFAULT */
	memset(big, 0, sizeof(big));
	big[199] = 1;
	sys(BPF_MAP_CREATE, big, sizeof(big));                     /* E2BIG */
	sys(1000, big, 8);                                         /* EINVAL */
	return NULL;
}

int main(int argc, char **argv)
{
	union bpf_attr a;

	pin = argc > 1 ? argv[1] : "/sys/fs/bpf/trace_calls";
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH; a.key_size = 4; a.value_size = 8; a.max_entries = 16;
	a.map_flags = BPF_F_NO_PREALLOC;
	strcpy(a.map_name, "tr.ace_1");
	map_fd = (int)sys(BPF_MAP_CREATE, &a, END(map_extra));
	strcpy(a.map_name, "tr\\ace");
	sys(BPF_MAP_CREATE, &a, END(map_extra));                  /* EINVAL: bad name */
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY; a.key_size = 4; a.value_size = 8; a.max_entries = 4;
	a.map_flags = BPF_F_RDONLY_PROG;
	arr_fd = (int)sys(BPF_MAP_CREATE, &a, END(map_name));
	a.map_type = 0x4242;
	sys(BPF_MAP_CREATE, &a, END(map_name));                   /* EINVAL */
	a.map_type = BPF_MAP_TYPE_HASH; a.key_size = 0;
	sys(BPF_MAP_CREATE, &a, END(max_entries));                 /* EINVAL */
	if (argc > 2 && (!strcmp(argv[2], "thread") || !strcmp(argv[2], "fork"))) {
		with_second_task(!strcmp(argv[2], "fork"));
	} else {
		calls(NULL);
	}
	unlink(pin);
	return 0;
}
