/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/helper_table.h: the ONE helper table, one line per helper:
 *     VM_HELPER(BPF_FUNC_x, implementation, "prototype" or NULL, "limits" or NULL)
 *     VM_HELPER_USER(BPF_FUNC_x, "prototype", "why bpfemu has none")
 * The prototype, where there is one, is what a user function standing in
 * for the helper gets (emu/vm/ffi.c, BPFEMU_FUNCS): "ret(arg,...)" with
 * u8..u64 / s8..s64, void, p (a pointer passed as it is) and p:rN / p:wN (a
 * pointer the program may read / write, of the size argument N gives; p:r=K:
 * K bytes). VM_HELPER_USER lines are helpers bpfemu does not emulate that a
 * user function may provide.
 * Which program types may call a helper, which need a GPL license and which
 * may sleep is the kernel's answer, checked at load (emu/helpers.h, generated
 * on Linux 6.18). A helper missing here loads as on the kernel; a run that
 * reaches its call ends with EOPNOTSUPP and a BPFEMU_LOG=vm line naming it.
 * The README's helper table is this file.
 */
/* maps */
VM_HELPER(BPF_FUNC_map_lookup_elem, vm_h_map_lookup_elem, NULL,
	  "hash, array (per-CPU: the running CPU's slot), LRU (sets the reference bit), LPM trie, "
	  "array/hash of maps (the inner map)")
VM_HELPER(BPF_FUNC_map_update_elem, vm_h_map_update_elem, NULL, "hash, array, LRU, LPM trie; per-CPU: the CPU's slot")
VM_HELPER(BPF_FUNC_map_delete_elem, vm_h_map_delete_elem, NULL, "hash, LRU, LPM trie (arrays: -EINVAL)")
VM_HELPER(BPF_FUNC_map_push_elem, vm_h_map_push_elem, NULL, "queue, stack, bloom filter")
VM_HELPER(BPF_FUNC_map_pop_elem, vm_h_map_pop_elem, NULL, "queue, stack")
VM_HELPER(BPF_FUNC_map_peek_elem, vm_h_map_peek_elem, NULL, "queue, stack, bloom filter")
VM_HELPER(BPF_FUNC_map_lookup_percpu_elem, vm_h_map_lookup_percpu_elem, NULL, NULL)
VM_HELPER(BPF_FUNC_for_each_map_elem, vm_h_for_each_map_elem, NULL,
	  "hash (get_next_key order, the next key taken before the callback runs), array")
VM_HELPER(BPF_FUNC_spin_lock, vm_h_spin_lock, NULL, "the lock BPF_F_LOCK takes (hash: the key's stripe; array: the map's)")
VM_HELPER(BPF_FUNC_spin_unlock, vm_h_spin_unlock, NULL, NULL)
VM_HELPER(BPF_FUNC_kptr_xchg, vm_h_kptr_xchg, NULL,
	  "a referenced kptr field of a map value: an atomic exchange; an object left in a map is never released "
	  "(no destructor when the element is overwritten, deleted or the map freed)")
VM_HELPER(BPF_FUNC_tail_call, vm_h_tail_call, NULL, "33 at most; the target's own maps")
/* ring buffers */
VM_HELPER(BPF_FUNC_ringbuf_output, vm_h_ringbuf_output, NULL, NULL)
VM_HELPER(BPF_FUNC_ringbuf_reserve, vm_h_ringbuf_reserve, NULL, NULL)
VM_HELPER(BPF_FUNC_ringbuf_submit, vm_h_ringbuf_submit, NULL, NULL)
VM_HELPER(BPF_FUNC_ringbuf_discard, vm_h_ringbuf_discard, NULL, NULL)
VM_HELPER(BPF_FUNC_ringbuf_query, vm_h_ringbuf_query, NULL, NULL)
/* time, randomness, the CPU, the calling task */
VM_HELPER(BPF_FUNC_ktime_get_ns, vm_h_ktime_get_ns, "u64()", "CLOCK_MONOTONIC")
VM_HELPER(BPF_FUNC_ktime_get_boot_ns, vm_h_ktime_get_boot_ns, "u64()", "CLOCK_BOOTTIME")
VM_HELPER(BPF_FUNC_ktime_get_coarse_ns, vm_h_ktime_get_coarse_ns, "u64()", "CLOCK_MONOTONIC_COARSE")
VM_HELPER(BPF_FUNC_ktime_get_tai_ns, vm_h_ktime_get_tai_ns, "u64()", "CLOCK_TAI")
VM_HELPER(BPF_FUNC_get_prandom_u32, vm_h_get_prandom_u32, "u32()", "a per-thread generator seeded from getrandom()")
VM_HELPER(BPF_FUNC_get_smp_processor_id, vm_h_get_smp_processor_id, "u32()",
	  "the CPU the calling thread ran on when the run began (fixed for the run)")
VM_HELPER(BPF_FUNC_get_numa_node_id, vm_h_get_numa_node_id, "s64()", "getcpu()'s node")
VM_HELPER(BPF_FUNC_get_current_pid_tgid, vm_h_get_current_pid_tgid, "u64()",
	  "the calling thread, the program's under the seccomp door (ids of its pid namespace)")
