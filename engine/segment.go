package engine

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// maxSegments is how many segments the engine tracks at once; the oldest go
// first (a lying peer cannot grow this).
const maxSegments = 24

type segment struct {
	info     SegmentInfo
	known    bool  // seen in our playlist (info is complete)
	size     int64 // -1 until known
	stripes  []stripe
	ready    bool
	late     bool       // the deadline came before it was ready
	stop     func()     // deadline timer
	asked    bool       // the player asked for it (Need): its timer is the player's
	repair   func()     // pull-repair timer
	fetching bool       // a whole-segment CDN fetch is under way
	sums     [][32]byte // block digests (integrity), nil until published
	haves    []uint16   // stripes each neighbour said it holds (HAVE), by neighbour slot
}

type stripe struct {
	pieces  [][]byte
	got     int64         // contiguous bytes held from the stripe's start
	ok      int64         // of which usable: checked against the digests, or trusted (all of got without integrity)
	from    []PeerID      // who sent the bytes past ok
	cdn     bool          // a CDN completion is under way
	asked   bool          // a pull was sent
	askedAt int64         // got when the last pull was sent or seen moving
	doneAt  time.Duration // when it was complete, how, and the depth if pushed (StripeWatcher)
	via     Via
	depth   uint8
}

// stripeBounds is stripe k's byte range in a segment of size bytes.
func stripeBounds(size int64, k, n int) (start, end int64) {
	return size * int64(k) / int64(n), size * int64(k+1) / int64(n)
}

func (s *segment) stripeLen(k int) int64 {
	a, b := stripeBounds(s.size, k, len(s.stripes))
	return b - a
}

func (s *segment) complete(k int) bool { return s.size >= 0 && s.stripes[k].ok >= s.stripeLen(k) }

func (e *Engine) seg(id string) *segment {
	if s := e.lastSeg; s != nil && s.info.ID == id {
		return s
	}
	if s := e.segs[id]; s != nil {
		e.lastSeg = s
		return s
	}
	s := &segment{info: SegmentInfo{ID: id}, size: -1, stripes: make([]stripe, e.cfg.Stripes)}
	e.segs[id] = s
	e.order = append(e.order, id)
	for len(e.order) > maxSegments {
		old := e.segs[e.order[0]]
		if old.stop != nil {
			old.stop()
		}
		if old.repair != nil {
			old.repair()
		}
		if e.lastSeg == old {
			e.lastSeg = nil
		}
		delete(e.segs, e.order[0])
		e.order = e.order[1:]
	}
	return s
}

func (e *Engine) setSize(s *segment, size int64) bool {
	if s.size < 0 && size > 0 && size <= MaxSegSize {
		s.size = size
	}
	return s.size == size
}

// OnSegment tells the engine the playlist shows a new segment. Call in
// playlist order.
func (e *Engine) OnSegment(info SegmentInfo) {
	if s := e.segs[info.ID]; s != nil && s.known {
		return
	}
	s := e.seg(info.ID)
	s.info, s.known = info, true
	if !e.started {
		e.started, e.firstSeq = true, info.Seq
		e.playAt = e.clk.Now() + e.cfg.CDNTime
		e.graceEnd = e.clk.Now() + e.cfg.RootGrace
		e.fetchWhole(s, whyStart) // fast start: the first segment from the CDN
		return
	}
	e.schedule(s)
	e.improve()
	e.feedRoots(s)
	e.pullHeld(s)
	e.watchUpstreams(s)
	e.checkReady(s)
}

// schedule (re)sets s's CDN completion and pull repair. The player needs s
// a deadline after it appeared, or on its turn after the first segment if
// that comes sooner; the CDN completion starts early enough to finish by
// then twice over, and the repair halfway there.
func (e *Engine) schedule(s *segment) {
	if s.stop != nil {
		s.stop()
	}
	if s.repair != nil {
		s.repair()
	}
	info := s.info
	need := info.Available + e.Deadline(info.Duration)
	turn := e.playAt + time.Duration(info.Seq-e.firstSeq)*info.Duration
	switch {
	case e.told:
		need = turn
	case e.playing || !e.cfg.AwaitPlayer || info.Seq < e.firstSeq+int64(e.cfg.StartWith):
		need = min(need, turn)
	}
	deadline := need - e.margin(info.Duration)
	s.stop = e.clk.AfterFunc(max(0, deadline-e.clk.Now()), func() {
		e.complete(s)
	})
	mid := info.Available + (deadline-info.Available)/2
	s.repair = e.clk.AfterFunc(max(0, mid-e.clk.Now()), func() { e.pullRepair(s) })
}

