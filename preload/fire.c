/* SPDX-License-Identifier: MIT */
/*
 * preload/fire.c: the event-firing calls of the embedding API as
 * libbpfemu.so exports them: the engine's (emu/fire/fire.c), with shim_busy
 * raised so the engine's own file calls (the state root, /proc, tracefs) do
 * not come back through the wrappers.
 */
#include <errno.h>

#include "real.h"
#include "fire/fire.h"

SHIM_EXPORT int bpfemu_fire(const char *const words[])
{
	SHIM_ENTER();
	int r = emu_fire_api_words(words);
	SHIM_LEAVE();
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

SHIM_EXPORT int bpfemu_fire_line(const char *line)
{
	SHIM_ENTER();
	int r = emu_fire_api_line(line);
	SHIM_LEAVE();
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}
