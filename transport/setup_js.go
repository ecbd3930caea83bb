//go:build js

package transport

import "github.com/pion/webrtc/v4"

// setup in a browser: pion wraps the browser's RTCPeerConnection, which owns
// its sockets and ICE policy (Loopback and UDP do not apply; the page's
// browser flags decide, DESIGN §5). Wire bytes are not counted here.
func (n *Network) setup() error {
	n.api = webrtc.NewAPI()
	return nil
}

// relayed: the browser does not tell pion's wrapper the selected pair.
func relayed(*webrtc.PeerConnection) bool { return false }
