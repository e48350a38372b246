/* SPDX-License-Identifier: MIT */
/*
 * tools/seccomp/ring.c: epoll on ring buffer maps, for a program the seccomp
 * door serves.
 *
 * A map's fd is a regular file, which epoll refuses (EPERM). As the shim does
 * (preload/poll.c), the ring's readiness comes from its notification FIFO
 * (emu_ringbuf_notify_open), into which producers write a byte when the ring
 * becomes ready for a waiter:
 * - epoll_ctl(ADD/MOD/DEL) of a ring buffer fd: we add our FIFO fd to the
 *   program's own epoll instance (our copy of it, the same file) with the
 *   program's event data, count a waiter, and answer 0;
 * - epoll_wait of an instance that holds rings: we drain their FIFOs, ask
 *   each ring whether it is ready now and answer with those events if one
 *   is; otherwise the program's own epoll_wait continues in the kernel and
 *   sleeps until a producer's byte (written after our look, since the waiter
 *   was counted) or another fd wakes it.
 * Registrations of an epoll instance the program has closed, or of a program
 * that exited, are dropped when seen (kcmp of the instance, kill 0).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "door.h"

struct reg {
	pid_t tgid;
	int epfd, fd;                   /* the program's epoll fd and ring fd numbers */
	int lep, lring, fifo;           /* ours: the epoll instance, the ring, its FIFO */
	__u32 events;
	__u64 data;
	struct reg *next;
};
static struct reg *regs;

static void reg_free(struct reg **pp)
{
	struct reg *r = *pp;
	*pp = r->next;
	epoll_ctl(r->lep, EPOLL_CTL_DEL, r->fifo, NULL);
	emu_ringbuf_waiting(r->lring, -1);
	close(r->fifo);
	close(r->lring);
	close(r->lep);
	free(r);
}

/* Is the program's epfd still the instance we registered in? */
static bool same_file(pid_t tgid, int ufd, int fd)
{
	return syscall(SYS_kcmp, tgid, getpid(), KCMP_FILE, ufd, fd) == 0;
}

void door_ring_forget(pid_t tgid)
{
	for (struct reg **pp = &regs; *pp;)
		if ((*pp)->tgid == tgid || (kill((*pp)->tgid, 0) && errno == ESRCH))
			reg_free(pp);
		else
			pp = &(*pp)->next;
}

static struct reg **reg_find(pid_t tgid, int epfd, int fd)
{
	for (struct reg **pp = &regs; *pp; pp = &(*pp)->next)
		if ((*pp)->tgid == tgid && (*pp)->epfd == epfd && (*pp)->fd == fd)
			return pp;
	return NULL;
}

int door_epoll_ctl(struct call *k)
{
	int epfd = (int)k->args[0], op = (int)k->args[1], ufd = (int)k->args[2];
	struct epoll_event ev = { 0 };
	int r = DOOR_CONTINUE;

	pid_t tgid = call_tgid(k);
	call_begin(k);
	int lfd = call_fd(k, ufd);
	if (lfd < 0 || !emu_ringbuf_fd_type(lfd, false))
		goto out;
	if (op != EPOLL_CTL_DEL && call_read(k, &ev, k->args[3], sizeof(ev))) {
		r = -EFAULT;
		goto out;
	}
	int lep = call_fd(k, epfd);
	if (lep < 0) {
		r = -EBADF;
		goto out;
	}
	door_ring_forget(-1);                 /* programs gone */
	struct reg **pp = reg_find(tgid, epfd, ufd);
	if (pp && !same_file(tgid, epfd, (*pp)->lep)) {
		reg_free(pp);                 /* an old instance under the same number */
		pp = NULL;
	}
	struct epoll_event mine = { .events = EPOLLIN | (ev.events & (EPOLLET | EPOLLONESHOT)), .data = ev.data };
	switch (op) {
	case EPOLL_CTL_ADD: {
		if (pp) {
			r = -EEXIST;
			break;
		}
		struct reg *g = calloc(1, sizeof(*g));
		int fifo = g ? emu_ringbuf_notify_open(lfd) : -ENOMEM;
		if (fifo < 0) {
			free(g);
			r = fifo;
			break;
		}
		if (epoll_ctl(lep, EPOLL_CTL_ADD, fifo, &mine)) {
			r = -errno;
			close(fifo);
			free(g);
			break;
		}
		*g = (struct reg){ .tgid = tgid, .epfd = epfd, .fd = ufd, .lep = dup(lep), .lring = dup(lfd),
				   .fifo = fifo, .events = ev.events, .data = ev.data.u64, .next = regs };
		emu_ringbuf_waiting(g->lring, +1);
		regs = g;
		r = 0;
		break;
	}
	case EPOLL_CTL_MOD:
		if (!pp) {
			r = -ENOENT;
			break;
		}
		r = epoll_ctl((*pp)->lep, EPOLL_CTL_MOD, (*pp)->fifo, &mine) ? -errno : 0;
		if (!r) {
			(*pp)->events = ev.events;
			(*pp)->data = ev.data.u64;
		}
		break;
	case EPOLL_CTL_DEL:
		if (!pp) {
			r = -ENOENT;
			break;
		}
		reg_free(pp);
		r = 0;
		break;
	default:
		r = -EINVAL;
	}
out:
	call_end(k);
	return r;
}

int door_epoll_wait(struct call *k)
{
	if (!regs)
		return DOOR_CONTINUE;
	int epfd = (int)k->args[0], max = (int)k->args[2], n = 0;
	pid_t tgid = call_tgid(k);
	struct epoll_event out[64];

	for (struct reg **pp = &regs; *pp;) {
		struct reg *g = *pp;
		if (g->tgid != tgid || g->epfd != epfd) {
			pp = &g->next;
			continue;
		}
		if (!same_file(tgid, epfd, g->lep) || !same_file(tgid, g->fd, g->lring)) {
			reg_free(pp);         /* the instance or the ring fd was closed */
			continue;
		}
		char drain[64];
		while (read(g->fifo, drain, sizeof(drain)) > 0)
			;
		unsigned int rev = emu_ringbuf_revents(g->lring);
		__u32 want = g->events & (EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM);
		if ((rev & want) && n < max && n < (int)(sizeof(out) / sizeof(out[0]))) {
			out[n].events = rev & want;
			out[n].data.u64 = g->data;
			n++;
		}
		pp = &g->next;
	}
	if (!n)
		return DOOR_CONTINUE;
	return call_write(k, k->args[1], out, (size_t)n * sizeof(out[0])) ? -EFAULT : n;
}
