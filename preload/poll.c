/* SPDX-License-Identifier: MIT */
/*
 * preload/poll.c: epoll, poll and select on ring buffer map fds and perf
 * event fds ("rings" below; the engine tells them apart, emu/wait.c).
 *
 * The kernel's ring buffer fd is pollable (readable when data is available;
 * a user ring buffer writable while it has space), and so is a perf event's
 * (readable after a wake-up, until a poll reads it; EPOLLHUP before its ring
 * is mapped). Ours are regular files: epoll_ctl refuses them (EPERM) and
 * poll always calls them ready. So:
 *
 *  - epoll_ctl: when the real call says EPERM and the fd is a ring buffer, the
 *    ring's notification fd (emu_ringbuf_notify_open) goes into the epoll set
 *    instead, tagged with our registration; the program's events and data
 *    are kept here, per (epoll fd, map fd).
 *  - epoll_wait/epoll_pwait/epoll_pwait2 on an epoll fd with registrations,
 *    poll/ppoll/select/pselect with a ring buffer fd among their fds: report
 *    the rings that are ready now; if none (and no other fd) is, count as a
 *    waiter, check again, then block in the real call on the notification
 *    fds and the program's other fds; on wake-up drain, re-check, and block
 *    again for what is left of the timeout if it was spurious.
 *
 * Other fds and epoll sets without rings cost one failed-EPERM check
 * (epoll_ctl), one list check (epoll_wait) or one fd-cache read per fd (poll,
 * select): no system call.
 */
#undef _FORTIFY_SOURCE
/* glibc declares poll's array write-only (__attr_access), but poll reads its events */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "real.h"

