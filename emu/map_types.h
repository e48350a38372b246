/* SPDX-License-Identifier: MIT */
/*
 * emu/map_types.h: the ONE map-type registry, one line per type:
 *     EMU_MAP_TYPE(BPF_MAP_TYPE_x, ops)
 * Types missing here are answered as a kernel without them answers (EINVAL).
 */
EMU_MAP_TYPE(BPF_MAP_TYPE_HASH, htab_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_ARRAY, array_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_PROG_ARRAY, prog_array_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_PERF_EVENT_ARRAY, perf_event_array_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_CGROUP_ARRAY, cgroup_array_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_ARRAY_OF_MAPS, array_of_maps_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_HASH_OF_MAPS, htab_of_maps_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_RINGBUF, ringbuf_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_USER_RINGBUF, user_ringbuf_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_PERCPU_HASH, htab_percpu_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_PERCPU_ARRAY, percpu_array_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_LRU_HASH, htab_lru_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_LRU_PERCPU_HASH, htab_lru_percpu_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_LPM_TRIE, trie_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_QUEUE, queue_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_STACK, stack_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_BLOOM_FILTER, bloom_filter_map_ops)
