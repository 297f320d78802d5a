/**
 * Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by
 * playwright-core, with a fresh profile per launch and no network chatter of
 * its own. Screenshots go to tests/.tmp/ for a human to look at.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = path.resolve('tests/.tmp');
export const hasChromium = fs.existsSync(CHROMIUM);

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-chromium-'));
  // launchPersistentContext owns --user-data-dir, so each launch gets its own profile.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    locale: 'zh-CN',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
