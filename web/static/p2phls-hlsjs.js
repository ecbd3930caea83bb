// p2phls for hls.js: segments from other viewers over WebRTC, the CDN as the
// safety net. Load hls.js and wasm_exec.js (Go's) first, then:
//
//   const p2p = new P2PHls({ core: { announceTrackers: ["ws://tracker/v1/ws"] } });
//   const hls = new Hls({ ...p2p.hlsConfig() });
//   p2p.bindHls(hls);
//   p2p.addEventListener("onChunkDownloaded", (bytes, source) => ...);
//
// Playback starts from the CDN at once; the wasm peer loads meanwhile and
// takes over. Options and events are named as in p2p-media-loader v2 (the
// mapping is in docs/ARCHITECTURE.md, "Browser peer").
(function (global) {
  "use strict";

  const defaults = {
    wasmUrl: "p2phls.wasm",
    wasmExecUrl: "", // Go's wasm_exec.js, for the worker that compiles the wasm ("": next to wasmUrl)
    announceTrackers: [],
    rtcConfig: { iceServers: [] },
    stripes: 0, // 0: the engine's default
    uploadCap: 0, // bytes/s, 0: 4x the stream
    isP2PUploadDisabled: false, // consume-only (mobile)
    leafPull: false, // a stripe this viewer roots with no child in it comes from neighbours, not the CDN (less CDN, more delay)
    deadlineMs: 0, // the player needs a segment this long after it appears (0: 2 segments, at least 2 s; 1.5s suits 1 s segments); the CDN completes the rest then
    utilization: 0, // share of the upload cap given to children (0: 0.8); higher feeds more peers: more offload, more delay
    pieceSize: 0, // bytes per piece sent to peers (0: 16 KiB from 2 s segments, 4 KiB for 1 s ones); smaller pieces shorten each tree level
    isP2PDisabled: false,
    startAfterBufferMs: 2000, // with bindHls: the peer starts once the player has this much buffered (0: at once); its start takes the page's main thread for a while
    startTimeoutMs: 10000, // ... or this long after bindHls at the latest
    swarmToken: "",
    segmentTimeoutMs: 30000,
    statsIntervalMs: 1000,
    recordHashes: false, // keep the SHA-256 of each segment given to hls.js (tests)
    logLevel: "warn",
  };

  class P2PHls {
    constructor(options) {
      this.cfg = Object.assign({}, defaults, (options && options.core) || options || {});
      this.listeners = {};
      this.ready = null; // Promise of the wasm API, once started
      this.api = null;
      this.live = false; // the peer has its start buffer: hls.js loads through it from then on
      this.short = false; // hls.js's fragments are under 1.5 s
      this.fed = []; // {url, sha256, bytes, source} when recordHashes
      this.totals = { p2p: 0, http: 0, uploaded: 0, peers: 0 };
      if (!this.cfg.isP2PDisabled) this.ready = new Promise((resolve) => { this._go = resolve; }).then(() => this._startWasm());
      // without bindHls (or with no wait asked for) the peer starts at once
      queueMicrotask(() => { if (!this.hls || !(this.cfg.startAfterBufferMs > 0)) this._start(); });
    }

    _start() {
      if (this._go) { this._go(); this._go = null; }
    }

    addEventListener(name, fn) { (this.listeners[name] = this.listeners[name] || []).push(fn); }
    removeEventListener(name, fn) {
      this.listeners[name] = (this.listeners[name] || []).filter((f) => f !== fn);
    }
    _emit(name, ...args) { (this.listeners[name] || []).forEach((f) => { try { f(...args); } catch (e) { console.error(e); } }); }

    async _startWasm() {
      if (typeof Go === "undefined") throw new Error("p2phls: load wasm_exec.js first");
      const go = new Go();
      const loaded = new Promise((resolve) => { global.onP2PHLSReady = resolve; });
      const at = (this.timing = { start: Date.now() });
      const instance = await WebAssembly.instantiate(await compileOffThread(this.cfg.wasmUrl, this.cfg.wasmExecUrl), go.importObject);
      at.compiled = Date.now();
      go.run(instance);
      at.ran = Date.now();
      await loaded;
      at.loaded = Date.now();
      const api = global.p2phls;
      const err = api.configure(JSON.stringify({
        tracker: this.cfg.announceTrackers[0] || "",
        iceServers: (this.cfg.rtcConfig && this.cfg.rtcConfig.iceServers) || [],
        relayOnly: !!(this.cfg.rtcConfig && this.cfg.rtcConfig.iceTransportPolicy === "relay"),
        stripes: this.cfg.stripes, maxUpload: this.cfg.uploadCap,
        consumeOnly: this.cfg.isP2PUploadDisabled, token: this.cfg.swarmToken, logLevel: this.cfg.logLevel,
        leafPull: !!this.cfg.leafPull, deadlineMs: this.cfg.deadlineMs, pieceSize: this.cfg.pieceSize,
        utilization: this.cfg.utilization,
      }));
      if (err) throw new Error(err);
      this.api = api;
      this._timer = setInterval(() => this._pollStats(), this.cfg.statsIntervalMs);
      this._emit("onP2PReady");
      return api;
    }

    _pollStats() {
      let s;
      try { s = JSON.parse(this.api.stats()); } catch (e) { return; }
      const t = s.total, prev = this.totals;
      const cur = { p2p: t.bytes_p2p, http: t.bytes_cdn, uploaded: t.bytes_uploaded, peers: t.peers };
      if (cur.p2p > prev.p2p) this._emit("onChunkDownloaded", cur.p2p - prev.p2p, "p2p");
      if (cur.http > prev.http) this._emit("onChunkDownloaded", cur.http - prev.http, "http");
      if (cur.uploaded > prev.uploaded) this._emit("onChunkUploaded", cur.uploaded - prev.uploaded);
      for (let i = prev.peers; i < cur.peers; i++) this._emit("onPeerConnect");
      for (let i = cur.peers; i < prev.peers; i++) this._emit("onPeerClose");
      this.totals = cur;
      this.lastStats = s;
      this._emit("onStats", s);
    }

    // hlsConfig returns the hls.js options that route playlists and
    // fragments through the peer.
    hlsConfig() {
      const self = this;
      const Base = global.Hls.DefaultConfig.loader;
      class Loader {
        constructor(config) {
          this.config = config;
          this.inner = new Base(config);
          this.stats = this.inner.stats;
          this.context = null;
          this.aborted = false;
        }
        destroy() { this.aborted = true; this.inner.destroy(); }
        abort() { this.aborted = true; this.inner.abort(); }
        getResponseHeader(name) { return this.inner.getResponseHeader ? this.inner.getResponseHeader(name) : null; }
        load(context, config, callbacks) {
          this.context = context;
          const cdn = () => {
            if (this.aborted) return;
            this.inner.load(context, config, self._wrap(context, callbacks, "http"));
            this.stats = this.inner.stats;
          };
          if (!self.api) return cdn();
          const isFrag = context.frag !== undefined && context.frag !== null;
          const isLevel = context.type === "level" || context.type === "audioTrack";
          if (!isFrag && !isLevel) return cdn();
          if (isFrag) self.short = context.frag.duration < 1.5;
          if (!self.live && self.short) {
            // With short segments, until the peer has its start buffer,
            // hls.js does not wait on it: playlists still wake it (in the
            // background), fragments and playlists come from the CDN. Its
            // start takes the main thread for a while, and hls.js at 0.5 s
            // segments has little buffer. (With 2 s ones hls.js's first
            // fragments come through the peer's start, not twice.)
            if (isLevel) self.api.playlist(context.url).then((p) => { if (p !== null && p !== undefined) self.live = true; }, () => {});
            return cdn();
          }
          const started = performance.now();
          const got = isFrag
            ? self.api.segment(context.url, context.rangeStart || 0, context.rangeEnd || 0, self._dueMs(context.frag))
            : self.api.playlist(context.url);
          got.then((data) => {
            if (this.aborted) return;
            if (data === null || data === undefined) return cdn();
            if (isLevel) self.live = true;
            const body = isFrag ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data;
            const n = isFrag ? data.byteLength : data.length;
            const now = performance.now();
            const st = this.stats;
            st.loading = { start: started, first: now, end: now };
            st.loaded = n; st.total = n; st.chunkCount = 1;
            self._wrap(context, callbacks, "p2p").onSuccess({ url: context.url, data: body }, st, context, null);
          }, () => cdn());
        }
      }
      return { loader: Loader };
    }

    // _dueMs: in how many ms the player plays frag (hls.js loads ahead of
    // its turn; the peer times its CDN completions by this), -1 if unknown:
    // not started, paused or seeking.
    _dueMs(frag) {
      const m = this.hls && this.hls.media;
      if (!m || m.paused || m.seeking || m.readyState < 2 || !(frag.start >= 0)) return -1;
      return Math.max(0, (1000 * (frag.start - m.currentTime)) / (m.playbackRate || 1));
    }

    // _wrap passes callbacks through, recording what reaches hls.js.
    _wrap(context, callbacks, source) {
      const self = this;
      return Object.assign({}, callbacks, {
        onSuccess(response, stats, ctx, details) {
          if (context.frag && response.data instanceof ArrayBuffer) {
            self._emit("onSegmentLoaded", { url: context.url, bytesLength: response.data.byteLength, downloadSource: source });
            if (self.cfg.recordHashes && global.crypto && crypto.subtle) {
              const copy = response.data.slice(0);
              crypto.subtle.digest("SHA-256", copy).then((h) => {
                const hex = Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, "0")).join("");
                self.fed.push({ url: context.url, sha256: hex, bytes: copy.byteLength, source });
              });
            }
          }
          callbacks.onSuccess(response, stats, ctx, details);
        },
      });
    }

    // bindHls remembers the player (for destroy) and reports its stalls.
    bindHls(hls) {
      this.hls = hls;
      this.stalls = 0;
      if (this._go && this.cfg.startAfterBufferMs > 0) {
        const t = setTimeout(() => this._start(), this.cfg.startTimeoutMs);
        const check = () => {
          if (!this._go) return hls.off(global.Hls.Events.FRAG_BUFFERED, check);
          if (1000 * bufferedAhead(hls.media) >= this.cfg.startAfterBufferMs) { clearTimeout(t); this._start(); }
        };
        hls.on(global.Hls.Events.FRAG_BUFFERED, check);
      }
      hls.on(global.Hls.Events.ERROR, (_, d) => {
        if (d.details === global.Hls.ErrorDetails.BUFFER_STALLED_ERROR) { this.stalls++; this._emit("onStall", d); }
      });
    }

    destroy() {
      if (this._timer) clearInterval(this._timer);
      if (this.api) this.api.stop();
    }
  }

  // compileOffThread compiles the peer's wasm in a worker, so that the page's
  // main thread (hls.js, the video) is not held for the seconds it takes on a
  // busy machine; where no worker can be made, it compiles here. The worker
  // also runs Go's start once (with wasm_exec.js): V8 compiles a wasm
  // function at its first call, and the compiled code is the module's, so
  // the page's own start then finds it compiled.
  async function compileOffThread(url, execUrl) {
    const base = global.location ? global.location.href : undefined;
    const abs = new URL(url, base).href, exec = new URL(execUrl || "wasm_exec.js", new URL(url, base)).href;
    let blob;
    try {
      const src = `onmessage = async (e) => {
        let m;
        try { m = await WebAssembly.compileStreaming(fetch(e.data.wasm)); } catch (err) { return postMessage(String(err)); }
        try {
          importScripts(e.data.exec);
          const go = new Go();
          go.run(await WebAssembly.instantiate(m, go.importObject));
        } catch (err) { /* compiled, not warmed */ }
        postMessage(m);
      };`;
      blob = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
      const w = new Worker(blob);
      const m = await new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.onerror = () => resolve(null); w.postMessage({ wasm: abs, exec }); });
      w.terminate();
      if (m instanceof WebAssembly.Module) return m;
    } catch (e) { /* no worker here */ } finally {
      if (blob) URL.revokeObjectURL(blob); // the worker has loaded it (or failed to)
    }
    return WebAssembly.compileStreaming(fetch(abs));
  }

  // bufferedAhead: seconds the media element holds from its position on (from
  // the start of its buffer while it has not started).
  function bufferedAhead(media) {
    if (!media || !media.buffered || !media.buffered.length) return 0;
    const b = media.buffered, at = Math.max(media.currentTime, b.start(0));
    for (let i = 0; i < b.length; i++) if (b.start(i) <= at + 0.1 && at < b.end(i)) return b.end(i) - at;
    return 0;
  }

  global.P2PHls = P2PHls;
})(typeof window !== "undefined" ? window : globalThis);
