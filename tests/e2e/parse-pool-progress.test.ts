/**
 * Issue 11, OCR progress: a long scan is OCR'd page by page, and the parse
 * pool's time limit (KB_PARSE_TIMEOUT_S) is for one page without progress,
 * never for the whole file. A stand-in worker reports pages when the test
 * says so, and the pool's clock is fake: ten pages of 100 s each (1,000 s,
 * eight times the 120 s limit) finish; 121 s without a page is killed.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadParseLimits } from '../../kb/config.ts';
import { ParsePool } from '../../ingest/parse-pool.ts';

const PACED_WORKER = fileURLToPath(new URL('../support/paced-parse-worker.mjs', import.meta.url));

describe('the parse pool counts a page of progress as liveness', () => {
  let tmp: string;
  let pool: ParsePool;
  let server: net.Server;
  let socketPath: string;

  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-paced-'));
    socketPath = path.join(tmp, 'pages.sock');
    server = net.createServer();
    server.listen(socketPath);
    await once(server, 'listening');
    // Only the pool's time limit runs on the fake clock; IPC and sockets stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    pool = new ParsePool(loadParseLimits({ KB_PARSE_WORKERS: '1', KB_PARSE_TIMEOUT_S: '120' }), { workerEntry: PACED_WORKER });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await pool.close();
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Start parsing a stand-in scan; resolves with the socket that paces its pages once the worker has begun it. */
  async function startScan(): Promise<{ outcome: Promise<unknown>; pages: net.Socket }> {
    const connected = once(server, 'connection');
    const outcome = pool.parse({ bytes: Buffer.from('%PDF-'), file: socketPath, displayPath: '扫描件.pdf', passageMaxChars: 300, ocr: true });
    outcome.catch(() => undefined);
    const [pages] = (await connected) as [net.Socket];
    return { outcome, pages };
  }

  it('ten OCR\'d pages of 100 s each (1,000 s in all) finish under a 120 s limit', async () => {
    const { outcome, pages } = await startScan();
    for (let page = 1; page <= 10; page++) {
      vi.advanceTimersByTime(100_000);
      const reported = once(pool, 'page');
      pages.write('page\n');
      // A pool that killed the worker instead rejects the outcome: the race fails at once.
      expect(await Promise.race([reported, outcome])).toEqual(['扫描件.pdf']);
    }
    pages.write('done\n');
    expect(await outcome).toEqual({ file: '扫描件.pdf', pages: 'paced' });
  });

  it('one page whose OCR takes 500 s (a loaded machine, the models\' first load) lives on its batches of lines', async () => {
    const { outcome, pages } = await startScan();
    for (let batch = 1; batch <= 5; batch++) {
      vi.advanceTimersByTime(100_000);
      const alive = new Promise((resolve) => pool.once('working', resolve));
      pages.write('work\n');
      await Promise.race([alive, outcome]);
    }
    pages.write('page\ndone\n');
    expect(await outcome).toEqual({ file: '扫描件.pdf', pages: 'paced' });
  });

  it('a page that takes longer than the limit without progress is killed, naming the limit', async () => {
    const { outcome, pages } = await startScan();
    vi.advanceTimersByTime(100_000);
    const reported = once(pool, 'page');
    pages.write('page\n');
    await reported;
    vi.advanceTimersByTime(121_000);
    await expect(outcome).rejects.toThrow('扫描件.pdf：解析超过 120 秒上限，已中止（KB_PARSE_TIMEOUT_S');
  });
});
