package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"
)

// The WebTorrent load generator of `p2phls bench tracker --protocol
// webtorrent`: WebSocket clients that announce into swarms the way
// WebTorrent and p2p-media-loader clients do, then re-announce at a fixed
// open-loop rate (plain, or with offers the tracker hands to other members)
// while the latency of each tracker reply is measured. The same generator
// drives every server compared.

// ErrNoReply: a client's first announce got no answer (or a failure).
var ErrNoReply = errors.New("bench: announce not answered")

// WTClients is a set of connected, announced clients.
type WTClients struct {
	clients []*wtClient
	offers  atomic.Int64 // offers received by clients
	fails   atomic.Int64 // "failure reason" replies
	next    int
}

type wtClient struct {
	c      *websocket.Conn
	plain  []byte // the re-announce without offers
	prefix []byte // the announce with offers, up to the offers list
	mu     sync.Mutex
	sent   []time.Time // announces waiting for their reply, oldest first
	lats   []float64   // ms, of replies in the current step
	first  chan struct{}
}

// wtString is a 20-character string (ASCII, so JSON carries it unescaped,
// as the binary strings of real clients are on the same code path).
func wtString(r *rand.Rand) string {
	const abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 20)
	for i := range b {
		b[i] = abc[r.IntN(len(abc))]
	}
	return string(b)
}