// margin is how long before the player's need the CDN completion of a
// segment of duration d starts: twice the CDN's fetch time, at least
// MinMargin plus, with ReloadLag, the player's reload period (half the
// target duration, the whole seconds above d).
func (e *Engine) margin(d time.Duration) time.Duration {
	m := e.cfg.MinMargin
	if e.cfg.ReloadLag {
		target := max(time.Second, (d+time.Second-1)/time.Second*time.Second)
		m += target / 2
	}
	return max(2*e.cfg.CDNTime, m)
}

// Playing tells the engine the player took segment id at `at` (engine
// clock). Until then the engine takes the player to start with the fast
// start; a player that starts later (a proxy's, opened after its peer)
// needs every segment later than that, and CDN completions timed for the
// fast start come early: in a real swarm of 0.5 s segments whose players
// started 2 s after the first peers, those peers completed every segment
// from the CDN. The first call moves the player's schedule later if the
// player took that segment after its turn; later ones move it later only
// when the player is more than a segment behind it (it stalled or paused).
// No call moves it earlier: a player takes a segment when it loads it, and
// hls.js loads every segment as soon as it is listed, seconds before its
// turn (a browser whose hls.js played from the CDN before its peer was up
// asks for the newest segment first; taking that for its turn cost a swarm
// of four browsers 0.07–0.14 of offload in session 21). A player nearer
// the live edge than StartWith asks for segments before they are ready,
// and those (Need) come from the CDN at once, as before.
func (e *Engine) Playing(id string, at time.Duration) {
	s := e.segs[id]
	if s == nil || !s.known || !e.started || s.info.Duration <= 0 {
		return
	}
	due := e.playAt + time.Duration(s.info.Seq-e.firstSeq)*s.info.Duration
	late, first := at-due, !e.playing
	if !first {
		late -= s.info.Duration
	}
	e.playing = true
	switch {
	case late > 0:
		e.playAt = at - time.Duration(s.info.Seq-e.firstSeq)*s.info.Duration
	case !first:
		return
	} // else the segments awaiting the player (AwaitPlayer) now follow its schedule
	e.reschedule(s.info.Seq)
}

// Due tells the engine the player will play segment id at `at` (engine
// clock): a player that loads ahead of its turn and knows its position says
// so (the browser's hls.js: the fragment's start less the video's current
// time). Unlike Playing, the schedule follows it both ways and is no longer
// bounded by the deadline: the turns are the player's word, not a guess.
// hls.js holds three target durations back (3 s for 0.5 s segments), where
// the engine's guess from StartWith was 1.5 s and the deadline 2 s, so its
// peers completed segments from the CDN a second or more before it needed
// them (session 22).
func (e *Engine) Due(id string, at time.Duration) {
	s := e.segs[id]
	if s == nil || !s.known || !e.started || s.info.Duration <= 0 {
		return
	}
	e.playAt = at - time.Duration(s.info.Seq-e.firstSeq)*s.info.Duration
	e.playing, e.told = true, true
	e.reschedule(s.info.Seq)
}

// reschedule moves the CDN completions of the segments from seq on that are
// still to come to the player's schedule.
func (e *Engine) reschedule(seq int64) {
	for _, id := range e.order {
		if t := e.segs[id]; t.known && !t.ready && !t.late && !t.asked && t.info.Seq >= seq {
			e.schedule(t)
		}
	}
}

// StartIndex is the index, in the first playlist's n segments, from which the
// host should call OnSegment: the player starts StartWith segments behind
// the live edge. It reads only the configuration: any goroutine may call it.
func (e *Engine) StartIndex(n int) int { return max(0, n-e.cfg.StartWith) }

// backlog reports that segment seq was in this peer's first playlist after
// the fast start's: the player starts StartWith segments behind the live
// edge, so a newcomer needs these within a few segment durations, before
// or as its links come up, and the trees push only newer ones (a new
// upstream's catch-up brings only the newest). Their CDN bytes, as a
// root or at the deadline, are Stats.CDNBacklog.
func (e *Engine) backlog(seq int64) bool {
	return e.started && seq > e.firstSeq && seq < e.firstSeq+int64(e.cfg.StartWith)
}

// Deadline is how long after a segment of duration d appears the player
// needs it. It reads only the configuration: any goroutine may call it.
func (e *Engine) Deadline(d time.Duration) time.Duration {
	if e.cfg.Deadline > 0 {
		return e.cfg.Deadline
	}
	return DefaultDeadline(d)
}

