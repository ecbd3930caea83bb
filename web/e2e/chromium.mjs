// Debian's Chromium, headless, for the browser tests (playwright-core):
// CHROMIUM, else `chromium` on PATH. The flags let pages offer loopback ICE
// candidates and play without a gesture (docs/ARCHITECTURE.md, "Browser peer").
import { chromium } from "playwright-core";
import { execSync } from "node:child_process";

export async function launch() {
  const exe = process.env.CHROMIUM || execSync("command -v chromium || command -v chromium-browser", { shell: "/bin/sh" }).toString().trim();
  return chromium.launch({ executablePath: exe, headless: true, args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection",
  ] });
}