VM_HELPER(BPF_FUNC_get_current_uid_gid, vm_h_get_current_uid_gid, "u64()", "the calling process's real uid and gid")
VM_HELPER(BPF_FUNC_get_current_comm, vm_h_get_current_comm, "s64(p:w2,u32)", "the calling thread's name")
/* control */
VM_HELPER(BPF_FUNC_timer_init, vm_h_timer_init, NULL, "array, hash and LRU hash values; the timer is the initializing process's")
VM_HELPER(BPF_FUNC_timer_set_callback, vm_h_timer_set_callback, NULL, NULL)
VM_HELPER(BPF_FUNC_timer_start, vm_h_timer_start, NULL,
	  "the callback runs in a thread of the process that set it, while that process lives")
VM_HELPER(BPF_FUNC_timer_cancel, vm_h_timer_cancel, NULL, NULL)
VM_HELPER(BPF_FUNC_loop, vm_h_loop, NULL, NULL)
/* formatting and strings (fmt.c) */
VM_HELPER(BPF_FUNC_trace_printk, vm_h_trace_printk, NULL,
	  "events in the state root's trace buffer, read at /sys/kernel/tracing/trace_pipe; %p and %pK print the address")
VM_HELPER(BPF_FUNC_trace_vprintk, vm_h_trace_vprintk, NULL, "as trace_printk")
VM_HELPER(BPF_FUNC_snprintf, vm_h_snprintf, NULL, "%p and %pK print the address (the kernel hashes it)")
VM_HELPER(BPF_FUNC_strtol, vm_h_strtol, NULL, NULL)
VM_HELPER(BPF_FUNC_strtoul, vm_h_strtoul, NULL, NULL)
VM_HELPER(BPF_FUNC_strncmp, vm_h_strncmp, NULL, NULL)
/* packets */
VM_HELPER(BPF_FUNC_skb_load_bytes, vm_h_skb_load_bytes, NULL, NULL)
VM_HELPER(BPF_FUNC_skb_store_bytes, vm_h_skb_store_bytes, NULL, "the flags' checksum and hash effects are not modelled")
VM_HELPER(BPF_FUNC_csum_diff, vm_h_csum_diff, NULL, NULL)
VM_HELPER(BPF_FUNC_xdp_adjust_head, vm_h_xdp_adjust_head, NULL, NULL)
VM_HELPER(BPF_FUNC_xdp_adjust_tail, vm_h_xdp_adjust_tail, NULL, "the linear buffer only (no fragments)")
VM_HELPER(BPF_FUNC_xdp_adjust_meta, vm_h_xdp_adjust_meta, NULL, NULL)
VM_HELPER(BPF_FUNC_fib_lookup, vm_h_fib_lookup, NULL,
	  "the kernel's checks, and FWD_DISABLED where the device does not forward; routing table lookups are not "
	  "emulated (a forwarding device ends the run with EOPNOTSUPP)")
/* the skb's shape and metadata (skb.c) */
VM_HELPER(BPF_FUNC_skb_pull_data, vm_h_skb_pull_data, NULL, NULL)
VM_HELPER(BPF_FUNC_skb_change_head, vm_h_skb_change_head, NULL, NULL)
VM_HELPER(BPF_FUNC_skb_change_tail, vm_h_skb_change_tail, NULL, NULL)
VM_HELPER(BPF_FUNC_skb_change_proto, vm_h_skb_change_proto, NULL, "IPv4 <-> IPv6; no GSO")
VM_HELPER(BPF_FUNC_skb_change_type, vm_h_skb_change_type, NULL, NULL)
VM_HELPER(BPF_FUNC_skb_adjust_room, vm_h_skb_adjust_room, NULL, "no GSO; the inner header offsets are not kept")
VM_HELPER(BPF_FUNC_l3_csum_replace, vm_h_l3_csum_replace, NULL, NULL)
VM_HELPER(BPF_FUNC_l4_csum_replace, vm_h_l4_csum_replace, NULL, NULL)
VM_HELPER(BPF_FUNC_csum_update, vm_h_csum_update, NULL, NULL)
VM_HELPER(BPF_FUNC_csum_level, vm_h_csum_level, NULL, NULL)
VM_HELPER(BPF_FUNC_get_hash_recalc, vm_h_get_hash_recalc, NULL, "a hash of the flow's fields, not the kernel's (a key chosen at boot)")
VM_HELPER(BPF_FUNC_set_hash, vm_h_set_hash, NULL, NULL)
VM_HELPER(BPF_FUNC_set_hash_invalid, vm_h_set_hash_invalid, NULL, NULL)
VM_HELPER(BPF_FUNC_skb_vlan_push, vm_h_skb_vlan_push, NULL, NULL)
VM_HELPER(BPF_FUNC_skb_vlan_pop, vm_h_skb_vlan_pop, NULL, NULL)
VM_HELPER(BPF_FUNC_redirect, vm_h_redirect, NULL, "recorded (bpfemu_test_run_redirect()), nothing is sent")
VM_HELPER(BPF_FUNC_redirect_map, vm_h_redirect_map, NULL,
	  "devmap, devmap hash, cpumap, xskmap; recorded, nothing is sent")
