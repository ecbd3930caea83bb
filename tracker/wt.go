package tracker

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// The WebTorrent tracker protocol on /announce, so stock WebTorrent and
// p2p-media-loader clients form swarms through this tracker: JSON over
// WebSocket; "announce" with WebRTC offers that the tracker hands to other
// peers of the swarm, answers relayed back by to_peer_id/offer_id, "stopped",
// "scrape". info_hash and peer_id are 20-character binary strings. Each
// (connection, info_hash) is a member of swarm "wt-{hex info_hash}" in the
// peer store, so several tracker nodes on Redis relay between them as they
// do for /v1/ws.

// wtInterval is the re-announce interval told to clients, seconds.
const wtInterval = 120

// wtKeepalive is how often a quiet /announce connection is pinged (at least
// the heartbeat): half the announce interval, so a dead WebTorrent client
// is dropped within about two intervals' worth of pings, as trackers of that
// protocol expire peers, without a ping per client per heartbeat.
const wtKeepalive = wtInterval / 2 * time.Second

// wtMaxOffers bounds the offers of one announce.
const wtMaxOffers = 20

// wtMaxSwarms bounds the swarms one connection is a member of.
const wtMaxSwarms = 64

type wtMsg struct {
	Action   string          `json:"action"`
	InfoHash json.RawMessage `json:"info_hash"` // a string; a list in scrape
	PeerID   string          `json:"peer_id"`
	NumWant  int             `json:"numwant"`
	Event    string          `json:"event"`
	Offers   []wtOffer       `json:"offers"`
	Answer   json.RawMessage `json:"answer"`
	ToPeerID string          `json:"to_peer_id"`
	OfferID  string          `json:"offer_id"`
}

// wtReply answers an announce.
type wtReply struct {
	Action     string `json:"action"`
	Interval   int    `json:"interval"`
	InfoHash   string `json:"info_hash"`
	Complete   int    `json:"complete"`
	Incomplete int    `json:"incomplete"`
}

// wtRelayHead is the start of the message that hands an offer or an answer
// from peer in swarm ih to another member; appendRelay ends it.
func wtRelayHead(peer, ih string) []byte {
	b := append([]byte(`{"action":"announce","peer_id":`), encode(peer)...)
	b = append(b, `,"info_hash":`...)
	return append(append(b, encode(ih)...), `,"offer_id":`...)
}

// appendRelay appends to dst the relay of sdp (an "offer" or an "answer",
// as the client sent it: JSON the decoder has already checked) with its
// offer_id.
func appendRelay(dst, head []byte, offerID, kind string, sdp json.RawMessage) []byte {
	dst = append(append(dst, head...), encode(offerID)...)
	if len(sdp) > 0 {
		dst = append(append(append(dst, `,"`...), kind...), `":`...)
		dst = append(dst, sdp...)
	}
	return append(dst, '}')
}

type wtOffer struct {
	Offer   json.RawMessage `json:"offer"`
	OfferID string          `json:"offer_id"`
}

// wtConn is one /announce connection: its swarms, each a Session of its own.
type wtConn struct {
	t      *Tracker
	conn   *Session // the connection: limits, counts; the member of its first swarm
	mu     sync.Mutex
	swarms []*Session // its members; each one's peer.Swarm says which swarm
}

func newWTConn(t *Tracker, conn *Session) *wtConn { return &wtConn{t: t, conn: conn} }

// binary20 says whether s is a 20-character binary string.
func binary20(s string) bool {
	n := 0
	for _, r := range s {
		if r > 0xff {
			return false
		}
		n++
	}
	return n == 20
}

// appendHex20 appends the hex of a 20-character binary string.
func appendHex20(dst []byte, s string) []byte {
	var raw [20]byte
	n := 0
	for _, r := range s {
		if n < len(raw) {
			raw[n], n = byte(r), n+1
		}
	}
	return hex.AppendEncode(dst, raw[:n])
}

// wtSwarmBuf is room for a swarm id: "wt-" and 40 hex digits.
type wtSwarmBuf [3 + 40]byte

// appendWTSwarm appends the store's swarm id of info_hash ih.
func appendWTSwarm(dst []byte, ih string) []byte {
	return appendHex20(append(dst, "wt-"...), ih)
}

