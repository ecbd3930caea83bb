package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

// sentLog records what an uplink put on which link, and when.
type sentLog struct {
	mu  sync.Mutex
	got []string
	at  []time.Duration
	t0  time.Time
}

func (s *sentLog) send(l *link, b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, l.peer)
	s.at = append(s.at, time.Since(s.t0))
	return true
}

// start runs u's sender until the returned stop, which waits for it.
func start(u *uplink) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { u.run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// The paced uplink sends a message's bytes at its rate, the links marked
// first before the others, each kind in turn, a message at a time; a link's
// queue past the high-water mark refuses, and a forgotten link's messages
// never go.
func TestPacedUplinkSendsForwardPushesFirstAtItsRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &sentLog{t0: time.Now()}
		u := newUplink(paceBurst, 3*paceBurst, log.send) // a 16 KiB message a second
		leaf, x, y, gone := &link{peer: "leaf"}, &link{peer: "x"}, &link{peer: "y"}, &link{peer: "gone"}
		msg := make([]byte, paceBurst)
		for range 3 {
			u.push(leaf, msg, false)
		}
		u.push(gone, msg, true)
		for _, l := range []*link{x, y, x} {
			u.push(l, msg, true)
		}
		for range 4 {
			u.push(leaf, msg, false) // the fourth is past the high-water mark
		}
		if u.push(leaf, msg, false) {
			t.Fatal("a queue past the high-water mark took another message")
		}
		u.forget(gone)
		stop := start(u)
		time.Sleep(time.Minute)
		synctest.Wait()
		want := "[x y x leaf leaf leaf leaf]"
		if got := fmt.Sprint(log.got); got != want {
			t.Fatalf("sent %s, want %s", got, want)
		}
		for i, at := range log.at {
			if at != time.Duration(i)*time.Second {
				t.Fatalf("message %d sent at %v, want %v (the rate: one a second after the burst)", i, at, time.Duration(i)*time.Second)
			}
		}
		u.push(y, msg, false) // an idle uplink wakes for a new message
		time.Sleep(time.Second)
		synctest.Wait()
		if len(log.got) != 8 {
			t.Fatalf("%d messages sent after a new one on an idle uplink, want 8", len(log.got))
		}
		stop()
	})
}

// A paced Network (Config.Upload) carries a link's messages, marked first
// or not, intact and in order, and Close ends its pacer.
func TestPacedLinkCarriesBytesInOrder(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := newPairWith(t, Config{Upload: 4 << 20}, "a", "b")
	_ = p.nets["a"].Connect("b")
	wait(t, p.opened["a"], "a open")
	wait(t, p.opened["b"], "b open")
	want := make([]byte, 1<<20)
	_, _ = rand.Read(want)
	go pump(want, 16<<10, p.nets["a"].Send, p.nets["a"].SendFirst)
	if got := gather(t, p.got["b"], len(want)); !bytes.Equal(got, want) {
		t.Fatal("bytes differ")
	}
	_ = p.nets["a"].Close()
	_ = p.nets["b"].Close()
}

// Pieces smaller than a burst leave a burst at a time, one wait each: eight
// 4 KiB pieces at 16 KiB/s go four at 0 s and four at 1 s.
func TestPacedUplinkSendsSmallPiecesABurstAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &sentLog{t0: time.Now()}
		u := newUplink(paceBurst, 1<<20, log.send)
		l := &link{peer: "l"}
		for range 8 {
			u.push(l, make([]byte, paceBurst/4), false)
		}
		stop := start(u)
		time.Sleep(time.Minute)
		synctest.Wait()
		want := "[0s 0s 0s 0s 1s 1s 1s 1s]"
		if got := fmt.Sprint(log.at); got != want {
			t.Errorf("sent at %s, want %s", got, want)
		}
		stop()
	})
}