// DefaultDeadline is the deadline of a segment of duration d when
// Config.Deadline is not set: 2 segments, at least 2 s.
//
// Until session 19 the simulator's players stalled at this with short
// segments (1,000 mixed viewers × 2 min: 18–30 stalls with 1 s segments,
// 2,077 with 0.5 s ones): the engine took the player to start CDNTime after
// the first segment appeared, later than it did on a fast CDN. Since it
// takes the fast start's arrival, none stalls there. 1.5 s with 1 s
// segments cuts the delay, but in real 5-viewer swarms of 1 s segments on
// a loaded machine (proxy's TestSharedPlaylistsSpareTheCDN) it made
// upstreams miss their deadline and viewers root stripes, and their players
// did not stall at 2 s. So the shorter deadline is an option (--deadline
// 1.5s), not the default (docs/BENCHMARKS.md, sessions 16 and 19).
func DefaultDeadline(d time.Duration) time.Duration { return 2 * max(d, time.Second) }

// MinPiece is the smallest PieceSize a host may set.
const MinPiece = 1 << 10

// ErrPieceSize: a PieceSize other than 0 outside MinPiece..MaxPiece.
var ErrPieceSize = fmt.Errorf("engine: piece size must be 0 or %d-%d bytes", MinPiece, MaxPiece)

// CheckPieceSize says whether n is a PieceSize a host may set (0: by the
// segment's duration).
func CheckPieceSize(n int) error {
	if n != 0 && (n < MinPiece || n > MaxPiece) {
		return fmt.Errorf("%d: %w", n, ErrPieceSize)
	}
	return nil
}

// ErrUtilization: a Utilization a host may set is 0 (the default) or in (0, 1].
var ErrUtilization = errors.New("engine: utilization must be 0 (default 0.8) or in (0, 1]")

// CheckUtilization says whether u is a Utilization a host may set.
func CheckUtilization(u float64) error {
	if u < 0 || u > 1 || math.IsNaN(u) {
		return fmt.Errorf("%v: %w", u, ErrUtilization)
	}
	return nil
}

// piece is the most data bytes in one PIECE of segment s: Config.PieceSize,
// or by default 16 KiB for segments of 2 s and more and 16 KiB × (d / 2 s)²
// below, at least 4 KiB (4 KiB at 1 s). Each tree level holds a piece
// before passing it on, at its share of its parent's upload: with short
// segments a 16 KiB piece is too long a wait at every level.
func (e *Engine) piece(s *segment) int {
	if e.cfg.PieceSize > 0 {
		return e.cfg.PieceSize
	}
	const full = 16 << 10
	d := s.info.Duration
	if d <= 0 || d >= 2*time.Second {
		return full
	}
	f := d.Seconds() / 2
	return max(4<<10, int(full*f*f))
}

// Need says the player wants the segment by at (engine clock): the CDN
// completion moves earlier if it must.
func (e *Engine) Need(id string, at time.Duration) {
	s := e.segs[id]
	if s == nil || s.ready || !s.known {
		return
	}
	if s.stop != nil {
		s.stop()
	}
	s.asked = true
	s.stop = e.clk.AfterFunc(max(0, at-e.cfg.CDNTime-e.clk.Now()), func() { e.complete(s) })
}

// feedRoots fetches the stripes this peer is root of from the CDN.
func (e *Engine) feedRoots(s *segment) {
	var roots []int
	for k, u := range e.up {
		if (u.root && !(e.cfg.LeafPull && e.leafRoot(k)) || e.cfg.CDNOnly) && !s.complete(k) && !s.stripes[k].cdn {
			roots = append(roots, k)
		}
	}
	switch {
	case len(roots) == 0:
	case len(roots) == e.cfg.Stripes:
		e.fetchWhole(s, whyRoot)
	case s.size < 0:
		// size unknown: a one-byte probe tells it (Content-Range), then the
		// stripes (the whole segment would duplicate what upstreams bring)
		e.fetch(s, Range{0, 1}, whyRoot, func([]byte, int64) { e.feedRoots(s) })
	default:
		for _, k := range roots {
			e.fetchStripe(s, k, whyRoot)
		}
	}
}

func (e *Engine) fetchWhole(s *segment, why cdnWhy) {
	if s.fetching || s.ready {
		return
	}
	s.fetching = true
	for k := range s.stripes {
		s.stripes[k].cdn = true
	}
	e.fetch(s, Range{}, why, func(b []byte, total int64) {
		s.fetching = false
		for k := range s.stripes {
			s.stripes[k].cdn = false
		}
		if b == nil || !e.setSize(s, int64(len(b))) {
			return
		}
		for k := range s.stripes {
			a, z := stripeBounds(s.size, k, e.cfg.Stripes)
			e.addData(s, k, 0, b[a:z], nil)
		}
	})
}

