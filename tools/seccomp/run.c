/* SPDX-License-Identifier: MIT */
/*
 * tools/seccomp/run.c: start a program under the seccomp door and serve it.
 *
 * The child sets PR_SET_NO_NEW_PRIVS (no privilege needed), builds the
 * filter with libseccomp (SCMP_ACT_NOTIFY on bpf(), the file calls of
 * files.c, mmap of files, the epoll calls; everything else allowed, and so
 * are system calls of another ABI than the native one), loads it with a
 * notification fd, passes that fd to us over a socket pair and execs the
 * program. The filter is inherited by threads and children and survives
 * exec, so one supervisor (this process) serves the whole tree, one call at
 * a time, until the last task using the filter is gone (the notification fd
 * then reports POLLHUP).
 *
 * The filter is loaded with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV where the
 * kernel has it (5.19+): once we have received a call, only a fatal signal
 * interrupts the program's wait for our answer, so a call we carried out is
 * never restarted by a signal handler and done twice (bpf() calls are not
 * interruptible in the kernel either); before we received it, a signal
 * interrupts and restarts it as usual. libseccomp 2.5 has no attribute for
 * that flag: we export its filter and load it ourselves.
 *
 * If this process dies, the kernel answers every pending and later notified
 * call of the program with ENOSYS: the program never hangs on us.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>

#include "door.h"
#include "seccomp.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static const char *const other_calls[] = { "bpf", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", NULL };

static int add_rule(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;          /* not a call of this architecture */
	return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
}

/* In the child: the filter, loaded. The notification fd or -errno. */
static int load_filter(void)
{
	int err, nfd = -1;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	for (int i = 0; !err && other_calls[i]; i++)
		err = add_rule(ctx, other_calls[i]);
	for (int i = 0; !err && door_file_calls[i]; i++)
		err = add_rule(ctx, door_file_calls[i]);
	/* mmap of a file only: anonymous memory is most of them, and never ours */
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mmap), 1,
				       SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0));
	if (err)
		goto out;

	/* export and load with the killable-wait flag; else libseccomp's load */
	int mfd = memfd_create("bpfemu-filter", MFD_CLOEXEC);
	if (mfd >= 0 && !seccomp_export_bpf(ctx, mfd)) {
		off_t len = lseek(mfd, 0, SEEK_END);
		void *insns = len > 0 ? mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, mfd, 0) : MAP_FAILED;
		if (insns != MAP_FAILED) {
			struct sock_fprog prog = { .len = (unsigned short)(len / sizeof(struct sock_filter)),
						   .filter = insns };
			nfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
					   SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
					   &prog);
			munmap(insns, (size_t)len);
		}
	}
	if (mfd >= 0)
		close(mfd);
	if (nfd < 0) {
		err = seccomp_load(ctx);
		if (!err) {
			nfd = seccomp_notify_fd(ctx);
			if (nfd < 0)
				err = nfd;
		}
	}
out:
	seccomp_release(ctx);
	return err ? (err < 0 ? err : -err) : nfd;
}

static int send_fd(int sock, int fd)
{
	char c = 0;
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	struct cmsghdr *cm = n == 1 ? CMSG_FIRSTHDR(&m) : NULL;
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* ---- serving ---- */

static void serve(int nfd, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	struct call k = { .nfd = nfd, .id = req->id, .nr = req->data.nr, .pidfd = -1 };
	int r = DOOR_CONTINUE;

	k.c.tid = (pid_t)req->pid;
	memcpy(k.args, req->data.args, sizeof(k.args));
	if (req->data.arch == SCMP_ARCH_NATIVE || req->data.arch == seccomp_arch_native()) {
		if (k.nr == SYS_bpf)
			r = door_bpf(&k);
		else if (k.nr == SYS_mmap)
			r = door_mmap(&k);
		else if (k.nr == SYS_epoll_ctl)
			r = door_epoll_ctl(&k);
		else if (
#ifdef SYS_epoll_wait
			k.nr == SYS_epoll_wait ||
#endif
			k.nr == SYS_epoll_pwait || k.nr == SYS_epoll_pwait2)
			r = door_epoll_wait(&k);
		else if (door_files_handles(k.nr))
			r = door_files(&k);
	}
	free(k.lfds);
	free(k.ufds);
	if (r == DOOR_ANSWERED)
		return;
	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	if (r == DOOR_CONTINUE)
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else if (r < 0)
		resp->error = r;
	else
		resp->val = r;
	/* a caller that died or was killed meanwhile is not answered */
	if (seccomp_notify_id_valid(nfd, req->id) == 0)
		seccomp_notify_respond(nfd, resp);
}

static pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static int wait_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		struct rlimit no_core = { 0, 0 };
		sigset_t set;
		setrlimit(RLIMIT_CORE, &no_core);     /* the program dumped already, if it did */
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		fflush(NULL);
		raise(sig);
		return 128 + sig;
	}
	return EXIT_FAILURE;
}

