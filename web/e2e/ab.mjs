// One arm of the swarm A/B (web/ab_test.go): N headless Chromium pages, all
// playing the same live stream with default player settings, either the
// p2phls demo page (--arm p2phls) or stock p2p-media-loader (--arm p2pml).
// Every 2 s it samples each page's bytes from peers and from the CDN; at the
// end it prints, as JSON, the timeline and each page's playback, stalls,
// fatal errors, bytes and the SHA-256 of every fragment hls.js got.
import { launch } from "./chromium.mjs";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({ options: {
  url: { type: "string" }, arm: { type: "string" }, pages: { type: "string", default: "4" },
  seconds: { type: "string", default: "60" }, stagger: { type: "string", default: "1" },
} });
const browser = await launch();

// read: one page's counters, the same shape for both arms. CDN bytes of the
// p2phls page: its peer's CDN fetches plus what hls.js loaded itself before
// the peer was up.
const read = (arm) => {
  const v = document.getElementById("video");
  if (arm === "p2pml") {
    const s = window.p2pmlState || { fed: [], errors: [] };
    return { currentTime: v.currentTime, p2p: s.p2p || 0, cdn: s.http || 0, uploaded: s.uploaded || 0,
      waiting: s.waiting || 0, stalls: s.stalls || 0, errors: s.errors, fed: s.fed };
  }
  const d = window.p2phlsDemo;
  if (!d || !d.p2p) return { currentTime: v.currentTime, p2p: 0, cdn: 0, uploaded: 0, waiting: 0, stalls: 0, errors: [], fed: [] };
  const t = d.p2p.lastStats ? d.p2p.lastStats.total : {};
  const direct = d.p2p.fed.filter((f) => f.source === "http").reduce((a, f) => a + f.bytes, 0);
  return { currentTime: v.currentTime, p2p: t.bytes_p2p || 0, cdn: (t.bytes_cdn || 0) + direct,
    direct, deadline: t.bytes_cdn_deadline || 0, uploaded: t.bytes_uploaded || 0,
    waiting: d.waiting, stalls: d.p2p.stalls || 0, errors: d.errors, fed: d.p2p.fed };
};

const logs = [];
try {
  const pages = [];
  const t0 = Date.now();
  for (let i = 0; i < Number(o.pages); i++) {
    const ctx = await browser.newContext({ permissions: ["microphone"] });
    const page = await ctx.newPage();
    page.on("pageerror", (e) => logs.push(`page ${i}: uncaught ${e.message}`));
    page.on("console", (m) => { if (m.type() === "warning" || m.type() === "error") logs.push(`page ${i} at ${(Date.now() - t0) / 1000} s: ${m.text()}`); });
    let prof = null;
    if (process.env.AB_PROFILE === String(i)) {
      prof = await ctx.newCDPSession(page);
      await prof.send("Profiler.enable");
      await prof.send("Profiler.setSamplingInterval", { interval: 500 });
      await prof.send("Profiler.start");
      setTimeout(async () => {
        const { profile } = await prof.send("Profiler.stop");
        const self = new Map(), dt = profile.timeDeltas, byId = new Map(profile.nodes.map((n) => [n.id, n]));
        profile.samples.forEach((id, k) => { const n = byId.get(id).callFrame; const key = n.functionName || n.url; self.set(key, (self.get(key) || 0) + (dt[k] || 0)); });
        const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
        logs.push("profile of page " + i + " (ms self): " + top.map(([k, v]) => `${k} ${(v / 1000).toFixed(0)}`).join("; "));
      }, 15000);
    }
    await page.goto(o.url);
    // every stall: when (s since this script started), where the video was,
    // and the last fragment hls.js had been given
    await page.evaluate((t0) => {
      const v = document.getElementById("video");
      window.stallLog = [];
      v.addEventListener("waiting", () => {
        const d = window.p2phlsDemo, fed = d && d.p2p ? d.p2p.fed : (window.p2pmlState || {}).fed || [];
        const last = fed.length ? fed[fed.length - 1].url.replace(/^.*\//, "") : "";
        window.stallLog.push(`${((Date.now() - t0) / 1000).toFixed(1)} s: video at ${v.currentTime.toFixed(1)} s, last fed ${last}`);
      });
    }, t0);
    // the p2phls page's hls.js events, kept for the trace of a page that stalls
    await page.waitForFunction(() => !window.p2phlsDemo || window.p2phlsDemo.hls, null, { timeout: 10000 }).catch(() => {});
    await page.evaluate((t0) => {
      const d = window.p2phlsDemo, v = document.getElementById("video");
      if (!d || !d.hls) return;
      const E = window.Hls.Events, tr = (window.hlsTrace = []);
      const at = () => ((Date.now() - t0) / 1000).toFixed(2);
      const buf = () => (v.buffered.length ? v.buffered.end(v.buffered.length - 1).toFixed(2) : "-");
      const add = (s) => { tr.push(`${at()} ${s} (video ${v.currentTime.toFixed(2)}, buffered to ${buf()})`); if (tr.length > 3000) tr.shift(); };
      d.hls.on(E.LEVEL_LOADED, (_, x) => add(`playlist ${x.details.startSN}-${x.details.endSN}${x.details.updated ? "" : " unchanged"}`));
      d.hls.on(E.FRAG_LOADING, (_, x) => add(`loading ${x.frag.sn}`));
      d.hls.on(E.FRAG_LOADED, (_, x) => add(`loaded ${x.frag.sn}`));
      v.addEventListener("waiting", () => add("waiting"));
      new PerformanceObserver((l) => l.getEntries().forEach((e) => { if (e.duration >= 100) add(`main thread busy ${e.duration.toFixed(0)} ms from ${((performance.timeOrigin + e.startTime - t0) / 1000).toFixed(2)}`); }))
        .observe({ type: "longtask", buffered: true });
      v.addEventListener("playing", () => add("playing"));
    }, t0);
    pages.push(page);
    await page.waitForTimeout(1000 * Number(o.stagger));
  }
  const timeline = [];
  const end = t0 + 1000 * Number(o.seconds);
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 2000));
    let p2p = 0, cdn = 0;
    for (const p of pages) {
      const r = await p.evaluate(read, o.arm);
      p2p += r.p2p; cdn += r.cdn;
    }
    timeline.push({ t: (Date.now() - t0) / 1000, p2p, cdn });
  }
  const out = [], traces = [];
  for (const [i, p] of pages.entries()) {
    out.push(await p.evaluate(read, o.arm));
    const w = await p.evaluate(() => { const d = window.p2phlsDemo; return d && d.p2p && d.p2p.timing; });
    if (w) logs.push(`page ${i} wasm: compiled in ${w.compiled - w.start} ms, Go started in ${w.ran - w.compiled} ms`);
    const stalls = await p.evaluate(() => window.stallLog || []);
    for (const l of stalls) logs.push(`page ${i} waiting at ${l}`);
    if (stalls.length) traces.push({ page: i, events: await p.evaluate((t0) => {
      const w = window.p2phlsDemo && window.p2phlsDemo.p2p && window.p2phlsDemo.p2p.timing;
      const s = (x) => (x ? ((x - t0) / 1000).toFixed(2) : "-");
      return (window.hlsTrace || []).concat(w ? [`wasm: fetch ${s(w.start)}, compiled ${s(w.compiled)}, go.run returned ${s(w.ran)}, peer ready ${s(w.loaded)}`] : []);
    }, t0) });
  }
  console.log(JSON.stringify({ arm: o.arm, pages: out, timeline, logs: logs.slice(-50), traces }));
} finally {
  await browser.close();
}