struct rbreg {
	int epfd, fd, nfd;
	uint32_t events;
	epoll_data_t data;
	struct rbreg *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rbreg *regs;
static int nregs;                      /* read without the lock: the fast path */

static struct rbreg *reg_find(int epfd, int fd)
{
	for (struct rbreg *r = regs; r; r = r->next)
		if (r->epfd == epfd && r->fd == fd)
			return r;
	return NULL;
}

static bool reg_is(int epfd, void *p)
{
	for (struct rbreg *r = regs; r; r = r->next)
		if (r == p && r->epfd == epfd)
			return true;
	return false;
}

static void drain(int nfd)
{
	char buf[64];
	while (read(nfd, buf, sizeof(buf)) > 0)
		;
}

/* ---- time ---- */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* deadline < 0: forever. Remaining milliseconds, rounded up, -1 for forever. */
static int remaining_ms(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - now_ns();
	if (left <= 0)
		return 0;
	int64_t ms = (left + 999999) / 1000000;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static int64_t deadline_of_ms(int timeout)
{
	return timeout < 0 ? -1 : now_ns() + (int64_t)timeout * 1000000;
}

static int64_t deadline_of_ts(const struct timespec *ts)
{
	return !ts ? -1 : now_ns() + (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* ---- epoll ---- */

static int rb_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct rbreg *r;
	int err = 0;

	pthread_mutex_lock(&reg_lock);
	r = reg_find(epfd, fd);
	switch (op) {
	case EPOLL_CTL_ADD: {
		if (r) {
			err = -EEXIST;
			break;
		}
		int nfd = emu_poll_notify_open(fd);
		if (nfd < 0) {
			err = nfd;
			break;
		}
		r = calloc(1, sizeof(*r));
		if (!r) {
			close(nfd);
			err = -ENOMEM;
			break;
		}
		*r = (struct rbreg){ .epfd = epfd, .fd = fd, .nfd = nfd, .events = ev->events, .data = ev->data };
		struct epoll_event nev = { .events = EPOLLIN, .data.ptr = r };
		if (REAL(epoll_ctl)(epfd, EPOLL_CTL_ADD, nfd, &nev)) {
			err = -errno;
			close(nfd);
			free(r);
			break;
		}
		r->next = regs;
		regs = r;
		__atomic_add_fetch(&nregs, 1, __ATOMIC_RELEASE);
		break;
	}
	case EPOLL_CTL_MOD:
		if (!r) {
			err = -ENOENT;
			break;
		}
		r->events = ev->events;
		r->data = ev->data;
		break;
	case EPOLL_CTL_DEL:
		if (!r) {
			err = -ENOENT;
			break;
		}
		REAL(epoll_ctl)(epfd, EPOLL_CTL_DEL, r->nfd, NULL);
		close(r->nfd);
		for (struct rbreg **pp = &regs; *pp; pp = &(*pp)->next)
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		free(r);
		__atomic_sub_fetch(&nregs, 1, __ATOMIC_RELEASE);
		break;
	default:
		err = -EINVAL;
	}
	pthread_mutex_unlock(&reg_lock);
	return err;
}

SHIM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int r = REAL(epoll_ctl)(epfd, op, fd, ev);
	if (r == 0 || errno != EPERM || shim_busy)
		return r;
	int saved = errno;
	SHIM_ENTER();
	if (!emu_pollable(fd, false)) {
		SHIM_LEAVE();
		errno = saved;
		return r;
	}
	if (op != EPOLL_CTL_DEL && op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD)
		r = -EINVAL;
	else if (op != EPOLL_CTL_DEL && !ev)
		r = -EFAULT;
	else
		r = rb_epoll_ctl(epfd, op, fd, ev);
	SHIM_LEAVE();
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* The program's ring registrations on epfd that are ready now, as its own
 * events, into out (at most max). Also counts (delta) waiters. */
static int rings_ready(int epfd, struct epoll_event *out, int max, int waiting)
{
	int n = 0;
	pthread_mutex_lock(&reg_lock);
	for (struct rbreg *r = regs; r; r = r->next) {
		if (r->epfd != epfd)
			continue;
		if (waiting)
			emu_poll_waiting(r->fd, waiting);
		unsigned int mask = r->events | EPOLLERR | EPOLLHUP;
		unsigned int ev = emu_poll_revents(r->fd, false) & mask;
		if (ev && n < max)
			ev = emu_poll_revents(r->fd, true) & mask;   /* reported: a perf wake-up is read */
		if (ev && n < max) {
			out[n].events = ev;
			out[n].data = r->data;
			n++;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	return n;
}

static bool epfd_has_rings(int epfd)
{
	bool any = false;
	if (!__atomic_load_n(&nregs, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&reg_lock);
	for (struct rbreg *r = regs; r && !any; r = r->next)
		any = r->epfd == epfd;
	pthread_mutex_unlock(&reg_lock);
	return any;
}

/* Drops our notification events from ev[0..n) (draining them); returns the rest's count. */
static int strip_ours(int epfd, struct epoll_event *ev, int n)
{
	int k = 0;
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < n; i++) {
		if (reg_is(epfd, ev[i].data.ptr)) {
			drain(((struct rbreg *)ev[i].data.ptr)->nfd);
			continue;
		}
		ev[k++] = ev[i];
	}
	pthread_mutex_unlock(&reg_lock);
	return k;
}

static int real_epoll_wait(int epfd, struct epoll_event *ev, int max, int ms, const sigset_t *sigmask)
{
	return sigmask ? REAL(epoll_pwait)(epfd, ev, max, ms, sigmask) : REAL(epoll_wait)(epfd, ev, max, ms);
}

static int rb_epoll_wait(int epfd, struct epoll_event *ev, int max, int64_t deadline, const sigset_t *sigmask)
{
	struct epoll_event *mine = calloc((size_t)max, sizeof(*mine));
	int n, k;
	if (!mine) {
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		n = rings_ready(epfd, mine, max, 0);
		if (!n) {
			/* count ourselves, check again (a producer may have made it ready in between), block */
			n = rings_ready(epfd, mine, max, +1);
			k = n ? 0 : real_epoll_wait(epfd, ev, max, remaining_ms(deadline), sigmask);
			int saved = errno;
			rings_ready(epfd, mine, 0, -1);
			if (k < 0) {
				free(mine);
				errno = saved;
				return -1;
			}
			k = strip_ours(epfd, ev, k);
			if (!n)
				n = rings_ready(epfd, mine, max - k, 0);
		} else {
			k = max > n ? real_epoll_wait(epfd, ev, max - n, 0, NULL) : 0;
			k = k < 0 ? 0 : strip_ours(epfd, ev, k);
		}
		if (n + k > 0 || remaining_ms(deadline) == 0)
			break;
	}
	/* the program's other fds first (as the real call returned them), then the rings */
	memcpy(ev + k, mine, (size_t)n * sizeof(*mine));
	free(mine);
	return n + k;
}

static bool epoll_args_ok(int max)
{
	return max > 0 && max <= (int)(INT32_MAX / sizeof(struct epoll_event));
}

SHIM_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	if (shim_busy || !epoll_args_ok(max) || !epfd_has_rings(epfd))
		return REAL(epoll_wait)(epfd, ev, max, timeout);
	SHIM_ENTER();
	int r = rb_epoll_wait(epfd, ev, max, deadline_of_ms(timeout), NULL);
	int saved = errno;
	SHIM_LEAVE();
	errno = saved;
	return r;
}

SHIM_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *sigmask)
{
	if (shim_busy || !epoll_args_ok(max) || !epfd_has_rings(epfd))
		return REAL(epoll_pwait)(epfd, ev, max, timeout, sigmask);
	SHIM_ENTER();
	int r = rb_epoll_wait(epfd, ev, max, deadline_of_ms(timeout), sigmask);
	int saved = errno;
	SHIM_LEAVE();
	errno = saved;
	return r;
}

SHIM_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *timeout,
			     const sigset_t *sigmask)
{
	if (shim_busy || !epoll_args_ok(max) || !epfd_has_rings(epfd))
		return REAL(epoll_pwait2)(epfd, ev, max, timeout, sigmask);
	SHIM_ENTER();
	int r = rb_epoll_wait(epfd, ev, max, deadline_of_ts(timeout), sigmask);
	int saved = errno;
	SHIM_LEAVE();
	errno = saved;
	return r;
}

/* ---- poll, ppoll, select, pselect ---- */

static bool any_ring(const struct pollfd *fds, nfds_t n)
{
	bool any = false;
	SHIM_ENTER();
	for (nfds_t i = 0; i < n && !any; i++)
		any = fds[i].fd >= 0 && emu_pollable(fds[i].fd, true);
	SHIM_LEAVE();
	return any;
}

/* fds with rings: sh is a shadow array where ring entries wait on their notification fd */
static int rb_poll(struct pollfd *fds, nfds_t n, int64_t deadline, const sigset_t *sigmask)
{
	struct pollfd *sh = calloc(n, sizeof(*sh));
	bool *ring = calloc(n, sizeof(*ring));
	int total = -1;
	if (!sh || !ring) {
		errno = ENOMEM;
		goto out;
	}
	for (nfds_t i = 0; i < n; i++) {
		sh[i] = fds[i];
		ring[i] = fds[i].fd >= 0 && emu_pollable(fds[i].fd, false);
		if (ring[i]) {
			sh[i].fd = emu_poll_notify_open(fds[i].fd);
			sh[i].events = POLLIN;
		}
	}
	for (;;) {
		int nr = 0;
		for (nfds_t i = 0; i < n; i++)
			if (ring[i] && (emu_poll_revents(fds[i].fd, false) & (fds[i].events | POLLERR | POLLHUP | POLLNVAL)))
				nr++;
		if (!nr)
			for (nfds_t i = 0; i < n; i++)
				if (ring[i])
					emu_poll_waiting(fds[i].fd, +1);
		for (nfds_t i = 0; i < n && !nr; i++)
			if (ring[i] && (emu_poll_revents(fds[i].fd, false) & (fds[i].events | POLLERR | POLLHUP | POLLNVAL)))
				nr++;
		struct timespec ts, *tsp = NULL;
		int ms = nr ? 0 : remaining_ms(deadline);
		if (ms >= 0) {
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (long)(ms % 1000) * 1000000;
			tsp = &ts;
		}
		int k = REAL(ppoll)(sh, n, tsp, sigmask);
		int saved = errno;
		if (!nr)
			for (nfds_t i = 0; i < n; i++)
				if (ring[i])
					emu_poll_waiting(fds[i].fd, -1);
		if (k < 0) {
			errno = saved;
			goto out;
		}
		total = 0;
		for (nfds_t i = 0; i < n; i++) {
			if (ring[i]) {
				if (sh[i].revents)
					drain(sh[i].fd);
				fds[i].revents = (short)(emu_poll_revents(fds[i].fd, true) &
							 (fds[i].events | POLLERR | POLLHUP | POLLNVAL));
			} else {
				fds[i].revents = sh[i].revents;
			}
			total += fds[i].revents != 0;
		}
		if (total || remaining_ms(deadline) == 0)
			break;
	}
out:
	if (sh)
		for (nfds_t i = 0; i < n; i++)
			if (ring && ring[i] && sh[i].fd >= 0)
				close(sh[i].fd);
	free(sh);
	free(ring);
	return total;
}

SHIM_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (shim_busy || !fds || n > 65536 || !any_ring(fds, n))
		return REAL(poll)(fds, n, timeout);
	SHIM_ENTER();
	int r = rb_poll(fds, n, deadline_of_ms(timeout), NULL);
	int saved = errno;
	SHIM_LEAVE();
	errno = saved;
	return r;
}

SHIM_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *sigmask)
{
	if (shim_busy || !fds || n > 65536 || !any_ring(fds, n))
		return REAL(ppoll)(fds, n, timeout, sigmask);
	SHIM_ENTER();
	int r = rb_poll(fds, n, deadline_of_ts(timeout), sigmask);
	int saved = errno;
	SHIM_LEAVE();
	errno = saved;
	return r;
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
SHIM_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();                        /* glibc's __chk_fail */
	return poll(fds, n, timeout);
}