// DialWT connects n clients to url (ws://…/announce), spread over swarms of
// swarmSize and over the source addresses, and announces each once.
func DialWT(ctx context.Context, url string, n, swarmSize int, srcIPs []string) (*WTClients, error) {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	hashes := make([]string, (n+swarmSize-1)/swarmSize)
	for i := range hashes {
		hashes[i] = wtString(r)
	}
	hcs := make([]*http.Client, max(1, len(srcIPs)))
	for i := range hcs {
		hcs[i] = dialer("")
		if len(srcIPs) > 0 {
			hcs[i] = dialer(srcIPs[i])
		}
	}
	w := &WTClients{clients: make([]*wtClient, n)}
	peers := make([]string, n)
	for i := range peers {
		peers[i] = wtString(r)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	for i := range n {
		g.Go(func() error {
			c, err := w.dial(gctx, hcs[i%len(hcs)], url, hashes[i/swarmSize], peers[i])
			w.clients[i] = c
			return err
		})
	}
	if err := g.Wait(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func (w *WTClients) dial(ctx context.Context, hc *http.Client, url, ih, peer string) (*wtClient, error) {
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, fmt.Errorf("bench: dial %s: %w", url, err)
	}
	c.SetReadLimit(1 << 20)
	head := fmt.Sprintf(`{"action":"announce","info_hash":%q,"peer_id":%q,"uploaded":0,"downloaded":0,"left":1`, ih, peer)
	wc := &wtClient{c: c, first: make(chan struct{}),
		plain:  []byte(head + `,"numwant":0}`),
		prefix: []byte(head + `,"numwant":5,"offers":[`)}
	go w.read(wc)
	first := []byte(head + `,"event":"started","numwant":0}`)
	wc.push(time.Now())
	if err := c.Write(ctx, websocket.MessageText, first); err != nil {
		return nil, fmt.Errorf("bench: announce: %w", err)
	}
	select {
	case <-wc.first:
		return wc, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(10 * time.Second):
		return nil, ErrNoReply
	}
}

func (wc *wtClient) push(t time.Time) {
	wc.mu.Lock()
	wc.sent = append(wc.sent, t)
	wc.mu.Unlock()
}

// read takes every message of one client: an offer handed over by the
// tracker, a failure, or the reply to this client's oldest announce.
func (w *WTClients) read(wc *wtClient) {
	started := false
	for {
		_, b, err := wc.c.Read(context.Background())
		if err != nil {
			return
		}
		now := time.Now()
		switch {
		case bytes.Contains(b, []byte(`"offer":`)):
			w.offers.Add(1)
		case bytes.Contains(b, []byte(`"failure reason"`)):
			w.fails.Add(1)
		default:
			wc.mu.Lock()
			if len(wc.sent) > 0 {
				wc.lats = append(wc.lats, float64(now.Sub(wc.sent[0]))/1e6)
				wc.sent = wc.sent[1:]
			}
			wc.mu.Unlock()
			if !started {
				started = true
				close(wc.first)
			}
		}
	}
}

// WTStep is what one fixed-rate step measured.
type WTStep struct {
	Rate     int     `json:"rate"`     // announces per second asked
	Offers   int     `json:"offers"`   // offers per announce
	Achieved float64 `json:"achieved"` // announces per second sent
	Answered float64 `json:"answered"` // fraction of announces answered
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	OffersIn int64   `json:"offers_delivered"`
	Failures int64   `json:"failures"`
	Sent     int     `json:"sent"`
	CPUUS    float64 `json:"server_cpu_us_per_announce"`
	SysUS    float64 `json:"server_kernel_us_per_announce"` // the part of CPUUS spent in the kernel (system calls, loopback TCP)
}

// offer is a stand-in SDP offer of a realistic size (~450 bytes).
var offer = `{"type":"offer","sdp":"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:` + strings.Repeat("x", 4) +
	`\r\na=ice-pwd:` + strings.Repeat("y", 24) + `\r\na=ice-options:trickle\r\na=fingerprint:sha-256 ` + strings.Repeat("AB:", 31) + `AB\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"}`

func (wc *wtClient) message(offers int, seq uint64) []byte {
	if offers == 0 {
		return wc.plain
	}
	b := bytes.NewBuffer(make([]byte, 0, len(wc.prefix)+offers*(len(offer)+40)))
	b.Write(wc.prefix)
	for i := range offers {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, `{"offer":%s,"offer_id":"%020d"}`, offer, seq*8+uint64(i))
	}
	b.WriteString("]}")
	return b.Bytes()
}

// Step sends announces at rate per second for d, round robin over the
// clients (open loop: the schedule does not wait for replies), waits up to
// 2 s for the last replies and reports.
func (w *WTClients) Step(ctx context.Context, rate, offers int, d time.Duration) WTStep {
	for _, c := range w.clients {
		c.mu.Lock()
		c.sent, c.lats = c.sent[:0], c.lats[:0]
		c.mu.Unlock()
	}
	offers0, fails0 := w.offers.Load(), w.fails.Load()
	st := WTStep{Rate: rate, Offers: offers}
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for now := start; now.Sub(start) < d; now = time.Now() {
		due := int(float64(rate) * now.Sub(start).Seconds())
		for ; st.Sent < due; st.Sent++ {
			c := w.clients[w.next%len(w.clients)]
			w.next++
			c.push(time.Now())
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			err := c.c.Write(wctx, websocket.MessageText, c.message(offers, uint64(w.next)))
			cancel()
			if err != nil {
				return st
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return st
		}
	}
	st.Achieved = float64(st.Sent) / time.Since(start).Seconds()
	lats := w.drain(st.Sent, 2*time.Second)
	st.Answered = float64(len(lats)) / float64(max(1, st.Sent))
	st.P50Ms, st.P99Ms = Percentile(lats, 0.5), Percentile(lats, 0.99)
	st.OffersIn, st.Failures = w.offers.Load()-offers0, w.fails.Load()-fails0
	return st
}

// drain waits until want replies came (or for up to wait) and returns their
// latencies, sorted.
func (w *WTClients) drain(want int, wait time.Duration) []float64 {
	var lats []float64
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		lats = lats[:0]
		for _, c := range w.clients {
			c.mu.Lock()
			lats = append(lats, c.lats...)
			c.mu.Unlock()
		}
		if len(lats) >= want || time.Now().After(deadline) {
			break
		}
	}
	sort.Float64s(lats)
	return lats
}

// Close closes every client.
func (w *WTClients) Close() {
	for _, c := range w.clients {
		if c != nil {
			_ = c.c.CloseNow()
		}
	}
}
