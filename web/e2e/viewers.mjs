// Opens the demo page in N headless Chromium pages for D seconds and prints,
// as JSON, what each page saw: playback progress, hls.js fatal errors, stalls,
// the peer's counters and the SHA-256 of every segment fed to hls.js.
//
//   node web/e2e/viewers.mjs --url http://127.0.0.1:8080/ --pages 2 --seconds 60 --screenshot out.png
//
// Chromium is Debian's (CHROMIUM, else `chromium` on PATH); the flags let it
// offer loopback ICE candidates (docs/ARCHITECTURE.md, "Browser peer").
import { chromium } from "playwright-core";
import { execSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({ options: {
  url: { type: "string" }, pages: { type: "string", default: "2" }, seconds: { type: "string", default: "60" },
  screenshot: { type: "string", default: "" }, stagger: { type: "string", default: "1" },
} });
const exe = process.env.CHROMIUM || execSync("command -v chromium || command -v chromium-browser", { shell: "/bin/sh" }).toString().trim();
const browser = await chromium.launch({ executablePath: exe, headless: true, args: [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection",
] });
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
