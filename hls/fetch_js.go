//go:build js && wasm

package hls

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"syscall/js"
)

// defaultDoer in the browser calls fetch() itself. net/http's own fetch
// round tripper would do the same, but linking http.Client brings in the
// whole native transport (HTTP/2, TLS, x509) as a fallback: 5.5 MB of the
// wasm (docs/BENCHMARKS.md, "Browser peer size").
func defaultDoer() Doer { return fetchDoer{} }

type fetchDoer struct{}

func (fetchDoer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	abort := js.Global().Get("AbortController").New()
	headers := js.Global().Get("Headers").New()
	for k, vs := range req.Header {
		for _, v := range vs {
			headers.Call("append", k, v)
		}
	}
	init := js.Global().Get("Object").New()
	init.Set("method", req.Method)
	init.Set("headers", headers)
	init.Set("signal", abort.Get("signal"))
	init.Set("cache", "no-store") // live playlists change under the same URL
	resp, err := await(ctx.Done(), abort, js.Global().Call("fetch", req.URL.String(), init))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	buf, err := await(ctx.Done(), abort, resp.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: body: %w", req.URL, err)
	}
	u8 := js.Global().Get("Uint8Array").New(buf)
	body := make([]byte, u8.Get("byteLength").Int())
	js.CopyBytesToGo(body, u8)
	h := http.Header{}
	each := js.FuncOf(func(_ js.Value, a []js.Value) any {
		h.Add(a[1].String(), a[0].String())
		return nil
	})
	resp.Get("headers").Call("forEach", each)
	each.Release()
	return &http.Response{Status: fmt.Sprintf("%d %s", resp.Get("status").Int(), resp.Get("statusText").String()),
		StatusCode: resp.Get("status").Int(), Header: h, Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req}, nil
}

// await waits for a Promise, aborting the fetch if done closes first.
func await(done <-chan struct{}, abort, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- result{v: a[0]}; return nil })
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{err: fmt.Errorf("%s", a[0].Call("toString").String())}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	select {
	case r := <-ch:
		return r.v, r.err
	case <-done:
		abort.Call("abort")
		r := <-ch // the promise settles (rejected) once aborted
		if r.err == nil {
			r.err = fmt.Errorf("aborted")
		}
		return js.Undefined(), r.err
	}
}
