package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2phls/p2phls/tracker"
	"github.com/p2phls/p2phls/tracker/client"
	"github.com/p2phls/p2phls/transport"
)

// FanoutResult is one sender pushing to children in another process.
type FanoutResult struct {
	Children  int     `json:"children"`
	Seconds   float64 `json:"seconds"`
	Mbps      float64 `json:"mbit_s"`     // delivered to the children
	SenderCPU float64 `json:"sender_cpu"` // cores used by the sender's process while it sent
}

// linkNode is a transport.Network joined to a swarm through a tracker.
type linkNode struct {
	tc  *client.Client
	net *transport.Network
	id  chan string
}

func newLinkNode(ctx context.Context, url string, onJoined func(ln *linkNode), h transport.Handler) (*linkNode, error) {
	ln := &linkNode{id: make(chan string, 1)}
	ln.tc = client.New(client.Config{URL: url, Swarm: "fanout",
		Joined: func(self string, peers []string) {
			ln.net.SetSelf(self)
			select {
			case ln.id <- self:
			default:
			}
			if onJoined != nil {
				onJoined(ln)
			}
		},
		Signal: func(from string, data json.RawMessage) { _ = ln.net.OnSignal(from, data) }})
	var err error
	ln.net, err = transport.New(transport.Config{Loopback: true, MaxLinks: 64}, fanoutSig{ln.tc}, h)
	if err != nil {
		return nil, err
	}
	go func() { _ = ln.tc.Run(ctx) }()
	return ln, nil
}

type fanoutSig struct{ c *client.Client }

func (s fanoutSig) Signal(to string, v transport.Signal) error { return s.c.Signal(to, v) }

// RunFanout measures the upload one peer sustains to `children` peers: the
// sender runs here, the children in a child process (bin bench
// fanout-children), so this process's CPU is the sender's alone.
func RunFanout(ctx context.Context, bin string, children int, d time.Duration) (FanoutResult, error) {
	tr, err := tracker.Start(tracker.ServerConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		return FanoutResult{}, err
	}
	defer tr.Close(context.Background())
	url := "ws://" + tr.Addr + "/v1/ws"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var kids []string
	opened := make(chan struct{}, children)
	src, err := newLinkNode(ctx, url, nil, transport.Handler{Open: func(id string) {
		mu.Lock()
		kids = append(kids, id)
		mu.Unlock()
		opened <- struct{}{}
	}})
	if err != nil {
		return FanoutResult{}, err
	}
	defer src.net.Close()
	self := <-src.id
	cmd := exec.CommandContext(ctx, bin, "bench", "fanout-children", "--tracker", url, "--sender", self,
		"--children", fmt.Sprint(children), "--duration", (d + 20*time.Second).String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		return FanoutResult{}, err
	}
	if err := cmd.Start(); err != nil {
		return FanoutResult{}, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for range children {
		select {
		case <-opened:
		case <-time.After(30 * time.Second):
			return FanoutResult{}, fmt.Errorf("bench: fanout: links did not open")
		}
	}
	cpu0, _ := CPUSeconds(os.Getpid())
	el := src.net.Flood(ctx, kids, 16<<10, d).Seconds()
	cpu1, _ := CPUSeconds(os.Getpid())
	_ = cmd.Process.Signal(os.Interrupt)
	var got struct{ Bytes int64 }
	if err := json.NewDecoder(out).Decode(&got); err != nil {
		return FanoutResult{}, fmt.Errorf("bench: fanout children: %w", err)
	}
	return FanoutResult{Children: children, Seconds: el, Mbps: float64(got.Bytes) * 8 / el / 1e6, SenderCPU: (cpu1 - cpu0) / el}, nil
}

// FanoutChildren is the child process: children peers that link to sender
// only and count what they receive until ctx ends, then print {"Bytes":N}.
func FanoutChildren(ctx context.Context, url, sender string, children int, stdout io.Writer) error {
	var got atomic.Int64
	for range children {
		ln, err := newLinkNode(ctx, url, func(ln *linkNode) { _ = ln.net.Connect(sender) },
			transport.Handler{Message: func(_ string, b []byte) { got.Add(int64(len(b))) }})
		if err != nil {
			return err
		}
		defer ln.net.Close()
	}
	<-ctx.Done()
	return json.NewEncoder(stdout).Encode(struct{ Bytes int64 }{got.Load()})
}
