package origin

// Looping a clip's MPEG-TS bytes as they are would make every PID's 4-bit
// continuity counter and every timestamp (PTS, DTS, PCR) jump back at the loop
// boundary: players report corrupt packets and non-monotonic timestamps. The
// origin rewrites the n-th loop so that both run on seamlessly, as from a
// real live encoder; the playlist still marks each loop with
// EXT-X-DISCONTINUITY, which stays correct (and harmless) for players.

const (
	tsPacket = 188
	tsWrap   = 1 << 33 // PTS/DTS/PCR base modulus, 90 kHz units
)

// loopMeta is what one loop of the clip advances by.
type loopMeta struct {
	cc     map[uint16]byte // continuity counter advance per PID
	length int64           // timestamp advance (90 kHz)
}

func tsHeader(p []byte) (pid uint16, cc byte, payload, ok bool) {
	if len(p) < tsPacket || p[0] != 0x47 {
		return 0, 0, false, false
	}
	pid = uint16(p[1]&0x1f)<<8 | uint16(p[2])
	return pid, p[3] & 0x0f, p[3]&0x10 != 0, pid != 0x1fff
}

// pesPTS returns the offset of the PTS (and DTS, 0 if none) in a packet that
// starts a PES with timestamps.
func pesPTS(p []byte) (pts, dts int) {
	if p[1]&0x40 == 0 || p[3]&0x10 == 0 {
		return 0, 0
	}
	off := 4
	if p[3]&0x20 != 0 {
		off += 1 + int(p[4])
	}
	if off+14 > len(p) || p[off] != 0 || p[off+1] != 0 || p[off+2] != 1 || p[off+6]&0xc0 != 0x80 {
		return 0, 0
	}
	switch p[off+7] >> 6 {
	case 2:
		return off + 9, 0
	case 3:
		if off+19 <= len(p) {
			return off + 9, off + 14
		}
	}
	return 0, 0
}

func getTS(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

func putTS(b []byte, v int64) {
	v %= tsWrap
	b[0] = b[0]&0xf1 | byte(v>>29)&0x0e
	b[1] = byte(v >> 22)
	b[2] = byte(v>>14)&0xfe | 1
	b[3] = byte(v >> 7)
	b[4] = byte(v<<1) | 1
}

// pcrAt returns the offset of the PCR in p, or 0.
func pcrAt(p []byte) int {
	if p[3]&0x20 == 0 || p[4] < 7 || p[5]&0x10 == 0 {
		return 0
	}
	return 6
}

func getPCRBase(b []byte) int64 {
	return int64(b[0])<<25 | int64(b[1])<<17 | int64(b[2])<<9 | int64(b[3])<<1 | int64(b[4]>>7)
}

func putPCRBase(b []byte, v int64) {
	v %= tsWrap
	b[0], b[1], b[2], b[3] = byte(v>>25), byte(v>>17), byte(v>>9), byte(v>>1)
	b[4] = b[4]&0x7f | byte(v<<7)
}

// measureLoop finds how far counters and timestamps advance over the clip.
func measureLoop(segs [][]byte) loopMeta {
	first, last := map[uint16]byte{}, map[uint16]byte{}
	tsFirst, tsLast, tsStep := map[uint16]int64{}, map[uint16]int64{}, map[uint16]int64{}
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
			if at, _ := pesPTS(p); at > 0 {
				v := getTS(p[at:])
				if prev, seen := tsLast[pid]; seen {
					tsStep[pid] = v - prev
				} else {
					tsFirst[pid] = v
				}
				tsLast[pid] = v
			}
		}
	}
	m := loopMeta{cc: map[uint16]byte{}}
	for pid, f := range first {
		m.cc[pid] = (last[pid] + 1 - f) & 0x0f
	}
	for pid, f := range tsFirst {
		m.length = max(m.length, tsLast[pid]-f+max(tsStep[pid], 0))
	}
	return m
}

// rewriteLoop returns a copy of seg as it is in loop number loop. Data that
// is not 188-byte TS is returned as it is.
func rewriteLoop(seg []byte, m loopMeta, loop int64) []byte {
	if loop == 0 || len(seg)%tsPacket != 0 {
		return seg
	}
	out := make([]byte, len(seg))
	copy(out, seg)
	shift := loop * m.length
	for off := 0; off < len(out); off += tsPacket {
		p := out[off : off+tsPacket]
		pid, cc, _, ok := tsHeader(p)
		if !ok {
			continue
		}
		p[3] = p[3]&0xf0 | (cc+byte(loop*int64(m.cc[pid])))&0x0f
		if at := pcrAt(p); at > 0 {
			putPCRBase(p[at:], getPCRBase(p[at:])+shift)
		}
		if pts, dts := pesPTS(p); pts > 0 {
			putTS(p[pts:], getTS(p[pts:])+shift)
			if dts > 0 {
				putTS(p[dts:], getTS(p[dts:])+shift)
			}
		}
	}
	return out
}
