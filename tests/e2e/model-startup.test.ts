/**
 * `npm start` on a machine without the model: it serves lexical results at
 * once, obtains the model in the background (here from a loopback stand-in
 * for the hub, serving the generated test model), reports progress in
 * /api/health, then embeds the corpus and switches to hybrid. Where no source
 * answers, search carries one short notice and the technical reason is in
 * /api/health only.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModelDir } from '../../bench/random-bert.ts';
import { npmStart } from '../support/npm-start.ts';
import { serveModelMirror } from '../support/model-mirror.ts';
import { hasChromium, launchChromium, type LaunchedBrowser } from '../support/chromium.ts';
import { PROJECT_CORPUS } from '../support/test-server.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-model-startup-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** One sample document is corpus enough, and keeps each start short (the PDFs of corpus/ take most of its indexing time). */
const CORPUS = path.join(tmp, 'corpus');
const DOCUMENT = '青州市普惠性民办幼儿园认定和扶持管理办法-通知.txt';
fs.mkdirSync(CORPUS);
fs.copyFileSync(path.join(PROJECT_CORPUS, DOCUMENT), path.join(CORPUS, DOCUMENT));
/** Each test starts the server in a child process; alone 20–50 s, longer when the whole suite shares two cores. */
const START_TIMEOUT_MS = 300_000;

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url);
  return (await response.json()) as Record<string, unknown>;
}

describe('npm start obtains a missing model in the background', () => {
  it('answers lexically while the model is held back, shows progress, then switches to hybrid once it arrives', async () => {
    const { modelDir: source, modelId } = await makeTinyModelDir();
    // The stand-in hub holds the ONNX file back until the test has seen the lexical phase.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const mirror = await serveModelMirror(source, modelId, released);
    let browser: LaunchedBrowser | undefined;
    const server = await npmStart({
      KB_DATA_DIR: path.join(tmp, 'data'),
      KB_CORPUS_DIR: CORPUS,
      KB_MODEL: modelId,
      KB_MODEL_DIR: path.join(tmp, 'models'),
      KB_MODEL_MIRROR: mirror.url,
      KB_MODEL_SOURCES: 'hub',
      KB_MODEL_DOWNLOAD: '1',
    });
    try {
      const early = await getJson(`${server.url}/api/health`);
      expect(early.mode).toBe('lexical-only');
      expect(early.modelStatus).toMatchObject({ state: 'obtaining', model: modelId });
      const search = await getJson(`${server.url}/api/search?q=${encodeURIComponent('普惠性民办幼儿园认定')}`);
      expect((search.hits as unknown[]).length).toBeGreaterThan(0);
      expect(search.notice).toMatch(/lexical-only/);
      expect(search.notice).toMatch(/准备中/);
      // The page says so in its banner, and keeps asking until the model is there.
      browser = hasChromium ? await launchChromium() : undefined;
      const page = await browser?.context.newPage();
      if (page) {
        await page.goto(server.url);
        await expect.poll(() => page.locator('#banner').textContent(), { timeout: 30_000 }).toContain('语义检索准备中');
      } else {
        console.warn('[skipped] the banner part: Chromium is not installed');
      }

      release();
      await expect.poll(async () => (await getJson(`${server.url}/api/health`)).mode, { timeout: 120_000, interval: 250 }).toBe('hybrid');
      await expect.poll(async () => ((await getJson(`${server.url}/api/health`)).modelStatus as { state: string }).state, { timeout: 120_000, interval: 250 }).toBe('ready');
      const ready = await getJson(`${server.url}/api/health`);
      expect(ready.model).toMatchObject({ id: modelId });
      expect(ready.lexicalOnlyReason).toBeUndefined();
      expect((ready.index as { vectors: number }).vectors).toBe(ready.passages);
      const hybrid = await getJson(`${server.url}/api/search?q=${encodeURIComponent('普惠性民办幼儿园认定')}`);
      expect(hybrid.notice).toBeUndefined();
      expect(server.output()).toMatch(/onnx\/model_quantized\.onnx/);
      expect(server.output()).toMatch(/已切换为混合检索/);
      if (page) await expect.poll(() => page.locator('#banner').isHidden(), { timeout: 30_000 }).toBe(true);
    } finally {
      await browser?.close();
      release();
      await server.stop();
      await mirror.close();
    }
  }, START_TIMEOUT_MS);

  it('stays lexical where no source answers: one short notice in results, the technical reason in /api/health and the log', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const server = await npmStart({
      KB_DATA_DIR: path.join(tmp, 'data-unavailable'),
      KB_CORPUS_DIR: CORPUS,
      KB_MODEL_DIR: path.join(tmp, 'no-models'),
      KB_MODEL_MIRROR: `http://127.0.0.1:${port}/`,
      KB_MODEL_SOURCES: 'hub',
      KB_MODEL_DOWNLOAD: '1',
    });
    try {
      await expect.poll(async () => ((await getJson(`${server.url}/api/health`)).modelStatus as { state: string }).state, { timeout: 60_000, interval: 250 }).toBe('unavailable');
      const health = await getJson(`${server.url}/api/health`);
      expect(health.mode).toBe('lexical-only');
      expect(health.lexicalOnlyReason).toMatch(/ECONNREFUSED/);
      expect(health.lexicalOnlyReason).toMatch(/npm run model -- install/);
      const search = await getJson(`${server.url}/api/search?q=${encodeURIComponent('幼儿园')}`);
      expect(search.notice).toMatch(/lexical-only/);
      expect(search.notice).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      expect(server.output()).toMatch(/LEXICAL-ONLY[^\n]*ECONNREFUSED/);
    } finally {
      await server.stop();
    }
  }, START_TIMEOUT_MS);
});
