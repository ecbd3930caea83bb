package transport

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// startTURN runs a pion TURN server on a loopback UDP port (user "u",
// password "p") that relays from 127.0.0.1.
func startTURN(t *testing.T) (url string, auths *atomic.Int64) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	key := turn.GenerateAuthKey("u", "p2phls", "p")
	n := new(atomic.Int64)
	s, err := turn.NewServer(turn.ServerConfig{
		Realm: "p2phls",
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			if ra.Username != "u" {
				return "", nil, false
			}
			n.Add(1)
			return "u", key, true
		},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP("127.0.0.1"), Address: "127.0.0.1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return "turn:" + pc.LocalAddr().String() + "?transport=udp", n
}

// RelayOnly: both viewers gather only TURN relay candidates, so the link
// opens through the relay (neither learns the other's address) and carries
// bytes intact; the relayed links are counted.
func TestRelayOnlyLinkGoesThroughTURN(t *testing.T) {
	got := make(chan []byte, 16)
	nets, opened, auths := relayPair(t, func(s hubSignaler) Signaler { return s }, func(_ string, b []byte) { got <- bytes.Clone(b) })
	wait(t, opened, "first side open")
	wait(t, opened, "second side open")
	msg := []byte("through the relay")
	for !nets["a"].Send("b", msg) {
	}
	if b := wait(t, got, "data"); !bytes.Equal(b, msg) {
		t.Fatalf("got %q", b)
	}
	for _, id := range []string{"a", "b"} {
		if st := nets[id].Stats(); st.Relayed != 1 {
			t.Errorf("%s: %d links relayed, want 1 (stats %+v)", id, st.Relayed, st)
		}
	}
	if auths.Load() == 0 {
		t.Error("the TURN server authenticated nobody")
	}
}

// slowOffers delivers offers 300 ms late and every other signal at once:
// candidates overtake their offer, as they may through a tracker.
type slowOffers struct{ hubSignaler }

func (s slowOffers) Signal(to string, sig Signal) error {
	if sig.Type != "offer" {
		return s.hubSignaler.Signal(to, sig)
	}
	time.AfterFunc(300*time.Millisecond, func() { _ = s.hubSignaler.Signal(to, sig) })
	return nil
}

// A candidate that comes before its offer is kept for the link the offer
// makes. Relay-only, each side has one candidate and the answerer cannot
// learn the offerer's from its checks (its TURN server needs a permission
// first): without the kept candidate the link never opens.
func TestCandidatesBeforeTheirOfferAreKept(t *testing.T) {
	nets, opened, _ := relayPair(t, func(s hubSignaler) Signaler { return slowOffers{s} }, nil)
	wait(t, opened, "first side open")
	wait(t, opened, "second side open")
	if f := nets["a"].Stats().Failed + nets["b"].Stats().Failed; f != 0 {
		t.Fatalf("%d failed set-ups", f)
	}
}

// relayPair is two relay-only Networks a and b on one TURN server, signals
// through sig, a connecting to b; opened hears each side's Open.
func relayPair(t *testing.T, sig func(hubSignaler) Signaler, msg func(string, []byte)) (nets map[string]*Network, opened chan string, auths *atomic.Int64) {
	url, auths := startTURN(t)
	hub := &localHub{nets: map[string]*Network{}}
	ice := []webrtc.ICEServer{{URLs: []string{url}, Username: "u", Credential: "p"}}
	opened, nets = make(chan string, 4), map[string]*Network{}
	for _, id := range []string{"a", "b"} {
		n, err := New(Config{Self: id, Loopback: true, RelayOnly: true, ICEServers: ice, SetupTimeout: 8 * time.Second},
			sig(hubSignaler{hub, id}), Handler{Open: func(string) { opened <- id }, Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		hub.add(id, n)
		nets[id] = n
		t.Cleanup(func() { _ = n.Close() })
	}
	if err := nets["a"].Connect("b"); err != nil {
		t.Fatal(err)
	}
	return nets, opened, auths
}
