package hls

import (
	"errors"
	"strings"
	"testing"
)

const base = "https://cdn.example/live/index.m3u8?token=abc"

// parseCases drives the parse test and seeds the fuzz corpus.
var parseCases = []struct {
	name   string
	in     string
	ok     bool
	master bool
	check  func(t *testing.T, m *Media, ms *Master)
}{
	{name: "live window with discontinuity", ok: true, in: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:41
#EXT-X-DISCONTINUITY-SEQUENCE:3
#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z
#EXTINF:2.000,
seg41.ts?x=1
#EXT-X-DISCONTINUITY
#EXTINF:2.000,
/abs/seg42.ts
#EXTINF:1.500,
http://other.host/seg43.ts
`, check: func(t *testing.T, m *Media, _ *Master) {
		if m.MediaSequence != 41 || m.DiscSeq != 3 || len(m.Segments) != 3 || m.Endlist || m.TargetDuration.Seconds() != 2 {
			t.Fatalf("media = %+v", m)
		}
		s := m.Segments
		if s[0].Seq != 41 || s[2].Seq != 43 || s[0].URL != "https://cdn.example/live/seg41.ts?x=1" || s[1].URL != "https://cdn.example/abs/seg42.ts" {
			t.Fatalf("segments = %+v", s)
		}
		if s[0].DiscSeq != 3 || !s[1].Discontinuity || s[1].DiscSeq != 4 || s[2].DiscSeq != 4 || s[0].DateTime == nil {
			t.Fatalf("discontinuities = %+v", s)
		}
		if s[2].Duration.Seconds() != 1.5 {
			t.Fatalf("duration = %v", s[2].Duration)
		}
	}},
	{name: "byte ranges and map", ok: true, in: `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"
#EXTINF:4.000,
#EXT-X-BYTERANGE:1000@720
media.mp4
#EXTINF:4.000,
#EXT-X-BYTERANGE:500
media.mp4
#EXT-X-ENDLIST
`, check: func(t *testing.T, m *Media, _ *Master) {
		s := m.Segments
		if !m.Endlist || s[0].Map == nil || s[0].Map.URL != "https://cdn.example/live/init.mp4" || s[0].Map.Range.Length != 720 {
			t.Fatalf("map = %+v", s[0].Map)
		}
		if *s[0].Range != (ByteRange{720, 1000}) || *s[1].Range != (ByteRange{1720, 500}) {
			t.Fatalf("ranges = %+v %+v", s[0].Range, s[1].Range)
		}
	}},
	{name: "master with renditions", ok: true, master: true, in: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=640x360,AUDIO="aud"
low/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="avc1.4d401f,mp4a.40.2",RESOLUTION=1280x720,AUDIO="aud"
high/index.m3u8
`, check: func(t *testing.T, _ *Media, ms *Master) {
		v := ms.Variants
		if len(v) != 3 || v[0].URL != "https://cdn.example/live/low/index.m3u8" || v[1].Bandwidth != 2000000 || v[2].Type != "AUDIO" || v[2].Name != "en" {
			t.Fatalf("variants = %+v", v)
		}
	}},
	{name: "empty", in: ``},
	{name: "not a playlist", in: `<html>hello</html>`},
	{name: "missing target duration", in: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2,\na.ts\n"},
	{name: "bad extinf", in: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:abc,\na.ts\n"},
	{name: "negative sequence", in: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:-5\n#EXTINF:2,\na.ts\n"},
	{name: "non-http segment", in: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2,\nfile:///etc/passwd\n"},
	{name: "bad byterange", in: "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2,\n#EXT-X-BYTERANGE:x@y\na.ts\n"},
	{name: "huge", in: "#EXTM3U\n" + strings.Repeat("#", MaxPlaylist)},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			m, ms, err := Parse(base, []byte(tc.in))
			if !tc.ok {
				if err == nil || !errors.Is(err, ErrBadPlaylist) {
					t.Fatalf("err = %v, want ErrBadPlaylist", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (ms != nil) != tc.master || (m != nil) == tc.master {
				t.Fatalf("kind: media %v master %v", m != nil, ms != nil)
			}
			tc.check(t, m, ms)
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ms, err := Parse(base, b)
		if err != nil {
			if !errors.Is(err, ErrBadPlaylist) {
				t.Fatalf("error not wrapping ErrBadPlaylist: %v", err)
			}
			return
		}
		if (m == nil) == (ms == nil) {
			t.Fatal("want exactly one of media and master")
		}
		if m != nil {
			for i, s := range m.Segments {
				if s.Seq != m.MediaSequence+int64(i) || !strings.HasPrefix(s.URL, "http") {
					t.Fatalf("segment %d = %+v", i, s)
				}
			}
		}
	})
}
