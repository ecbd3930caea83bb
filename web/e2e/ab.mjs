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
  const out = [];
  for (const [i, p] of pages.entries()) {
    out.push(await p.evaluate(read, o.arm));
    for (const l of await p.evaluate(() => window.stallLog || [])) logs.push(`page ${i} waiting at ${l}`);
  }
  console.log(JSON.stringify({ arm: o.arm, pages: out, timeline, logs: logs.slice(-50) }));
} finally {
  await browser.close();
}
