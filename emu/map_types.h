/* SPDX-License-Identifier: MIT */
/*
 * emu/map_types.h: the ONE map-type registry, one line per type:
 *     EMU_MAP_TYPE(BPF_MAP_TYPE_x, ops)
 * Types missing here are answered as a kernel without them answers (EINVAL).
 */
EMU_MAP_TYPE(BPF_MAP_TYPE_HASH, htab_map_ops)
EMU_MAP_TYPE(BPF_MAP_TYPE_ARRAY, array_map_ops)
