package engine

import (
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden vectors in testdata/wire")

// golden is one message per type; testdata/wire/NAME.hex holds its bytes.
var golden = []struct {
	name string
	msg  Message
}{
	{"hello", Message{Type: THello, Upload: 1024, Flags: 1}},
	{"state", Message{Type: TState, Stripes: []StripeState{{Root: true, Fed: true, Slots: 3}, {Fed: true, Swap: true, Slots: 0, Path: []uint32{0xdeadbeef, 7}}}}},
	{"state-kids", Message{Type: TState, Stripes: []StripeState{{Fed: true, Kids: true, Slots: 2, Path: []uint32{9}}}}},
	{"subscribe", Message{Type: TSubscribe, Stripe: 2}},
	{"unsubscribe", Message{Type: TUnsubscribe, Stripe: 1}},
	{"accept", Message{Type: TAccept, Stripe: 3}},
	{"reject", Message{Type: TReject}},
	{"have", Message{Type: THave, Seg: "0/41/live/seg41.ts", Size: 123456, Have: 0x0f}},
	{"request", Message{Type: TRequest, Seg: "0/41/live/seg41.ts", Stripe: 1, Offset: 100, Length: 3000}},
	{"piece", Message{Type: TPiece, Seg: "0/41/live/seg41.ts", Size: 123456, Stripe: 2, Offset: 16384, Data: []byte("media bytes")}},
	{"ping", Message{Type: TPing, Nonce: 42}},
	{"pong", Message{Type: TPong, Nonce: 42}},
	{"playlist", Message{Type: TPlaylist, Newest: 41, Data: []byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n#EXTINF:2,\nseg41.ts\n")}},
}

func TestWireGolden(t *testing.T) {
	for _, g := range golden {
		path := filepath.Join("testdata", "wire", g.name+".hex")
		enc := g.msg.Encode(nil)
		if len(enc) != g.msg.WireSize() {
			t.Errorf("%s: WireSize %d, encoded %d", g.name, g.msg.WireSize(), len(enc))
		}
		if *update {
			_ = os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(hex.EncodeToString(enc)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test -update once)", g.name, err)
		}
		want, err := hex.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if string(enc) != string(want) {
			t.Errorf("%s: encoding changed:\n got %x\nwant %x", g.name, enc, want)
		}
		got, err := Decode(want)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		norm := g.msg
		if norm.Type == TState {
			for i := range norm.Stripes {
				if norm.Stripes[i].Path == nil {
					norm.Stripes[i].Path = []uint32{}
				}
			}
		}
		if !reflect.DeepEqual(got, norm) {
			t.Errorf("%s: decoded %+v, want %+v", g.name, got, norm)
		}
	}
}

func TestWireRejects(t *testing.T) {
	bad := map[string][]byte{
		"empty":         {},
		"version 2":     {2, byte(TPing), 0, 0, 0, 1},
		"unknown type":  {1, 99},
		"short":         {1, byte(TPing), 0},
		"trailing":      {1, byte(TPing), 0, 0, 0, 1, 9},
		"stripe 200":    {1, byte(TSubscribe), 200},
		"piece too big": append([]byte{1, byte(TPiece), 1, 's', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0}, make([]byte, 0)...),
		"piece past end": func() []byte {
			m := Message{Type: TPiece, Seg: "s", Size: 4, Data: []byte("12345")}
			return m.Encode(nil)
		}(),
		"zero request": (&Message{Type: TRequest, Seg: "s"}).Encode(nil),
		"deep path":    append([]byte{1, byte(TState), 1, 2, 0, 17}, make([]byte, 17*4)...),
	}
	for name, b := range bad {
		if _, err := Decode(b); !errors.Is(err, ErrWire) {
			t.Errorf("%s: err %v, want ErrWire", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, g := range golden {
		f.Add(g.msg.Encode(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrWire) {
				t.Fatalf("error not wrapping ErrWire: %v", err)
			}
			return
		}
		if len(m.Data) > MaxPiece || len(m.Stripes) > MaxStripes || int(m.Stripe) >= MaxStripes {
			t.Fatalf("decoded past the bounds: %+v", m)
		}
		again, err := Decode(m.Encode(nil))
		if err != nil || again.Type != m.Type || string(again.Data) != string(m.Data) || again.Seg != m.Seg {
			t.Fatalf("re-encoding does not round-trip: %v", err)
		}
	})
}
