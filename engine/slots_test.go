package engine

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// A host may set Utilization to 0 (the default) or within (0, 1], and it
// sets how many children a peer takes: 2× the stream at K = 4 is 6 stripe
// slots at 0.8, 7 at 0.875.
func TestUtilization(t *testing.T) {
	for _, ok := range []float64{0, 0.5, 0.875, 1} {
		if err := CheckUtilization(ok); err != nil {
			t.Errorf("CheckUtilization(%v): %v", ok, err)
		}
	}
	for _, bad := range []float64{-0.1, 1.01, math.NaN()} {
		if err := CheckUtilization(bad); !errors.Is(err, ErrUtilization) {
			t.Errorf("CheckUtilization(%v) = %v, want ErrUtilization", bad, err)
		}
	}
	for u, want := range map[float64]int{0: 6, 0.875: 7} {
		e := New(Config{Self: "a", Bitrate: 1000, UploadCap: 2000, Utilization: u}, nil, nil, nil, nil)
		if got := e.capacity(); got != want {
			t.Errorf("utilization %v: %d slots, want %d", u, got, want)
		}
	}
}

// A peer's slot count follows the stream's rate, not each segment's size:
// segments up to 15 % over or under the mean, in runs of five large ones
// and five small ones too, leave a 2× uploader at u = 0.875 its 7 slots once the first 64 are
// in (with the segment-to-segment estimate it fell to 6 whenever a few
// large segments came), while a stream that really runs at
// twice the configured rate halves them, and a wrong configured rate is
// dropped from the first segments on.
func TestCapacityFollowsTheStreamNotEachSegment(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	e := New(Config{Self: "a", Bitrate: 1000, UploadCap: 2000, Utilization: 0.875}, nil, nil, nil, nil)
	for i := range 400 {
		rate := 1000 * (0.85 + 0.3*rng.Float64())
		switch i % 50 {
		case 40, 41, 42, 43, 44:
			rate = 1150 // a run of large segments,
		case 45, 46, 47, 48, 49:
			rate = 850 // then of small ones: the mean stays
		}
		e.measure(rate)
		if got := e.capacity(); got != 7 && i >= 64 {
			t.Fatalf("segment %d (rate %.0f, estimate %.0f): %d slots, want 7", i, rate, e.capRate, got)
		}
	}
	for range 200 {
		e.measure(2000)
	}
	if got := e.capacity(); got != 3 {
		t.Errorf("stream at twice the rate: %d slots, want 3 (2000 × 0.875 × 4 / 2000 = 3.5)", got)
	}
	wrong := New(Config{Self: "b", Bitrate: 250_000, UploadCap: 1_000_000, Utilization: 0.875}, nil, nil, nil, nil)
	for range 7 {
		wrong.measure(625_000) // a 5 Mbit/s stream, configured as 2 Mbit/s
	}
	if got := wrong.capacity(); got > 6 {
		t.Errorf("after 7 segments at 2.5× the configured rate: %d slots, want at most 6 (5.6 at the true rate; 14 at the configured one)", got)
	}
}

// Slots counts a slot when three quarters of it fit within u of the upload,
// never past the upload itself; Capacity reports free slots only once the
// peer is fed in a home stripe; an empty segment does not move the count.
func TestSlotsAndCapacity(t *testing.T) {
	for _, c := range []struct {
		up, u float64
		want  int
	}{{2, 0.8, 6}, {2, 0.875, 7}, {2, 0.9, 7}, {0.7, 0.875, 2}, {0.7, 1, 2}, {2, 0.82, 6}, {2, 0.85, 7}, {0, 0.8, 0}} {
		if got := Slots(c.up, c.u, 4); got != c.want {
			t.Errorf("Slots(%v, %v, 4) = %d, want %d", c.up, c.u, got, c.want)
		}
	}
	e := New(Config{Self: "a", Bitrate: 1000, UploadCap: 2000, Utilization: 0.875}, nil, nil, nil, nil)
	e.measure(0)
	if slots, free := e.Capacity(); slots != 7 || free != 0 {
		t.Errorf("a peer with no home: Capacity() = %d, %d; want 7, 0", slots, free)
	}
}
