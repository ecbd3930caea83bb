package hls

import (
	"regexp"
	"testing"
)

var swarmAlphabet = regexp.MustCompile(`^[A-Za-z0-9._~:-]{1,128}$`)

func TestSwarmIDIgnoresHostAndQuery(t *testing.T) {
	same := []string{
		"https://cdn1.example/live/ch1/index.m3u8?token=aaa&exp=1",
		"http://cdn2.example:8080/live/ch1/index.m3u8?token=bbb",
		"https://cdn3.example/live//ch1/./index.m3u8",
	}
	want, err := SwarmID(same[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range same[1:] {
		if got, _ := SwarmID(u); got != want {
			t.Errorf("SwarmID(%s) = %s, want %s", u, got, want)
		}
	}
	for _, u := range []string{"https://cdn1.example/live/ch2/index.m3u8", "https://cdn1.example/live/ch1/low.m3u8", "https://cdn1.example/live/ch1/index~m3u8"} {
		if got, _ := SwarmID(u); got == want {
			t.Errorf("SwarmID(%s) = %s: collides with another stream", u, got)
		}
	}
	long := "https://x/" + string(make([]byte, 0)) + "a/" + regexp.QuoteMeta("") + string(repeat('b', 300)) + "/index.m3u8?q=1"
	for _, u := range append(same, long, "https://x/ü ber/%20x.m3u8") {
		if id, _ := SwarmID(u); !swarmAlphabet.MatchString(id) {
			t.Errorf("SwarmID(%s) = %q: not a valid tracker swarm id", u, id)
		}
	}
}

func repeat(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestSegmentIDIgnoresHostAndQuery(t *testing.T) {
	a := Segment{Seq: 7, URL: "https://cdn1/live/seg7.ts?token=1"}
	b := Segment{Seq: 7, URL: "http://cdn2:81/live/seg7.ts?token=2"}
	if SegmentID(0, a) != SegmentID(0, b) {
		t.Fatalf("%s != %s", SegmentID(0, a), SegmentID(0, b))
	}
	if SegmentID(0, a) == SegmentID(1, a) {
		t.Fatal("epoch not in the id")
	}
	r := b
	r.Range = &ByteRange{0, 10}
	if SegmentID(0, r) == SegmentID(0, b) {
		t.Fatal("byte range not in the id")
	}
}
