package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// WireVersion is the version byte that starts every peer message
// (docs/PROTOCOL.md, "Peer wire protocol").
const WireVersion = 1

// Bounds of the wire format.
const (
	MaxPiece    = 64 << 10 // data bytes in one PIECE
	MaxSegID    = 255      // bytes of a segment id
	MaxStripes  = 16
	MaxDepth    = 16 // ancestors carried in STATE
	MaxSegSize  = 256 << 20
	maxMsgBytes = MaxPiece + 512
)

// ErrWire is wrapped by every decoding error: the sender broke the protocol
// and is dropped.
var ErrWire = errors.New("engine: malformed peer message")

// Type of a peer message.
type Type uint8

// Message types.
const (
	THello Type = iota + 1
	TState
	TSubscribe
	TUnsubscribe
	TAccept
	TReject
	THave
	TRequest
	TPiece
	TPing
	TPong
	TPlaylist
)

var typeNames = [...]string{"", "hello", "state", "subscribe", "unsubscribe", "accept", "reject", "have", "request", "piece", "ping", "pong", "playlist"}

func (t Type) String() string {
	if int(t) < len(typeNames) && t > 0 {
		return typeNames[t]
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// StripeState is a peer's place in one stripe's tree, as it advertises it.
type StripeState struct {
	Path  []uint32 // ancestors, nearest last; empty with Root = a root (fed by the CDN)
	Root  bool     // fed by the CDN directly
	Fed   bool     // has a supply for this stripe (root or subscribed)
	Slots uint8    // children it would still accept
	Swap  bool     // full, but would drop a leaf child for a peer that can extend the tree
	Kids  bool     // has children in this stripe (not a leaf: a push-down does not drop it)
}

// Message is one peer message. Each type uses the fields its encoder writes.
type Message struct {
	Type    Type
	Upload  uint32 // HELLO: upload capacity, KiB/s
	Flags   uint8  // HELLO: 1 = consume-only
	Stripes []StripeState
	Stripe  uint8
	Seg     string
	Size    uint32 // segment size in bytes
	Have    uint16 // HAVE: bitmap of complete stripes
	Offset  uint32 // within the stripe
	Length  uint32 // REQUEST
	Data    []byte
	Nonce   uint32
	Newest  uint32 // PLAYLIST: media sequence of its newest segment (low 32 bits)
	// Forward is not on the wire: it marks a PIECE pushed to a child that
	// forwards the stripe (a subtree waits on it), which a host's uplink
	// sends before the others (transport's paced uplink, the simulator's).
	Forward bool
}

// HELLO flags.
const (
	FlagConsumeOnly uint8 = 1 << iota // never uploads
	FlagPlaylists                     // takes PLAYLIST messages
)

// WireSize is the encoded size of m, without encoding it (for accounting).
func (m *Message) WireSize() int {
	n := 2
	switch m.Type {
	case THello:
		n += 5
	case TState:
		n++
		for _, s := range m.Stripes {
			n += 3 + 4*len(s.Path)
		}
	case TSubscribe, TUnsubscribe, TAccept, TReject:
		n++
	case THave:
		n += 1 + len(m.Seg) + 6
	case TRequest:
		n += 1 + len(m.Seg) + 9
	case TPiece:
		n += 1 + len(m.Seg) + 13 + len(m.Data)
	case TPing, TPong:
		n += 4
	case TPlaylist:
		n += 8 + len(m.Data)
	}
	return n
}

// Encode appends the wire form of m to b.
func (m *Message) Encode(b []byte) []byte {
	b = append(b, WireVersion, byte(m.Type))
	be := binary.BigEndian
	switch m.Type {
	case THello:
		b = be.AppendUint32(b, m.Upload)
		b = append(b, m.Flags)
	case TState:
		b = append(b, byte(len(m.Stripes)))
		for _, s := range m.Stripes {
			var f byte
			if s.Root {
				f |= 1
			}
			if s.Fed {
				f |= 2
			}
			if s.Swap {
				f |= 4
			}
			if s.Kids {
				f |= 8
			}
			b = append(b, f, s.Slots, byte(len(s.Path)))
			for _, a := range s.Path {
				b = be.AppendUint32(b, a)
			}
		}
	case TSubscribe, TUnsubscribe, TAccept, TReject:
		b = append(b, m.Stripe)
	case THave:
		b = appendStr(b, m.Seg)
		b = be.AppendUint32(b, m.Size)
		b = be.AppendUint16(b, m.Have)
	case TRequest:
		b = appendStr(b, m.Seg)
		b = append(b, m.Stripe)
		b = be.AppendUint32(b, m.Offset)
		b = be.AppendUint32(b, m.Length)
	case TPiece:
		b = appendStr(b, m.Seg)
		b = be.AppendUint32(b, m.Size)
		b = append(b, m.Stripe)
		b = be.AppendUint32(b, m.Offset)
		b = be.AppendUint32(b, uint32(len(m.Data)))
		b = append(b, m.Data...)
	case TPing, TPong:
		b = be.AppendUint32(b, m.Nonce)
	case TPlaylist:
		b = be.AppendUint32(b, m.Newest)
		b = be.AppendUint32(b, uint32(len(m.Data)))
		b = append(b, m.Data...)
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	return append(append(b, byte(len(s))), s...)
}

// reader decodes with bounds checks; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrWire, what)
	}
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.fail("short " + what)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8(what string) uint8 {
	if b := r.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16(what string) uint16 {
	if b := r.take(2, what); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// bytes reads a u32 length (at most MaxPiece) and that many bytes.
func (r *reader) bytes(what string) []byte {
	n := r.u32(what + " length")
	if n > MaxPiece {
		r.fail(what + " over 64 KiB")
		return nil
	}
	return r.take(int(n), what)
}

func (r *reader) str(what string) string {
	n := int(r.u8(what))
	return string(r.take(n, what))
}

// Decode parses one message. The result's Data aliases b.
func Decode(b []byte) (Message, error) {
	if len(b) > maxMsgBytes {
		return Message{}, fmt.Errorf("%w: %d bytes", ErrWire, len(b))
	}
	r := &reader{b: b}
	if v := r.u8("version"); r.err == nil && v != WireVersion {
		return Message{}, fmt.Errorf("%w: version %d", ErrWire, v)
	}
	m := Message{Type: Type(r.u8("type"))}
	switch m.Type {
	case THello:
		m.Upload, m.Flags = r.u32("upload"), r.u8("flags")
	case TState:
		decodeState(r, &m)
	case TSubscribe, TUnsubscribe, TAccept, TReject:
		m.Stripe = r.u8("stripe")
	case THave:
		m.Seg, m.Size, m.Have = r.str("seg"), r.u32("size"), r.u16("have")
	case TRequest:
		m.Seg, m.Stripe, m.Offset, m.Length = r.str("seg"), r.u8("stripe"), r.u32("offset"), r.u32("length")
	case TPiece:
		m.Seg, m.Size, m.Stripe, m.Offset = r.str("seg"), r.u32("size"), r.u8("stripe"), r.u32("offset")
		m.Data = r.bytes("piece")
	case TPing, TPong:
		m.Nonce = r.u32("nonce")
	case TPlaylist:
		m.Newest = r.u32("newest")
		m.Data = r.bytes("playlist")
	default:
		r.fail(fmt.Sprintf("unknown type %d", m.Type))
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err == nil {
		r.err = m.validate()
	}
	if r.err != nil {
		return Message{}, r.err
	}
	return m, nil
}

func decodeState(r *reader, m *Message) {
	n := int(r.u8("stripes"))
	if n > MaxStripes {
		r.fail("too many stripes")
		return
	}
	m.Stripes = make([]StripeState, 0, n)
	for range n {
		f, slots, np := r.u8("flags"), r.u8("slots"), int(r.u8("path"))
		if np > MaxDepth {
			r.fail("path too deep")
			return
		}
		s := StripeState{Root: f&1 != 0, Fed: f&2 != 0, Swap: f&4 != 0, Kids: f&8 != 0, Slots: slots, Path: make([]uint32, 0, np)}
		for range np {
			s.Path = append(s.Path, r.u32("ancestor"))
		}
		m.Stripes = append(m.Stripes, s)
	}
}

func (m *Message) validate() error {
	switch {
	case m.Stripe >= MaxStripes:
		return fmt.Errorf("%w: stripe %d", ErrWire, m.Stripe)
	case m.Size > MaxSegSize:
		return fmt.Errorf("%w: segment size %d", ErrWire, m.Size)
	case m.Type == TRequest && (m.Length == 0 || m.Length > MaxSegSize):
		return fmt.Errorf("%w: request length %d", ErrWire, m.Length)
	case (m.Type == TPiece || m.Type == THave || m.Type == TRequest) && m.Seg == "":
		return fmt.Errorf("%w: empty segment id", ErrWire)
	case m.Type == TPiece && uint64(m.Offset)+uint64(len(m.Data)) > uint64(m.Size):
		return fmt.Errorf("%w: piece past the segment's end", ErrWire)
	}
	return nil
}
