// tests/seccomp/go/cilium_maps: a Go client of bpf() through cilium/ebpf 0.9.1
// (Debian's golang-github-cilium-ebpf-dev), statically linked as Go builds
// are: it issues bpf() with Go's own system call instruction, which only the
// seccomp door of bpfemu reaches. It prints what it sees; the test compares
// that output on the kernel (as root) and under `bpfemu run` (as nobody).
//
//	cilium_maps DIR FEED
//
// DIR is a directory on bpffs for the pins; FEED says who writes the ring
// buffer's records: "testrun" (a sched_cls program calling
// bpf_ringbuf_output, run with BPF_PROG_TEST_RUN: the kernel) or the path
// of a program that gets the ring buffer's pin and writes the same records
// (bpfemu_ringbuf_output: the emulator).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/ringbuf"
)

var records = [][]byte{[]byte("first record"), []byte("second"), []byte("3rd: 0123456789abcdef")}

func check(what string, err error) {
	if err != nil {
		fmt.Printf("%s: error: %v\n", what, err)
		os.Exit(1)
	}
}

func hashMaps(dir string) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "go_hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16})
	check("hash create", err)
	for k := uint32(1); k <= 5; k++ {
		check("hash update", m.Put(k, uint64(k)*100))
	}
	var v uint64
	check("hash lookup", m.Lookup(uint32(3), &v))
	fmt.Printf("hash lookup 3 = %d\n", v)
	err = m.Lookup(uint32(9), &v)
	fmt.Printf("hash lookup 9: not found %v\n", errors.Is(err, ebpf.ErrKeyNotExist))
	err = m.Update(uint32(1), uint64(1), ebpf.UpdateNoExist)
	fmt.Printf("hash update 1 noexist: exists %v\n", errors.Is(err, ebpf.ErrKeyExist))
	check("hash delete", m.Delete(uint32(5)))

	pin := filepath.Join(dir, "go_hash")
	check("hash pin", m.Pin(pin))
	r, err := ebpf.LoadPinnedMap(pin, nil)
	check("hash reopen", err)
	fmt.Printf("reopened: type %v key %d value %d max %d pinned %v\n", r.Type(), r.KeySize(), r.ValueSize(), r.MaxEntries(), r.IsPinned())
	info, err := r.Info()
	check("hash info", err)
	fmt.Printf("info: name %q type %v\n", info.Name, info.Type)

	var keys []uint32
	vals := map[uint32]uint64{}
	var k uint32
	it := r.Iterate()
	for it.Next(&k, &v) {
		keys = append(keys, k)
		vals[k] = v
	}
	check("hash iterate", it.Err())
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		fmt.Printf("iterate: %d = %d\n", k, vals[k])
	}

	bk := make([]uint32, 16)
	bv := make([]uint64, 16)
	var next uint32
	n, err := r.BatchLookup(nil, &next, bk, bv, nil)
	fmt.Printf("batch lookup: %d elements, end %v\n", n, errors.Is(err, ebpf.ErrKeyNotExist))
	pairs := make([][2]uint64, n)
	for i := 0; i < n; i++ {
		pairs[i] = [2]uint64{uint64(bk[i]), bv[i]}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][0] < pairs[j][0] })
	for _, p := range pairs {
		fmt.Printf("batch: %d = %d\n", p[0], p[1])
	}

	check("hash freeze", r.Freeze())
	err = r.Put(uint32(2), uint64(7))
	fmt.Printf("update after freeze: %v\n", err)
	check("hash lookup after freeze", r.Lookup(uint32(2), &v))
	fmt.Printf("lookup after freeze 2 = %d\n", v)
	check("hash unpin", r.Unpin())
	_, err = ebpf.LoadPinnedMap(pin, nil)
	fmt.Printf("reopen after unpin: not exist %v\n", errors.Is(err, os.ErrNotExist))
	r.Close()
	m.Close()
}

