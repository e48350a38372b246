/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/helper_table.h: the ONE helper table, one line per emulated helper:
 *     VM_HELPER(BPF_FUNC_x, implementation, "limits" or NULL)
 * Which program types may call a helper, which need a GPL license and which
 * may sleep is the kernel's answer, checked at load (emu/helpers.h, generated
 * on Linux 6.18). A helper missing here loads as on the kernel; a run that
 * reaches its call ends with EOPNOTSUPP and a BPFEMU_LOG=vm line naming it.
 * The README's helper table is this file.
 */
/* maps */
VM_HELPER(BPF_FUNC_map_lookup_elem, vm_h_map_lookup_elem,
	  "hash, array (per-CPU: the running CPU's slot), LRU (sets the reference bit), LPM trie, "
	  "array/hash of maps (the inner map)")
VM_HELPER(BPF_FUNC_map_update_elem, vm_h_map_update_elem, "hash, array, LRU, LPM trie; per-CPU: the CPU's slot")
VM_HELPER(BPF_FUNC_map_delete_elem, vm_h_map_delete_elem, "hash, LRU, LPM trie (arrays: -EINVAL)")
VM_HELPER(BPF_FUNC_map_push_elem, vm_h_map_push_elem, "queue, stack, bloom filter")
VM_HELPER(BPF_FUNC_map_pop_elem, vm_h_map_pop_elem, "queue, stack")
VM_HELPER(BPF_FUNC_map_peek_elem, vm_h_map_peek_elem, "queue, stack, bloom filter")
VM_HELPER(BPF_FUNC_map_lookup_percpu_elem, vm_h_map_lookup_percpu_elem, NULL)
VM_HELPER(BPF_FUNC_for_each_map_elem, vm_h_for_each_map_elem,
	  "hash (get_next_key order, the next key taken before the callback runs), array")
VM_HELPER(BPF_FUNC_spin_lock, vm_h_spin_lock, "the lock BPF_F_LOCK takes (hash: the key's stripe; array: the map's)")
VM_HELPER(BPF_FUNC_spin_unlock, vm_h_spin_unlock, NULL)
VM_HELPER(BPF_FUNC_tail_call, vm_h_tail_call, "33 at most; the target's own maps")
/* ring buffers */
VM_HELPER(BPF_FUNC_ringbuf_output, vm_h_ringbuf_output, NULL)
VM_HELPER(BPF_FUNC_ringbuf_reserve, vm_h_ringbuf_reserve, NULL)
VM_HELPER(BPF_FUNC_ringbuf_submit, vm_h_ringbuf_submit, NULL)
VM_HELPER(BPF_FUNC_ringbuf_discard, vm_h_ringbuf_discard, NULL)
VM_HELPER(BPF_FUNC_ringbuf_query, vm_h_ringbuf_query, NULL)
/* time, randomness, the CPU, the calling task */
VM_HELPER(BPF_FUNC_ktime_get_ns, vm_h_ktime_get_ns, "CLOCK_MONOTONIC")
VM_HELPER(BPF_FUNC_ktime_get_boot_ns, vm_h_ktime_get_boot_ns, "CLOCK_BOOTTIME")
VM_HELPER(BPF_FUNC_ktime_get_coarse_ns, vm_h_ktime_get_coarse_ns, "CLOCK_MONOTONIC_COARSE")
VM_HELPER(BPF_FUNC_ktime_get_tai_ns, vm_h_ktime_get_tai_ns, "CLOCK_TAI")
VM_HELPER(BPF_FUNC_get_prandom_u32, vm_h_get_prandom_u32, "a per-thread generator seeded from getrandom()")
VM_HELPER(BPF_FUNC_get_smp_processor_id, vm_h_get_smp_processor_id,
	  "the CPU the calling thread ran on when the run began (fixed for the run)")
VM_HELPER(BPF_FUNC_get_numa_node_id, vm_h_get_numa_node_id, "getcpu()'s node")
VM_HELPER(BPF_FUNC_get_current_pid_tgid, vm_h_get_current_pid_tgid,
	  "the calling thread, the program's under the seccomp door (ids of its pid namespace)")
VM_HELPER(BPF_FUNC_get_current_uid_gid, vm_h_get_current_uid_gid, "the calling process's real uid and gid")
VM_HELPER(BPF_FUNC_get_current_comm, vm_h_get_current_comm, "the calling thread's name")
/* control */
VM_HELPER(BPF_FUNC_loop, vm_h_loop, NULL)
VM_HELPER(BPF_FUNC_trace_printk, vm_h_trace_printk,
	  "lines appended to $BPFEMU_ROOT/trace in trace_pipe's format; %p prints the address")
/* packets */
VM_HELPER(BPF_FUNC_skb_load_bytes, vm_h_skb_load_bytes, NULL)
VM_HELPER(BPF_FUNC_skb_store_bytes, vm_h_skb_store_bytes, "the flags' checksum and hash effects are not modelled")
VM_HELPER(BPF_FUNC_csum_diff, vm_h_csum_diff, NULL)
VM_HELPER(BPF_FUNC_xdp_adjust_head, vm_h_xdp_adjust_head, NULL)
VM_HELPER(BPF_FUNC_xdp_adjust_tail, vm_h_xdp_adjust_tail, "the linear buffer only (no fragments)")
VM_HELPER(BPF_FUNC_xdp_adjust_meta, vm_h_xdp_adjust_meta, NULL)
VM_HELPER(BPF_FUNC_redirect, vm_h_redirect, "recorded (bpfemu_test_run_redirect()), nothing is sent")
VM_HELPER(BPF_FUNC_redirect_map, vm_h_redirect_map,
	  "devmap, devmap hash, cpumap, xskmap; recorded, nothing is sent")
