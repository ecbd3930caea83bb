package tracker

import (
	"errors"
	"strings"
	"testing"
)

// decodeCases drives both the decoder test and the fuzz seed corpus.
var decodeCases = []struct {
	in   string
	code string // "" = valid
}{
	{`{"type":"join","swarm":"live-1"}`, ""},
	{`{"type":"join","swarm":"live-1","token":"t","extra":[1,2]}`, ""},
	{`{"type":"signal","to":"abc","data":{"sdp":"x"}}`, ""},
	{`{"type":"peers","size":5}`, ""},
	{`{"type":"leave"}`, ""},
	{`{"type":"ping"}`, ""},
	{`{"type":"stats","stats":{"bytes_cdn":1}}`, ""},
	{`{"type":"join","swarm":""}`, CodeBadSwarm},
	{`{"type":"join","swarm":"` + strings.Repeat("a", 129) + `"}`, CodeBadSwarm},
	{`{"type":"join","swarm":"a/b"}`, CodeBadSwarm},
	{`{"type":"signal","to":"abc"}`, CodeBadMessage},
	{`{"type":"signal","to":"abc","data":null}`, CodeBadMessage},
	{`{"type":"signal","data":{}}`, CodeBadMessage},
	{`{"type":"stats"}`, CodeBadMessage},
	{`{"type":"peers","size":-1}`, CodeBadMessage},
	{`{"swarm":"x"}`, CodeBadMessage},
	{`{"type":"nope"}`, CodeUnknownType},
	{`{"type":1}`, CodeBadJSON},
	{`[1,2]`, CodeBadJSON},
	{`{`, CodeBadJSON},
	{``, CodeBadJSON},
	{`{"type":"signal","to":"a","data":"` + strings.Repeat("x", MaxMessage) + `"}`, CodeTooLarge},
}

func TestDecodeMessage(t *testing.T) {
	for _, tc := range decodeCases {
		_, err := DecodeMessage([]byte(tc.in))
		var pe *ProtoError
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%.60s: unexpected error %v", tc.in, err)
		case tc.code != "" && (!errors.As(err, &pe) || pe.Code != tc.code):
			t.Errorf("%.60s: error %v, want code %s", tc.in, err, tc.code)
		case tc.code != "" && !errors.Is(err, ErrProtocol):
			t.Errorf("%.60s: error does not wrap ErrProtocol", tc.in)
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			var pe *ProtoError
			if !errors.As(err, &pe) || pe.Code == "" || pe.Msg == "" {
				t.Fatalf("error without code and message: %v", err)
			}
			return
		}
		if m.Type == "join" && !ValidSwarm(m.Swarm) {
			t.Fatalf("accepted join with invalid swarm %q", m.Swarm)
		}
		if m.Type == "signal" && (m.To == "" || len(m.Data) == 0) {
			t.Fatalf("accepted signal without to/data")
		}
	})
}