func arrayMaps() {
	a, err := ebpf.NewMap(&ebpf.MapSpec{Name: "go_array", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	check("array create", err)
	for i := uint32(0); i < 4; i++ {
		check("array update", a.Put(i, i*i+1))
	}
	err = a.Put(uint32(4), uint32(1))
	fmt.Printf("array update 4: %v\n", err)
	var k, v uint32
	it := a.Iterate()
	for it.Next(&k, &v) {
		fmt.Printf("array: %d = %d\n", k, v)
	}
	check("array iterate", it.Err())
	a.Close()

	p, err := ebpf.NewMap(&ebpf.MapSpec{Name: "go_pcpu", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	check("percpu array create", err)
	ncpu := possibleCPUs()
	vals := make([]uint64, ncpu)
	for i := range vals {
		vals[i] = uint64(10 + i)
	}
	check("percpu update", p.Put(uint32(1), vals))
	var got []uint64
	check("percpu lookup", p.Lookup(uint32(1), &got))
	fmt.Printf("percpu array: %d cpus, values %v\n", len(got), got)
	p.Close()

	h, err := ebpf.NewMap(&ebpf.MapSpec{Name: "go_pcpuh", Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 8})
	check("percpu hash create", err)
	v32 := make([]uint32, ncpu)
	for i := range v32 {
		v32[i] = uint32(i * 3)
	}
	check("percpu hash update", h.Put(uint32(7), v32))
	var g32 []uint32
	check("percpu hash lookup", h.Lookup(uint32(7), &g32))
	fmt.Printf("percpu hash: values %v\n", g32)
	h.Close()
}

func feedTestRun(m *ebpf.Map) {
	var insns asm.Instructions
	insns = append(insns, asm.Mov.Reg(asm.R6, asm.R1))
	for _, rec := range records {
		// the record's bytes on the stack, 8 at a time
		buf := make([]byte, (len(rec)+7)/8*8)
		copy(buf, rec)
		for off := 0; off < len(buf); off += 8 {
			var w int64
			for b := 7; b >= 0; b-- {
				w = w<<8 | int64(buf[off+b])
			}
			insns = append(insns,
				asm.LoadImm(asm.R1, w, asm.DWord),
				asm.StoreMem(asm.RFP, int16(-64+off), asm.R1, asm.DWord))
		}
		insns = append(insns,
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -64),
			asm.Mov.Imm(asm.R3, int32(len(rec))),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnRingbufOutput.Call())
	}
	insns = append(insns, asm.Mov.Imm(asm.R0, 0), asm.Return())
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, Instructions: insns, License: "GPL"})
	check("feeder program", err)
	defer prog.Close()
	_, _, err = prog.Test(make([]byte, 64))
	check("feeder test run", err)
}

func ringBuffer(dir, feed string) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "go_ring", Type: ebpf.RingBuf, MaxEntries: 4096})
	check("ringbuf create", err)
	defer m.Close()
	pin := filepath.Join(dir, "go_ring")
	check("ringbuf pin", m.Pin(pin))
	defer m.Unpin()
	rd, err := ringbuf.NewReader(m)
	check("ringbuf reader", err)
	defer rd.Close()
	if feed == "testrun" {
		feedTestRun(m)
	} else {
		cmd := exec.Command(feed, pin)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		check("ringbuf feeder", cmd.Start())
		defer cmd.Wait()
	}
	for range records {
		rec, err := rd.Read()
		check("ringbuf read", err)
		fmt.Printf("ringbuf record: %q\n", rec.RawSample)
	}
}

// possibleCPUs counts /sys/devices/system/cpu/possible ("0-1", "0,2-3"), as libbpf does.
func possibleCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	check("possible cpus", err)
	n := 0
	for _, r := range strings.Split(strings.TrimSpace(string(b)), ",") {
		var lo, hi int
		if c, _ := fmt.Sscanf(r, "%d-%d", &lo, &hi); c == 2 {
			n += hi - lo + 1
		} else {
			n++
		}
	}
	return n
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cilium_maps DIR FEED")
		os.Exit(2)
	}
	hashMaps(os.Args[1])
	arrayMaps()
	ringBuffer(os.Args[1], os.Args[2])
	fmt.Println("done")
}
