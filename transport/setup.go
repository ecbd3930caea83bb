//go:build !js

package transport

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// setup builds the pion API: one UDP socket shared by all links through the
// ICE UDP mux (with a large read buffer: loopback bursts otherwise drop
// packets), and on loopback the candidate recipe of DESIGN §5.
func (n *Network) setup() error {
	var se webrtc.SettingEngine
	addr := n.cfg.UDP
	if n.cfg.Loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		if addr == "" {
			addr = "127.0.0.1:0"
		}
	}
	if addr == "" {
		addr = "0.0.0.0:0"
	}
	// A SIGKILLed peer is noticed in about 5 s instead of pion's 30 s.
	se.SetICETimeouts(3*time.Second, 5*time.Second, 2*time.Second)
	ua, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return fmt.Errorf("transport: udp address: %w", err)
	}
	udp, err := net.ListenUDP("udp4", ua)
	if err != nil {
		return fmt.Errorf("transport: udp socket: %w", err)
	}
	_ = udp.SetReadBuffer(4 << 20)
	_ = udp.SetWriteBuffer(4 << 20)
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: &countingConn{PacketConn: udp, c: &n.wire}})
	se.SetICEUDPMux(mux)
	n.stop = func() { _ = mux.Close() }
	n.api = webrtc.NewAPI(webrtc.WithSettingEngine(se))
	return nil
}

// countingConn counts the UDP bytes of every link: the wire cost.
type countingConn struct {
	net.PacketConn
	c *wireCounters
}

func (c *countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	k, a, err := c.PacketConn.ReadFrom(b)
	c.c.recv.Add(int64(k))
	return k, a, err
}

func (c *countingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	k, err := c.PacketConn.WriteTo(b, a)
	c.c.sent.Add(int64(k))
	return k, err
}

// relayed reports that the link's selected ICE pair uses a TURN relay on
// this side.
func relayed(pc *webrtc.PeerConnection) bool {
	if pc == nil || pc.SCTP() == nil || pc.SCTP().Transport() == nil {
		return false
	}
	pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	return err == nil && pair != nil && pair.Local != nil && pair.Local.Typ == webrtc.ICECandidateTypeRelay
}