int seccomp_door_run(char **argv)
{
	int sv[2], ep[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || pipe2(ep, O_CLOEXEC)) {
		fprintf(stderr, "bpfemu: seccomp door: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bpfemu: fork: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	if (pid == 0) {
		close(sv[0]);
		close(ep[0]);
		int nfd = load_filter();
		int msg[2] = { 0, 0 };
		if (nfd < 0 || send_fd(sv[1], nfd)) {
			msg[0] = 1;                    /* the door failed */
			msg[1] = nfd < 0 ? -nfd : errno;
			if (write(ep[1], msg, sizeof(msg)) < 0)
				_exit(EXIT_FAILURE);
			_exit(EXIT_FAILURE);
		}
		close(nfd);
		close(sv[1]);
		execvp(argv[0], argv);
		msg[0] = 2;                            /* exec failed */
		msg[1] = errno;
		if (write(ep[1], msg, sizeof(msg)) < 0)
			_exit(EXIT_FAILURE);
		_exit(msg[1] == ENOENT ? 127 : 126);
	}
	child_pid = pid;
	close(sv[1]);
	close(ep[1]);
	/* the traced program is the child: its pid is the trace's first task */
	if (getenv("BPFEMU_TRACE_PID")) {
		char p[16];
		snprintf(p, sizeof(p), "%d", (int)pid);
		setenv("BPFEMU_TRACE_PID", p, 1);
	}
	signal(SIGINT, SIG_IGN);       /* the terminal's signals reach the program too: it decides */
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction fw = { .sa_handler = forward };
	sigemptyset(&fw.sa_mask);
	int fwd[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM };
	for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &fw, NULL);

	int nfd = recv_fd(sv[0]);
	close(sv[0]);
	int status = -1;
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	if (nfd >= 0 && seccomp_notify_alloc(&req, &resp)) {
		close(nfd);
		nfd = -1;
	}
	struct seccomp_notif_sizes sizes = { 0 };
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes))
		sizes.seccomp_notif = sizeof(*req);

	int efd = ep[0];
	for (;;) {
		struct pollfd p[2] = { { nfd, POLLIN, 0 }, { efd, POLLIN, 0 } };
		int n = poll(p, 2, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			int msg[2];
			ssize_t got = read(efd, msg, sizeof(msg));
			if (got == (ssize_t)sizeof(msg) && msg[0] == 1) {
				fprintf(stderr, "bpfemu: seccomp door: the filter cannot be set up: %s\n", strerror(msg[1]));
				status = EXIT_FAILURE;
			} else if (got == (ssize_t)sizeof(msg)) {
				fprintf(stderr, "bpfemu: %s: %s\n", argv[0],
					msg[1] == ENOENT ? "command not found" : strerror(msg[1]));
				status = msg[1] == ENOENT ? 127 : 126;
			}
			close(efd);
			efd = -1;
		}
		if (nfd < 0) {
			if (efd < 0)
				break;
			continue;
		}
		if (p[0].revents & POLLIN) {
			memset(req, 0, sizes.seccomp_notif);
			if (seccomp_notify_receive(nfd, req) == 0) {
				serve(nfd, req, resp);
				continue;
			}
		}
		if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			break;          /* no task uses the filter any more */
	}
	if (req)
		seccomp_notify_free(req, resp);
	if (nfd >= 0)
		close(nfd);
	door_hold_release_all();
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return status >= 0 ? status : EXIT_FAILURE;
	}
	if (status >= 0)
		return status;
	return wait_status(st);
}

/* ---- static or dynamic ---- */

static bool elf_static(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	bool stat_ = false;
	if (fd < 0)
		return false;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 4096) {
		stat_ = true;
		for (unsigned int i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph) ||
			    ph.p_type == PT_INTERP) {
				stat_ = false;
				break;
			}
		}
	}
	close(fd);
	return stat_;
}

bool seccomp_door_static(const char *argv0)
{
	if (strchr(argv0, '/'))
		return elf_static(argv0);
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char cand[PATH_MAX];
		if (snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, n ? p : ".", argv0) < (int)sizeof(cand) &&
		    access(cand, X_OK) == 0) {
			struct stat sb;
			if (!stat(cand, &sb) && S_ISREG(sb.st_mode))
				return elf_static(cand);
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return false;
}
