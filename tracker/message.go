// Package tracker is the p2phls rendezvous: WebSocket signaling between the
// viewers of a swarm, swarm discovery and stats, over a peerstore shared by
// one or several tracker nodes. The logic (Tracker, Session) knows nothing of
// sockets; ws.go and http.go put it on the network.
package tracker

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// ProtocolVersion of the signaling messages (docs/PROTOCOL.md).
const ProtocolVersion = 1

// MaxMessage is the largest signaling message accepted, in bytes.
const MaxMessage = 64 << 10

// Error codes sent in {"type":"error","code":...}.
const (
	CodeBadJSON       = "bad_json"
	CodeBadMessage    = "bad_message"
	CodeUnknownType   = "unknown_type"
	CodeTooLarge      = "too_large"
	CodeNotJoined     = "not_joined"
	CodeAlreadyJoined = "already_joined"
	CodeUnknownPeer   = "unknown_peer"
	CodeBadSwarm      = "bad_swarm"
	CodeBadToken      = "bad_token"
	CodeRateLimited   = "rate_limited"
	CodeUnavailable   = "unavailable"
	CodeUnknownSwarm  = "unknown_swarm"
	CodeNotFound      = "not_found"
	// CodeBanned: see guard.go.
)

// ErrProtocol is wrapped by every error a client's message causes.
var ErrProtocol = errors.New("tracker: protocol error")

// ProtoError is a client error with the code sent back to it.
type ProtoError struct {
	Code string
	Msg  string
}

func (e *ProtoError) Error() string { return e.Code + ": " + e.Msg }
func (e *ProtoError) Unwrap() error { return ErrProtocol }

func protoErr(code, format string, a ...any) *ProtoError {
	return &ProtoError{Code: code, Msg: fmt.Sprintf(format, a...)}
}

// Message is one signaling message, client to tracker or back. Unknown fields
// are ignored; each type uses the fields it names in docs/PROTOCOL.md.
type Message struct {
	Type  string          `json:"type"`
	Swarm string          `json:"swarm,omitempty"`
	Token string          `json:"token,omitempty"`
	To    string          `json:"to,omitempty"`
	From  string          `json:"from,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Size  int             `json:"size,omitempty"`
	// stats
	Stats     *peerstore.Stats `json:"stats,omitempty"`
	UploadCap int64            `json:"upload_capacity,omitempty"`
	// join: the media playlist the peer plays (integrity digests)
	Playlist string `json:"playlist,omitempty"`
	// report: a peer that sent bad data, and why
	Peer   string `json:"peer,omitempty"`
	Reason string `json:"reason,omitempty"`
}

var swarmRe = regexp.MustCompile(`^[A-Za-z0-9._~:-]{1,128}$`)

// ValidSwarm reports whether id may name a swarm.
func ValidSwarm(id string) bool { return swarmRe.MatchString(id) }

// DecodeMessage parses and validates one client message.
func DecodeMessage(b []byte) (Message, error) {
	var m Message
	if len(b) > MaxMessage {
		return m, protoErr(CodeTooLarge, "message of %d bytes exceeds %d", len(b), MaxMessage)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, protoErr(CodeBadJSON, "malformed JSON: %v", err)
	}
	switch m.Type {
	case "join":
		if !ValidSwarm(m.Swarm) {
			return m, protoErr(CodeBadSwarm, "swarm id must match %s", swarmRe)
		}
	case "signal":
		if m.To == "" || len(m.Data) == 0 || string(m.Data) == "null" {
			return m, protoErr(CodeBadMessage, "signal needs \"to\" and \"data\"")
		}
	case "stats":
		if m.Stats == nil {
			return m, protoErr(CodeBadMessage, "stats needs \"stats\"")
		}
	case "report":
		if m.Peer == "" {
			return m, protoErr(CodeBadMessage, "report needs \"peer\"")
		}
	case "peers", "leave", "ping":
	case "":
		return m, protoErr(CodeBadMessage, "missing \"type\"")
	default:
		return m, protoErr(CodeUnknownType, "unknown message type %q", truncate(m.Type, 40))
	}
	if m.Size < 0 || m.UploadCap < 0 {
		return m, protoErr(CodeBadMessage, "negative size or upload_capacity")
	}
	return m, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Outgoing messages.

type joinedMsg struct {
	Type     string   `json:"type"`
	Version  int      `json:"version"`
	Peer     string   `json:"peer"`
	Swarm    string   `json:"swarm"`
	Peers    []string `json:"peers"`
	StatsKey string   `json:"stats_key"`
	Interval int      `json:"heartbeat_ms"`
	// Integrity: the swarm's segments have published digests; check every piece.
	Integrity bool `json:"integrity,omitempty"`
}

type peersMsg struct {
	Type  string   `json:"type"`
	Peers []string `json:"peers"`
}

type signalMsg struct {
	Type string          `json:"type"`
	From string          `json:"from"`
	Data json.RawMessage `json:"data"`
}

type errorMsg struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

type noticeMsg struct {
	Type    string `json:"type"`
	Message string `json:"message,omitempty"`
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // only our own types are encoded
		panic(fmt.Sprintf("tracker: encode %T: %v", v, err))
	}
	return b
}

// WebSocket close codes the tracker uses (RFC 6455).
const (
	CloseGoingAway = 1001
	ClosePolicy    = 1008
)
