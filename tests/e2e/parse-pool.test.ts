/**
 * Issue 13, item 1: the parse pool bounds a file's time and memory, names
 * the limit, and goes on with the next file in a fresh worker.
 */
import { once } from 'node:events';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadParseLimits } from '../../kb/config.ts';
import { parseBytes } from '../../ingest/parse.ts';
import { ParsePool } from '../../ingest/parse-pool.ts';
import { docxBomb, htmlNestedDivs, pdfRepeatedObjects } from '../../bench/hostile-files.ts';

describe('the parse pool bounds time and memory and survives both', () => {
  const pools: ParsePool[] = [];
  afterAll(async () => Promise.all(pools.map((pool) => pool.close())));
  const pool = (env: Record<string, string>) => {
    const created = new ParsePool(loadParseLimits({ KB_PARSE_WORKERS: '1', ...env }));
    pools.push(created);
    return created;
  };
  const good = () => Buffer.from('关于做好2025年高校毕业生就业工作的通知\n\n各区人民政府：\n\n现将有关事项通知如下。\n');

  it('terminates a parse past the time limit, names the limit, then parses the next file', async () => {
    // Depth cap lifted so parse5's quadratic time on 100,000 nested <div>s (minutes) is what the limit meets.
    // The pool's clock is fake (the worker and its IPC are real): on a loaded machine a real 2 s limit also
    // met the next file's parse, and the test failed once. The limit runs out only when the test says so.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const slow = pool({ KB_PARSE_TIMEOUT_S: '2', KB_PARSE_MAX_DEPTH: '1000000' });
      const started = once(slow, 'start');
      const outcome = slow.parse({ bytes: htmlNestedDivs(100_000), file: '慢.html', passageMaxChars: 300, ocr: false });
      outcome.catch(() => undefined);
      const next = slow.parse({ bytes: good(), file: '通知.txt', passageMaxChars: 300, ocr: false });
      expect(await started).toEqual(['慢.html']);
      vi.advanceTimersByTime(1_999);
      expect(slow.pending).toBe(2);
      vi.advanceTimersByTime(1);
      await expect(outcome).rejects.toThrow('慢.html：解析超过 2 秒上限，已中止（KB_PARSE_TIMEOUT_S');
      expect((await next).title).toBe('关于做好2025年高校毕业生就业工作的通知');
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a damaged PDF that redefines one object 3,000 times by its cause, before pdf.js rebuilds it (it hung until the time limit)', async () => {
    const pdf = pdfRepeatedObjects(3000);
    expect(pdf.length).toBeLessThan(256 * 1024);
    await expect(pool({ KB_PARSE_TIMEOUT_S: '60' }).parse({ bytes: pdf, file: '重复.pdf', passageMaxChars: 300, ocr: false }))
      .rejects.toThrow('重复.pdf：PDF 重复定义同一对象，修复交叉引用表需重读超过 64 MB（KB_PARSE_MAX_PDF_RESCAN_MB');
  });

  it('a parse that outgrows the worker heap fails with the memory limit, and the pool goes on', async () => {
    const small = pool({ KB_PARSE_HEAP_MB: '96', KB_PARSE_MAX_INFLATED_MB: '512' });
    await expect(small.parse({ bytes: docxBomb(128), file: '炸弹.docx', passageMaxChars: 300, ocr: false }))
      .rejects.toThrow('炸弹.docx：解析所需内存超过 96 MiB 上限，已中止（KB_PARSE_HEAP_MB');
    expect((await small.parse({ bytes: good(), file: '通知.txt', passageMaxChars: 300, ocr: false })).passages.length).toBeGreaterThan(0);
  });

  it('a worker gives the same document as parsing in this thread', async () => {
    const bytes = good();
    const inWorker = await pool({}).parse({ bytes, file: 'a/通知.txt', displayPath: '通知.txt', passageMaxChars: 300, ocr: false });
    expect(inWorker).toEqual(await parseBytes(bytes, 'a/通知.txt', { passageMaxChars: 300, displayPath: '通知.txt' }));
  });
});