// wtSwarm is the store's swarm id of info_hash ih: the very string of that
// swarm's members on this node when it has some, so that the thousands of
// members of a swarm share one copy rather than holding 48 bytes each.
func (t *Tracker) wtSwarm(ih string) string {
	var b wtSwarmBuf
	return sharedSwarm(t, appendWTSwarm(b[:0], ih))
}

// wtID is a member's id in the store: peer and swarm, since one client may
// announce several swarms with one peer_id.
func wtID(peer, ih string) string {
	var b [40 + 1 + 40]byte
	id := appendHex20(append(appendHex20(b[:0], peer), '.'), ih)
	return string(id[:40+1+16])
}

// Handle takes one message.
func (c *wtConn) Handle(ctx context.Context, raw []byte) {
	if !c.conn.allow() {
		c.t.m.errors.WithLabelValues(CodeRateLimited).Inc()
		return
	}
	var m wtMsg
	if err := json.Unmarshal(raw, &m); err != nil {
		c.fail("", "malformed JSON")
		return
	}
	c.t.m.messages.WithLabelValues("wt_" + m.Action).Inc()
	switch m.Action {
	case "announce":
		c.announce(ctx, m)
	case "scrape":
		c.scrape(ctx, m)
	default:
		c.fail("", fmt.Sprintf("unknown action %q", truncate(m.Action, 40)))
	}
}

// TooLarge answers a message over the size limit.
func (c *wtConn) TooLarge() { c.fail("", fmt.Sprintf("message over %d bytes", MaxMessage)) }

func (c *wtConn) fail(ih, reason string) {
	c.t.m.errors.WithLabelValues("wt_failure").Inc()
	m := map[string]any{"action": "announce", "failure reason": reason}
	if ih != "" {
		m["info_hash"] = ih
	}
	c.conn.sink.Send(encode(m))
}

func (c *wtConn) announce(ctx context.Context, m wtMsg) {
	var ih string
	if json.Unmarshal(m.InfoHash, &ih) != nil || !binary20(ih) || !binary20(m.PeerID) {
		c.fail("", "info_hash and peer_id must be 20-byte strings")
		return
	}
	if len(m.Offers) > wtMaxOffers {
		c.fail(ih, fmt.Sprintf("more than %d offers", wtMaxOffers))
		return
	}
	if m.Event == "stopped" {
		c.leave(ctx, ih)
		return
	}
	s, err := c.member(ctx, ih, m.PeerID)
	if err != nil {
		c.fail(ih, err.Error())
		return
	}
	if len(m.Answer) > 0 && m.ToPeerID != "" {
		c.relayAnswer(ctx, s, ih, m)
		return
	}
	c.reply(ctx, s.peer.Swarm, ih)
	c.relayOffers(ctx, s, ih, m)
}

// member returns this connection's Session in swarm ih, joining it if new.
// The connection's own Session is the member of the first swarm it joins
// (most clients announce one), a new one each of the others.
func (c *wtConn) member(ctx context.Context, ih, peer string) (*Session, error) {
	c.mu.Lock()
	s, n := c.find(ih), len(c.swarms)
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	if n >= wtMaxSwarms {
		return nil, fmt.Errorf("more than %d swarms on one connection", wtMaxSwarms)
	}
	t := c.t
	p := peerstore.Peer{ID: wtID(peer, ih), Swarm: t.wtSwarm(ih), Node: t.cfg.Node, Joined: t.cfg.Now()}
	if err := t.cfg.Store.Put(ctx, p, t.ttl()); err != nil {
		t.log.Warn("announce failed: store", "err", err)
		return nil, fmt.Errorf("peer registry unavailable; retry later")
	}
	t.mu.Lock()
	if s = c.conn; s.joined {
		s = &Session{t: t, sink: c.conn.sink, remote: c.conn.remote, lim: c.conn.lim}
	}
	s.joined, s.peer = true, p // under t.mu: the heartbeat reads s.peer
	t.addLocal(s)
	t.mu.Unlock()
	t.m.peers.Inc()
	c.mu.Lock()
	c.swarms = append(c.swarms, s)
	c.mu.Unlock()
	return s, nil
}

