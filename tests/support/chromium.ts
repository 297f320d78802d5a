/**
 * Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by
 * playwright-core, with a fresh profile per launch and no network chatter of
 * its own. Screenshots go to tests/.tmp/ for a human to look at.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll } from 'vitest';

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

export interface FileBrowser {
  /** A new page (1280 × 900 unless told), its uncaught script errors appended to `pageErrors`. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  readonly pageErrors: string[];
}

/**
 * One Chromium for the tests of a file (or of the describe it is called in): launched by the first
 * newPage(), so a run that filters those tests out never starts it, and closed after them.
 */
export function browserForFile(): FileBrowser {
  let launched: Promise<LaunchedBrowser> | undefined;
  const pageErrors: string[] = [];
  afterAll(async () => {
    if (launched) await (await launched).close();
  });
  return {
    pageErrors,
    async newPage(viewport = { width: 1280, height: 900 }) {
      launched ??= launchChromium();
      const page = await (await launched).context.newPage();
      await page.setViewportSize(viewport);
      page.on('pageerror', (error) => pageErrors.push(error.message));
      return page;
    },
  };
}
