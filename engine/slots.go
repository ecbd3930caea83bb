package engine

// Slots and homes: how many stripe-children a peer can feed (its upload
// over a stripe's rate), which stripe it gives them to (its home), and what
// it advertises to its neighbours.

func (e *Engine) uploadCap() int64 {
	if e.cfg.ConsumeOnly {
		return 0
	}
	if e.cfg.UploadCap > 0 {
		return e.cfg.UploadCap
	}
	return 4 * int64(e.bitrate)
}

// capSlack is the share of a stripe slot that may lie past u × the upload
// cap and still count (never past the cap itself), and capWeight the weight
// of each segment in the slow estimate of the stream's rate that capacity
// uses. Segment sizes vary around their mean: at u = 0.875 a 2× uploader's
// 7 slots sit exactly on a whole number, and counted with the
// segment-to-segment estimate (bitrate) every such peer of a swarm lost its
// seventh slot, all at once, whenever the estimate rose past the mean, and
// took it back when it fell.
const (
	capSlack  = 0.25
	capWeight = 1.0 / 64
)

// capacity is how many stripe-children this peer can feed: its upload at
// utilisation u over one stripe's rate.
func (e *Engine) capacity() int {
	u := e.cfg.Utilization
	switch {
	case e.cfg.ConsumeOnly:
		return 0
	case e.cfg.UploadCap <= 0:
		return int(4 * u * float64(e.cfg.Stripes)) // no cap given: 4× the stream, whatever its rate
	}
	return Slots(float64(e.cfg.UploadCap)/e.capRate, u, e.cfg.Stripes)
}

// Slots is how many stripe-children an upload of up times the stream's rate
// feeds at utilisation u with k stripes: a slot counts when three quarters
// of it fit within u of the upload (capSlack), and never past the upload.
func Slots(up, u float64, k int) int {
	whole := up * float64(k)
	return min(int(whole*u+capSlack), int(whole))
}

// Capacity is how many stripe-children this peer can feed, and how many more
// it would take now: its free slots in its home stripe while it is fed there
// (0 before it has chosen a home or while it has no supply).
func (e *Engine) Capacity() (slots, free int) {
	slots = e.capacity()
	if h := e.homeK; h >= 0 {
		if _, fed := e.path(h); fed {
			free = int(e.slotsFor(h))
		}
	}
	return slots, free
}

// measure takes a complete segment's rate (bytes/s) into both estimates:
// bitrate follows each segment; capRate is the mean of the configured rate
// and the segments so far, then a slow average (capWeight), so a peer's
// slot count neither follows one segment's size nor keeps a wrong guess.
func (e *Engine) measure(rate float64) {
	if rate <= 0 {
		return // an empty segment says nothing of the rate (and would zero the divisor)
	}
	e.bitrate = 0.8*e.bitrate + 0.2*rate
	e.rates++
	e.capRate += max(1/float64(e.rates+1), capWeight) * (rate - e.capRate)
}

func (e *Engine) freeSlots() uint8 {
	return uint8(min(255, max(0, e.capacity()-e.nchild)))
}

// home is the stripe this peer gives its upload to (SplitStream's rule: an
// interior node of one tree, a leaf in the others, so each tree has a wide
// fanout and stays shallow).
//
// The home is chosen when this peer first has children to offer: the
// stripe for which the fewest neighbours are homes, ties broken by the
// peer's hash. So homes spread evenly over the stripes even in small swarms.
// Peers that join together choose before they see each other's choice; a
// peer with no child in its home yet moves later (rehome).
func (e *Engine) home() int {
	if e.homeK >= 0 {
		return e.homeK
	}
	states := 0
	for _, n := range e.neighbours() {
		if len(n.state) > 0 {
			states++
		}
	}
	if states < min(6, len(e.nbrs)) || states == 0 {
		return -1 // not enough seen yet: no slots until then
	}
	count, _ := e.homeCounts(-1)
	e.homeK = fewest(count[:e.cfg.Stripes], int(e.self%uint32(e.cfg.Stripes)))
	return e.homeK
}

// homeCounts is how many neighbours have each stripe as their home (the
// stripe a neighbour advertises the most slots for), and whether one of
// those whose home is stripe mine sorts below this peer or has children
// there (it cannot move without dropping them, so this peer must). A neighbour whose
// most slots tie between stripes is not counted: slots are advertised
// coarsely (0..3), so a home and a stripe its spare capacity spills over
// to can tie, and taking the spill stripe for the home made a stripe with
// no home look homed, so that nobody moved there. An array: this
// runs on every STATE of a peer with no child in its home, and allocates nothing.
func (e *Engine) homeCounts(mine int) (count [MaxStripes]int, lower bool) {
	for _, n := range e.neighbours() {
		best, bestSlots, tied := -1, uint8(0), false
		for k, st := range n.state {
			switch {
			case st.Slots > bestSlots:
				best, bestSlots, tied = k, st.Slots, false
			case st.Slots == bestSlots && st.Slots > 0:
				tied = true
			}
		}
		if best >= 0 && !tied {
			count[best]++
			lower = lower || best == mine && (n.hash < e.self || n.state[best].Kids)
		}
	}
	return count, lower
}

// fewest is the stripe with the fewest homes, from; from wins ties.
func fewest(count []int, from int) int {
	k := from
	for i := range count {
		if count[i] < count[k] {
			k = i
		}
	}
	return k
}

// rehome moves a home that two or more nearby peers share to a stripe with
// fewer homes, while this peer has no child there to lose. Of the peers
// sharing a home one with children there stays, else the one whose hash
// sorts lowest, so two colliding peers do not both leave (nor both stay:
// a lower peer with no child deferring to a higher one that cannot move
// left a stripe with no home).
func (e *Engine) rehome() {
	if e.homeK < 0 || len(e.children[e.homeK]) > 0 {
		return
	}
	count, lower := e.homeCounts(e.homeK)
	if !lower {
		return
	}
	if k := fewest(count[:e.cfg.Stripes], e.homeK); k != e.homeK {
		e.homeK = k
		e.markDirty()
	}
}

// slotsFor is how many children this peer takes for stripe k: all its free
// capacity for its home stripe; for the others only what exceeds Spill % of
// its capacity (spare capacity spills over where home trees are short).
func (e *Engine) slotsFor(k int) uint8 {
	h := e.home()
	if h < 0 {
		return 0
	}
	free := int(e.freeSlots())
	if k != h {
		if !e.starving(k) {
			return 0
		}
		free -= (e.capacity()*e.cfg.Spill + 99) / 100
	}
	return uint8(max(0, free))
}

// advertisedSlots is coarse (0..3) so that every new child does not cost a
// STATE broadcast.
func (e *Engine) advertisedSlots(k int) uint8 { return min(3, e.slotsFor(k)) }