// find returns the member in swarm ih, or nil. Under c.mu, from the
// connection's handler (which alone writes its members' peer).
func (c *wtConn) find(ih string) *Session {
	if i := c.index(ih); i >= 0 {
		return c.swarms[i]
	}
	return nil
}

// index is the position of the member in swarm ih, or -1. As find.
func (c *wtConn) index(ih string) int {
	var b wtSwarmBuf
	id := appendWTSwarm(b[:0], ih)
	return slices.IndexFunc(c.swarms, func(s *Session) bool { return s.peer.Swarm == string(id) })
}

func (c *wtConn) leave(ctx context.Context, ih string) {
	c.mu.Lock()
	var s *Session
	if i := c.index(ih); i >= 0 {
		s = c.swarms[i]
		c.swarms = slices.Delete(c.swarms, i, i+1)
	}
	c.mu.Unlock()
	if s != nil {
		s.leaveLocked(ctx)
	}
}

// close leaves every swarm of the connection.
func (c *wtConn) close(ctx context.Context) {
	c.mu.Lock()
	all := c.swarms
	c.swarms = nil
	c.mu.Unlock()
	for _, s := range all {
		s.leaveLocked(ctx)
	}
}

// counts is what an announce reply and a scrape say of the swarm.
func (c *wtConn) counts(ctx context.Context, swarm string) (complete, incomplete int) {
	si, err := c.t.cfg.Store.Swarm(ctx, swarm)
	if err != nil {
		return 0, 0
	}
	return 0, si.Peers // seeding does not apply to live streams: every member counts as a leecher
}

func (c *wtConn) reply(ctx context.Context, swarm, ih string) {
	complete, incomplete := c.counts(ctx, swarm)
	c.conn.sink.Send(encode(wtReply{Action: "announce", Interval: wtInterval, InfoHash: ih, Complete: complete, Incomplete: incomplete}))
}

// relayOffers gives each offer to a different peer of the swarm, best first.
func (c *wtConn) relayOffers(ctx context.Context, s *Session, ih string, m wtMsg) {
	if len(m.Offers) == 0 {
		return
	}
	n := len(m.Offers)
	if m.NumWant > 0 {
		n = min(n, m.NumWant)
	}
	peers, err := c.t.peerList(ctx, s.peer.Swarm, s.peer.ID, n)
	if err != nil {
		return
	}
	head := wtRelayHead(m.PeerID, ih)
	var msg []byte // one buffer for all: the socket layer copies what it sends
	for i, p := range peers {
		o := m.Offers[i]
		msg = appendRelay(msg[:0], head, o.OfferID, "offer", o.Offer)
		if err := c.t.route(ctx, s.peer.Swarm, p.ID, msg); err == nil {
			c.t.m.relayed.WithLabelValues("wt_offer").Inc()
		}
	}
}

func (c *wtConn) relayAnswer(ctx context.Context, s *Session, ih string, m wtMsg) {
	if !binary20(m.ToPeerID) {
		c.fail(ih, "to_peer_id must be a 20-byte string")
		return
	}
	msg := appendRelay(nil, wtRelayHead(m.PeerID, ih), m.OfferID, "answer", m.Answer)
	if err := c.t.route(ctx, s.peer.Swarm, wtID(m.ToPeerID, ih), msg); err != nil {
		c.fail(ih, "the peer answered is gone")
		return
	}
	c.t.m.relayed.WithLabelValues("wt_answer").Inc()
}

func (c *wtConn) scrape(ctx context.Context, m wtMsg) {
	var list []string
	var one string
	if json.Unmarshal(m.InfoHash, &one) == nil {
		list = []string{one}
	} else if json.Unmarshal(m.InfoHash, &list) != nil || len(list) > 100 {
		c.fail("", "scrape needs info_hash: a string or a list of at most 100")
		return
	}
	files := map[string]any{}
	for _, ih := range list {
		if binary20(ih) {
			complete, incomplete := c.counts(ctx, string(appendWTSwarm(nil, ih)))
			files[ih] = map[string]int{"complete": complete, "incomplete": incomplete, "downloaded": 0}
		}
	}
	c.conn.sink.Send(encode(map[string]any{"action": "scrape", "files": files}))
}