/* select over poll: the sets become pollfds and back */
static bool sets_have_ring(int nfds, fd_set *r, fd_set *w, fd_set *e)
{
	bool any = false;
	SHIM_ENTER();
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE && !any; fd++)
		if ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e)))
			any = emu_pollable(fd, true);
	SHIM_LEAVE();
	return any;
}

static int rb_select(int nfds, fd_set *r, fd_set *w, fd_set *e, int64_t deadline, const sigset_t *sigmask)
{
	struct pollfd pf[FD_SETSIZE];
	nfds_t n = 0;
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
		short ev = (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) | (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
				   (e && FD_ISSET(fd, e) ? POLLPRI : 0));
		if (ev)
			pf[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	int k = rb_poll(pf, n, deadline, sigmask);
	if (k < 0)
		return k;
	for (nfds_t i = 0; i < n; i++)
		if (pf[i].revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (e)
		FD_ZERO(e);
	int bits = 0;
	for (nfds_t i = 0; i < n; i++) {
		short re = pf[i].revents;
		if (r && (pf[i].events & POLLIN) && (re & (POLLIN | POLLRDNORM | POLLHUP | POLLERR))) {
			FD_SET(pf[i].fd, r);
			bits++;
		}
		if (w && (pf[i].events & POLLOUT) && (re & (POLLOUT | POLLWRNORM | POLLERR))) {
			FD_SET(pf[i].fd, w);
			bits++;
		}
		if (e && (pf[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(pf[i].fd, e);
			bits++;
		}
	}
	return bits;
}

SHIM_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (shim_busy || nfds <= 0 || !sets_have_ring(nfds, r, w, e))
		return REAL(select)(nfds, r, w, e, tv);
	SHIM_ENTER();
	int64_t deadline = tv ? now_ns() + (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000 : -1;
	int ret = rb_select(nfds, r, w, e, deadline, NULL);
	int saved = errno;
	if (tv) {                            /* Linux writes back the time left */
		int64_t left = deadline - now_ns();
		if (left < 0)
			left = 0;
		tv->tv_sec = left / 1000000000;
		tv->tv_usec = (left % 1000000000) / 1000;
	}
	SHIM_LEAVE();
	errno = saved;
	return ret;
}

SHIM_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
			const sigset_t *sigmask)
{
	if (shim_busy || nfds <= 0 || !sets_have_ring(nfds, r, w, e))
		return REAL(pselect)(nfds, r, w, e, ts, sigmask);
	SHIM_ENTER();
	int ret = rb_select(nfds, r, w, e, deadline_of_ts(ts), sigmask);
	int saved = errno;
	SHIM_LEAVE();
	errno = saved;
	return ret;
}

/* A closed map fd leaves every epoll set, as the kernel's last fput does. */
void shim_poll_fd_closed(int fd)
{
	if (!__atomic_load_n(&nregs, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&reg_lock);
	for (struct rbreg **pp = &regs; *pp;) {
		struct rbreg *r = *pp;
		if (r->fd == fd || r->epfd == fd) {
			if (r->fd == fd)
				REAL(epoll_ctl)(r->epfd, EPOLL_CTL_DEL, r->nfd, NULL);
			close(r->nfd);
			*pp = r->next;
			free(r);
			__atomic_sub_fetch(&nregs, 1, __ATOMIC_RELEASE);
		} else {
			pp = &r->next;
		}
	}
	pthread_mutex_unlock(&reg_lock);
}
