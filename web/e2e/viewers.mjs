// Opens the demo page in N headless Chromium pages for D seconds and prints,
// as JSON, what each page saw: playback progress, hls.js fatal errors, stalls,
// the peer's counters and the SHA-256 of every segment fed to hls.js.
//
//   node web/e2e/viewers.mjs --url http://127.0.0.1:8080/ --pages 2 --seconds 60 --screenshot out.png
//
// Chromium: web/e2e/chromium.mjs.
import { launch } from "./chromium.mjs";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({ options: {
  url: { type: "string" }, pages: { type: "string", default: "2" }, seconds: { type: "string", default: "60" },
  screenshot: { type: "string", default: "" }, stagger: { type: "string", default: "1" },
} });
const browser = await launch();
const deadline = Date.now() + 1000 * Number(o.seconds);
const pages = [];
const logs = [];
try {
  for (let i = 0; i < Number(o.pages); i++) {
    const ctx = await browser.newContext({ permissions: ["microphone"] });
    const page = await ctx.newPage();
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") logs.push(`page ${i}: ${m.text()}`); });
    page.on("response", (r) => { if (r.status() >= 400) logs.push(`page ${i}: ${r.status()} ${r.url()}`); });
    page.on("pageerror", (e) => logs.push(`page ${i}: uncaught ${e.message}`));
    await page.goto(o.url);
    pages.push(page);
    await page.waitForTimeout(1000 * Number(o.stagger));
  }
  const first = [];
  for (const p of pages) {
    await p.waitForFunction(() => window.p2phlsDemo && window.p2phlsDemo.playing, null, { timeout: 30000 });
    first.push(await p.evaluate(() => document.getElementById("video").currentTime));
  }
  while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
  if (o.screenshot) await pages[0].screenshot({ path: o.screenshot, fullPage: true });
  const out = [];
  for (const [i, p] of pages.entries()) {
    const r = await p.evaluate(() => {
      const d = window.p2phlsDemo;
      return { currentTime: document.getElementById("video").currentTime, errors: d.errors, waiting: d.waiting,
        stalls: d.p2p.stalls, chartP2P: d.chartP2P, wasm: !!d.p2p.api, stats: d.p2p.lastStats ? d.p2p.lastStats.total : null, fed: d.p2p.fed };
    });
    r.startTime = first[i];
    out.push(r);
  }
  console.log(JSON.stringify({ pages: out, logs: logs.slice(-50) }));
} finally {
  await browser.close();
}
