package origin

// MPEG-TS continuity counters. Looping a clip's bytes as they are would make
// every PID's 4-bit continuity counter jump at the loop boundary, which
// players report as corrupt packets. The origin shifts the counters of the
// n-th loop so that they run on seamlessly; the timestamps still jump, which
// is what EXT-X-DISCONTINUITY announces.

const tsPacket = 188

// ccStep holds, per PID, how far the counter advances over one whole loop.
type ccStep map[uint16]byte

// loopSteps measures a clip's counter advance per loop.
func loopSteps(segs [][]byte) ccStep {
	first := map[uint16]byte{}
	last := map[uint16]byte{}
	for _, s := range segs {
		for off := 0; off+tsPacket <= len(s); off += tsPacket {
			p := s[off : off+tsPacket]
			pid, cc, payload, ok := tsHeader(p)
			if !ok || !payload {
				continue
			}
			if _, seen := first[pid]; !seen {
				first[pid] = cc
			}
			last[pid] = cc
		}
	}
	steps := ccStep{}
	for pid, f := range first {
		steps[pid] = (last[pid] + 1 - f) & 0x0f
	}
	return steps
}

func tsHeader(p []byte) (pid uint16, cc byte, payload, ok bool) {
	if len(p) < 4 || p[0] != 0x47 {
		return 0, 0, false, false
	}
	pid = uint16(p[1]&0x1f)<<8 | uint16(p[2])
	return pid, p[3] & 0x0f, p[3]&0x10 != 0, pid != 0x1fff
}

// shiftCC returns a copy of seg whose counters are advanced for loop number
// loop. Data that is not 188-byte TS is returned as it is.
func shiftCC(seg []byte, steps ccStep, loop int64) []byte {
	if loop == 0 || len(seg)%tsPacket != 0 {
		return seg
	}
	out := make([]byte, len(seg))
	copy(out, seg)
	for off := 0; off < len(out); off += tsPacket {
		pid, cc, _, ok := tsHeader(out[off:])
		if !ok {
			continue
		}
		shift := byte((loop * int64(steps[pid])) & 0x0f)
		out[off+3] = out[off+3]&0xf0 | (cc+shift)&0x0f
	}
	return out
}
