/* SPDX-License-Identifier: MIT */
/*
 * emu/wait.c: readiness of the emulated fds the kernel makes pollable, for
 * the shim's epoll/poll/select wrappers (preload/poll.c): ring buffer maps
 * (emu/ringbuf.c) and perf events (emu/perf/event.c). Both are regular files
 * here, so a waiter sleeps on a FIFO per object that producers write a byte
 * into; these functions hide which kind an fd is.
 */
#include <poll.h>

#include "emu.h"
#include "perf/perf.h"

bool emu_pollable(int fd, bool cached_only)
{
	return emu_ringbuf_fd_type(fd, cached_only) != 0 || emu_perf_is_event(fd, cached_only);
}

int emu_poll_notify_open(int fd)
{
	return emu_ringbuf_fd_type(fd, false) ? emu_ringbuf_notify_open(fd) : emu_perf_notify_open(fd);
}

unsigned int emu_poll_revents(int fd, bool consume)
{
	return emu_ringbuf_fd_type(fd, false) ? emu_ringbuf_revents(fd) : emu_perf_revents(fd, consume);
}

void emu_poll_waiting(int fd, int delta)
{
	if (emu_ringbuf_fd_type(fd, false))
		emu_ringbuf_waiting(fd, delta);
	else
		emu_perf_waiting(fd, delta);
}