VM_HELPER(BPF_FUNC_sk_assign, vm_h_sk_assign, NULL, "sk_lookup: NULL only (no socket reaches a program here)")
/* syscall programs (sysbpf.c) */
VM_HELPER(BPF_FUNC_sys_bpf, vm_h_sys_bpf, NULL, "through the engine; pointers in attr must lie in the program's memory")
/* not emulated; a user function (BPFEMU_FUNCS) may stand in */
VM_HELPER_USER(BPF_FUNC_jiffies64, "u64()", "the kernel's HZ and boot jiffies are not known here")
VM_HELPER_USER(BPF_FUNC_get_cgroup_classid, "u32(p)", "cgroups are not emulated")
VM_HELPER_USER(BPF_FUNC_get_route_realm, "u32(p)", "no routes in a test run")
VM_HELPER_USER(BPF_FUNC_get_socket_cookie, "u64(p)", "no sockets in a test run")
VM_HELPER_USER(BPF_FUNC_get_socket_uid, "u32(p)", "no sockets in a test run")
VM_HELPER_USER(BPF_FUNC_get_netns_cookie, "u64(p)", "network namespaces are not emulated")
VM_HELPER_USER(BPF_FUNC_get_ns_current_pid_tgid, "s64(u64,u64,p:w4,u32)", "pid namespaces are not emulated")
/* tracing: answered from the fired event (emu/fire, emu/vm/tracing.c); outside one, the calling process */
VM_HELPER(BPF_FUNC_probe_read_kernel, vm_h_probe_read_kernel, "s64(p:w2,u32,p)",
	  "the run's memory and the event's kernel objects; a user address -ERANGE, else -EFAULT (buffer cleared)")
VM_HELPER(BPF_FUNC_probe_read_kernel_str, vm_h_probe_read_kernel_str, "s64(p:w2,u32,p)", "as probe_read_kernel")
VM_HELPER(BPF_FUNC_probe_read_user, vm_h_probe_read_user, "s64(p:w2,u32,p)", "the event task's user memory, else -EFAULT")
VM_HELPER(BPF_FUNC_probe_read_user_str, vm_h_probe_read_user_str, "s64(p:w2,u32,p)", "as probe_read_user")
VM_HELPER(BPF_FUNC_probe_read, vm_h_probe_read, "s64(p:w2,u32,p)", "user memory for a user address, else kernel memory")
VM_HELPER(BPF_FUNC_probe_read_str, vm_h_probe_read_str, "s64(p:w2,u32,p)", "as probe_read")
VM_HELPER(BPF_FUNC_get_current_task, vm_h_get_current_task, "u64()", "the event task's task_struct (0 outside an event)")
VM_HELPER(BPF_FUNC_get_current_task_btf, vm_h_get_current_task_btf, "u64()", "as get_current_task")
VM_HELPER(BPF_FUNC_perf_event_output, vm_h_perf_event_output, NULL,
	  "BPF output events of any process; skb/XDP: flags >> 32 packet bytes appended")
VM_HELPER(BPF_FUNC_get_stackid, vm_h_get_stackid, NULL, "the event's stack (--kstack/--ustack) into the stack trace map; none: -EFAULT")
VM_HELPER(BPF_FUNC_get_stack, vm_h_get_stack, NULL, "the event's stack; none: -EFAULT (buffer cleared)")
VM_HELPER(BPF_FUNC_get_func_ip, vm_h_get_func_ip, "u64(p)", "the probed function's address (kallsyms, else made up)")
VM_HELPER(BPF_FUNC_get_attach_cookie, vm_h_get_attach_cookie, "u64(p)", "the link's or perf event's bpf_cookie")
VM_HELPER(BPF_FUNC_get_func_arg, vm_h_get_func_arg, NULL, NULL)
VM_HELPER(BPF_FUNC_get_func_ret, vm_h_get_func_ret, NULL, NULL)
VM_HELPER(BPF_FUNC_get_func_arg_cnt, vm_h_get_func_arg_cnt, "u64(p)", NULL)
VM_HELPER(BPF_FUNC_send_signal, vm_h_send_signal, "s64(u32)", "to the event's task when it is a process here (else not sent)")
VM_HELPER(BPF_FUNC_send_signal_thread, vm_h_send_signal_thread, "s64(u32)", "as send_signal")
VM_HELPER(BPF_FUNC_get_current_cgroup_id, vm_h_get_current_cgroup_id, "u64()", "the inode of its cgroup v2 directory")
VM_HELPER(BPF_FUNC_get_current_ancestor_cgroup_id, vm_h_get_current_ancestor_cgroup_id, "u64(s32)", NULL)
VM_HELPER(BPF_FUNC_current_task_under_cgroup, vm_h_current_task_under_cgroup, NULL, NULL)
