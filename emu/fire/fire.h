/* SPDX-License-Identifier: MIT */
/*
 * emu/fire/fire.h: firing events. The programs attached to an event (links
 * and probe events made with BPFEMU_ATTACH=inert, by any process of the state
 * root: emu_attach_foreach) run in the VM of the calling process, on the
 * context their program type sees, with a synthetic task and kernel objects;
 * their map updates and perf/ring buffer output reach whoever reads those
 * maps (the tool that attached them). The CLI's `bpfemu fire` and the
 * embedding API's bpfemu_fire() are doors to this.
 *
 * An event and its values are words, as on the command line:
 *
 *   [OPTIONS] EVENT [NAME=VALUE...]
 *
 * EVENT is tracepoint:CAT:NAME (tp:), raw_tracepoint:NAME (raw_tp:),
 * kprobe:FUNC[+OFF] (= fentry:FUNC), kretprobe:FUNC (= fexit:FUNC),
 * uprobe:PATH:SYMBOL|OFFSET, uretprobe:PATH:SYMBOL|OFFSET, lsm:HOOK.
 * OPTIONS are --pid, --tid, --comm, --uid, --gid, --ppid, --cpu, --time
 * (ns, CLOCK_MONOTONIC), --cgroup PATH, --kstack ADDR,..., --ustack ADDR,...,
 * --count N. See man/bpfemu.1 (FIRE) for the names a value may be given to.
 */
#ifndef BPFEMU_FIRE_H
#define BPFEMU_FIRE_H

#include <linux/types.h>
#include <stddef.h>

/* One program run of a fired event, as reported to the caller. */
struct emu_fire_run {
	__u32 prog_id, prog_type;
	char prog_name[16];
	const char *how;               /* "tracepoint", "raw_tp", "tp_btf", "kprobe", "fentry", ... */
	__u64 retval;
	int err;                       /* 0, or how the run ended early (-errno) */
};
typedef void (*emu_fire_cb)(const struct emu_fire_run *run, void *ctx);

/*
 * Fires the event the words describe. Returns the number of program runs
 * (0: nothing is attached to it), or -errno with a message in msg for a bad
 * event or value (EINVAL, ENOENT for an event the kernel does not have, ERANGE
 * for a value that does not fit, ENOMEM). Runs that end early are reported
 * through cb (which may be NULL) and counted as runs.
 */
int emu_fire_words(int n, char *const words[], emu_fire_cb cb, void *ctx, char *msg, size_t len);
/* The same for one line of words (shell-like quoting: '...', "...", \x; # starts a comment). */
int emu_fire_line(const char *line, emu_fire_cb cb, void *ctx, char *msg, size_t len);

/* The format file tracefs would show for CAT/NAME (events/CAT/NAME/format),
 * made up from the kernel's BTF or bpfemu's syscall table when tracefs cannot
 * be read (the shim's made-up tracefs in BPFEMU_ATTACH=inert mode): its
 * length, -ENOENT for a tracepoint the kernel does not have, -ENOSPC. */
int emu_fire_format_text(const char *cat, const char *name, char *buf, size_t len);

/* For the embedding API (bpfemu_fire, bpfemu_fire_line): the same, the
 * message kept for bpfemu_fire_error(); a run that ended early is the call's
 * -errno (the other programs still ran). */
int emu_fire_api_words(const char *const words[]);
int emu_fire_api_line(const char *line);

#endif
