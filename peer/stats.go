package peer

import (
	"slices"
	"time"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/transport"
)

// Stats of a node (GET /stats).
type Stats struct {
	Swarm         string  `json:"swarm"`
	BytesCDN      int64   `json:"bytes_cdn"` // engine CDN bytes + direct fetches for the player
	BytesP2P      int64   `json:"bytes_p2p"`
	BytesUploaded int64   `json:"bytes_uploaded"`
	Stalls        int64   `json:"stalls"` // segments ready after their deadline, or given up
	Peers         int     `json:"peers"`  // open links
	Offload       float64 `json:"offload"`
	Segments      int64   `json:"segments"`
	DelayP50MS    float64 `json:"extra_delay_p50_ms"` // segment in the playlist → ready here
	DelayP95MS    float64 `json:"extra_delay_p95_ms"`
	// Age: from a segment's publication (its EXT-X-PROGRAM-DATE-TIME plus
	// its duration, on this machine's clock) to ready here; 0 where the
	// playlist does not date its segments.
	AgeP50MS float64         `json:"age_p50_ms"`
	AgeP95MS float64         `json:"age_p95_ms"`
	Engine   engine.Stats    `json:"engine"`
	Links    transport.Stats `json:"links"`
}

// Stats returns the node's counters (the engine's as of the last second).
func (n *Node) Stats() Stats {
	n.mu.Lock()
	es := n.engSt
	s := Stats{Swarm: n.cfg.Swarm, Stalls: n.stalls, Engine: es, BytesCDN: es.BytesCDN + n.direct,
		BytesP2P: es.BytesP2P, BytesUploaded: es.BytesUploaded, Segments: es.Segments}
	d, a := slices.Clone(n.delays), slices.Clone(n.ages)
	n.mu.Unlock()
	if n.net != nil {
		s.Links = n.net.Stats()
		s.Peers = s.Links.Links
	}
	if t := s.BytesCDN + s.BytesP2P; t > 0 {
		s.Offload = float64(s.BytesP2P) / float64(t)
	}
	s.DelayP50MS, s.DelayP95MS = pcts(d)
	s.AgeP50MS, s.AgeP95MS = pcts(a)
	return s
}

// pcts is the median and the 95th percentile of d in ms (sorts d).
func pcts(d []time.Duration) (p50, p95 float64) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return ms(d[len(d)/2]), ms(d[min(len(d)-1, len(d)*95/100)])
}

// keepLast keeps the newest 256 of d.
func keepLast(d []time.Duration) []time.Duration {
	if len(d) > 256 {
		return d[1:]
	}
	return d
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// copyStats copies the engine's counters out of the reactor (every 500 ms).
func (n *Node) copyStats() {
	n.r.post(func() {
		st := n.eng.Stats()
		n.mu.Lock()
		n.engSt = st
		n.mu.Unlock()
	})
}
