package tracker

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// wtJoin connects a WebTorrent client with a null sink and announces ih.
func wtJoin(tb testing.TB, t *Tracker, i int, ihs ...string) *wtConn {
	tb.Helper()
	s, err := t.Connect(&nullSink{}, fmt.Sprintf("127.0.0.%d:%d", 1+i/60000, 1000+i%60000), nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := newWTConn(t, s)
	for _, ih := range ihs {
		c.Handle(context.Background(), fmt.Appendf(nil, `{"action":"announce","info_hash":%q,"peer_id":"peer%016d","numwant":0,"event":"started"}`, ih, i))
	}
	return c
}

func newTestTracker(tb testing.TB) (*Tracker, *peerstore.Memory) {
	tb.Helper()
	mem := peerstore.NewMemory(time.Now)
	t, err := New(context.Background(), Config{Store: mem, Bus: mem, MinSwarm: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { t.Shutdown(context.Background()) })
	return t, mem
}

// The members of one WebTorrent swarm on a node share one copy of its id;
// a connection in two swarms finds each of its members by info_hash, and
// "stopped" in one leaves the other alone.
func TestWebTorrentMembersShareTheSwarmID(t *testing.T) {
	tr, mem := newTestTracker(t)
	const ih1, ih2 = "abcdefghij0123456789", "ABCDEFGHIJ0123456789"
	a, b := wtJoin(t, tr, 1, ih1, ih2), wtJoin(t, tr, 2, ih1)
	sa, sb := a.find(ih1), b.find(ih1)
	if sa == nil || sb == nil || sa == sb {
		t.Fatalf("members in %s: %p %p", ih1, sa, sb)
	}
	if want := "wt-" + fmt.Sprintf("%x", ih1); sa.peer.Swarm != want {
		t.Fatalf("swarm id %q, want %q", sa.peer.Swarm, want)
	}
	if unsafe.StringData(sa.peer.Swarm) != unsafe.StringData(sb.peer.Swarm) {
		t.Fatal("two members of one swarm hold two copies of its id")
	}
	s2 := a.find(ih2)
	if s2 == nil || s2 == sa || s2.peer.Swarm == sa.peer.Swarm || a.find("zzzzzzzzzzzzzzzzzzzz") != nil {
		t.Fatalf("member of the second swarm: %v", s2)
	}
	a.Handle(context.Background(), fmt.Appendf(nil, `{"action":"announce","info_hash":%q,"peer_id":"peer%016d","event":"stopped"}`, ih1, 1))
	if a.find(ih1) != nil || a.find(ih2) != s2 {
		t.Fatalf("after stopped in %s: %v %v", ih1, a.find(ih1), a.find(ih2))
	}
	for ih, want := range map[string]int{ih1: 1, ih2: 1} {
		if si, err := mem.Swarm(context.Background(), string(appendWTSwarm(nil, ih))); err != nil || si.Peers != want {
			t.Fatalf("store swarm %s: %+v %v, want %d peers", ih, si, err, want)
		}
	}
}

// BenchmarkWTIdleMember: Go heap held per idle announced WebTorrent client
// in swarms of 20, without the WebSocket layer (the connection's Session,
// its member, the store's entry and the indexes): B/member
// (`go test -run - -bench WTIdleMember ./tracker`).
func BenchmarkWTIdleMember(b *testing.B) {
	const n = 5000
	for range b.N {
		tr, _ := newTestTracker(b)
		conns := make([]*wtConn, 0, n)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range n {
			conns = append(conns, wtJoin(b, tr, i, fmt.Sprintf("swarm%015d", i/20)))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/member")
		runtime.KeepAlive(conns)
	}
}

// A swarm id this node holds is shared without an allocation, whether
// looked up from bytes or from a string.
func TestSharedSwarmAllocatesNothingForAKnownSwarm(t *testing.T) {
	tr, _ := newTestTracker(t)
	const ih = "abcdefghij0123456789"
	held := wtJoin(t, tr, 1, ih).find(ih).peer.Swarm
	fresh := "wt-" + fmt.Sprintf("%x", ih)
	var b wtSwarmBuf
	allocs := testing.AllocsPerRun(100, func() {
		if got := sharedSwarm(tr, appendWTSwarm(b[:0], ih)); unsafe.StringData(got) != unsafe.StringData(held) {
			t.Fatal("bytes: not the held string")
		}
		if got := sharedSwarm(tr, fresh); unsafe.StringData(got) != unsafe.StringData(held) {
			t.Fatal("string: not the held string")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per lookup pair", allocs)
	}
}

// recSink counts what a connection was sent and whether it was closed.
type recSink struct {
	sent   int
	closed bool
}

func (s *recSink) Send([]byte) bool  { s.sent++; return true }
func (s *recSink) Close(int, string) { s.closed = true }
func (s *recSink) String() string    { return fmt.Sprintf("sent %d closed %v", s.sent, s.closed) }

// The node's list of connections: a disconnected one leaves it (from the
// middle or the end), Shutdown reaches every other one once, and a Session
// Connect did not make (a WebTorrent connection's second swarm) is never
// taken for another.
func TestShutdownReachesEveryConnectionStillOpen(t *testing.T) {
	tr, _ := newTestTracker(t)
	ctx := context.Background()
	sinks := make([]*recSink, 5)
	sess := make([]*Session, 5)
	for i := range sinks {
		sinks[i] = &recSink{}
		s, err := tr.Connect(sinks[i], fmt.Sprintf("127.0.0.1:%d", 2000+i), nil)
		if err != nil {
			t.Fatal(err)
		}
		sess[i] = s
	}
	sess[1].Disconnect(ctx)
	sess[4].Disconnect(ctx)
	(&Session{t: tr}).Disconnect(ctx)
	tr.Shutdown(ctx)
	for i, s := range sinks {
		if want := i != 1 && i != 4; s.closed != want || (s.sent == 1) != want {
			t.Errorf("connection %d: %v, want closed by Shutdown %v", i, s, want)
		}
	}
	if len(tr.all) != 0 {
		t.Errorf("%d connections left after Shutdown", len(tr.all))
	}
}