// fetchStripe takes the missing tail of stripe k from the CDN.
func (e *Engine) fetchStripe(s *segment, k int, why cdnWhy) {
	st := &s.stripes[k]
	if st.cdn || s.complete(k) {
		return
	}
	a, z := stripeBounds(s.size, k, e.cfg.Stripes)
	from := st.ok // bytes not checked yet are fetched again
	st.cdn = true
	e.fetch(s, Range{a + from, z - a - from}, why, func(b []byte, total int64) {
		st.cdn = false
		if b != nil && e.setSize(s, total) && int64(len(b)) == z-a-from {
			e.addData(s, k, from, b, nil)
		}
	})
}

// cdnWhy says why bytes came from the CDN (Stats).
type cdnWhy int

const (
	whyStart    cdnWhy = iota // fast start
	whyRoot                   // this peer is a root of the stripe
	whyDeadline               // completion at the deadline
)

func (e *Engine) fetch(s *segment, r Range, why cdnWhy, done func([]byte, int64)) {
	if !s.known {
		return
	}
	e.stats.CDNRequests++
	start := e.clk.Now()
	e.src.Fetch(s.info, r, func(b []byte, total int64, err error) {
		if err != nil {
			e.stats.CDNErrors++
			if why == whyDeadline && e.segs[s.info.ID] == s {
				// the deadline has come: try again shortly (the Source fails over)
				e.clk.AfterFunc(cdnRetry, func() { e.complete(s) })
			}
			if r.Length != 1 { // a failed size probe waits for the deadline
				done(nil, -1)
			}
			return
		}
		e.stats.BytesCDN += int64(len(b))
		e.countCDN(s, why, int64(len(b)))
		e.cfg.CDNTime = (3*e.cfg.CDNTime + (e.clk.Now() - start)) / 4
		if r.Length == 1 {
			e.setSize(s, total)
			done(nil, total)
			return
		}
		done(b, total)
	})
}

// cdnRetry is the pause before a failed deadline fetch is tried again.
const cdnRetry = 250 * time.Millisecond

// complete is the deadline: whatever is missing now comes from the CDN.
func (e *Engine) complete(s *segment) {
	if s.ready {
		return
	}
	e.markLate(s)
	if s.size < 0 {
		e.fetchWhole(s, whyDeadline)
		return
	}
	for k := range s.stripes {
		if !s.complete(k) {
			e.completeStripe(s, k)
		}
	}
}

// completeStripe fetches what stripe k of s lacks from the CDN now, as the
// deadline would.
func (e *Engine) completeStripe(s *segment, k int) {
	if s.stripes[k].cdn {
		return
	}
	e.markLate(s)
	e.stats.Late++
	e.fetchStripe(s, k, whyDeadline)
}

// markLate counts s once among the segments completed from the CDN late.
func (e *Engine) markLate(s *segment) {
	if !s.late {
		s.late = true
		e.stats.LateSegments++
	}
}

// lateDrops is how many deadlines in a row an upstream may miss before it
// is replaced.
const lateDrops = 3

// upstreamLate replaces an upstream that missed lateDrops deadlines in a
// row, and leaves it out of the choice for a pause, not a doubling penalty:
// an upstream is mostly late because its own upstream was, and a doubling
// penalty on every hop of a late subtree kept good upstreams out for
// minutes (in the simulator two misses with a penalty cost 0.007 offload at
// 1,000 mixed viewers, and a 30-peer swarm its worst seed 0.930 → 0.939).
// A frozen upstream still goes: it misses again after the pause.
func (e *Engine) upstreamLate(k int) {
	u := &e.up[k]
	if u.peer == "" || u.pending {
		return
	}
	u.late++
	if u.late >= lateDrops {
		if n := e.nbrs[u.peer]; n != nil {
			e.pause(n)
		}
		e.dropUpstream(k)
	}
}

func (e *Engine) countCDN(s *segment, why cdnWhy, n int64) {
	if why != whyStart && e.backlog(s.info.Seq) {
		e.stats.CDNBacklog += n
	}
	switch why {
	case whyStart:
		e.stats.CDNStart += n
	case whyRoot:
		e.stats.CDNRoot += n
	case whyDeadline:
		e.stats.CDNDeadline += n
	}
}
