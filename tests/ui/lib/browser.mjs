// Launches Debian's Chromium headless through playwright-core, with a fresh profile
// (--user-data-dir in a new temp directory, removed on close).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Returns a browser context (Playwright passes the fresh profile as --user-data-dir). */
export async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nsq-ui-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  const close = ctx.close.bind(ctx);
  ctx.close = async () => {
    await close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return ctx;
}

/**
 * A new page; page errors and console errors are collected on page.pageErrors /
 * page.consoleErrors. opts: width, height, colorScheme, refresh (seconds between polls).
 */
export async function newPage(ctx, { width = 1440, height = 900, colorScheme = 'light', refresh } = {}) {
  const page = await ctx.newPage();
  await page.setViewportSize({ width, height });
  await page.emulateMedia({ colorScheme });
  await page.addInitScript(({ r, scheme }) => {
    try {
      localStorage.removeItem('nsqadmin.theme');
      if (r != null) localStorage.setItem('nsqadmin.refresh', String(r));
      else localStorage.removeItem('nsqadmin.refresh');
    } catch { /* about:blank */ }
    void scheme;
  }, { r: refresh ?? null, scheme: colorScheme });
  page.pageErrors = [];
  page.consoleErrors = [];
  page.on('pageerror', (e) => page.pageErrors.push(e));
  page.on('console', (m) => { if (m.type() === 'error') page.consoleErrors.push(m.text()); });
  page.setDefaultTimeout(15000);
  return page;
}
