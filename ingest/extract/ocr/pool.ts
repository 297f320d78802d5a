/**
 * OCR off the main thread: a small pool of worker threads (ocr/worker.ts),
 * each with its own recogniser, fed one page image at a time. Workers start
 * on the first page that needs them and are unref'd, so a process that
 * never scans anything pays nothing and one that did can still exit.
 *
 * The workers run TypeScript through worker-entry.mjs, which registers tsx.
 */
import { Worker } from 'node:worker_threads';
import type { OcrBox, RasterImage } from './paddle.ts';
import type { OcrRequest, OcrResponse } from './worker.ts';

export type { OcrBox, RasterImage } from './paddle.ts';

/** What the extractors need from OCR: boxes of text, with confidence, for one image. */
export interface OcrEngine {
  /** `onWork` is called while the page is being read (models loaded, lines found, each batch read): liveness, not progress. */
  recognise(image: RasterImage, onWork?: () => void): Promise<OcrBox[]>;
}

interface Pending {
  resolve: (boxes: OcrBox[]) => void;
  reject: (error: Error) => void;
  onWork?: (() => void) | undefined;
}

class OcrWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();

  constructor(onExit: (worker: OcrWorker) => void) {
    this.worker = new Worker(new URL('./worker-entry.mjs', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (response: OcrResponse) => {
      const waiting = this.pending.get(response.id);
      if (!waiting) return;
      if (response.working) {
        waiting.onWork?.();
        return;
      }
      this.pending.delete(response.id);
      if (response.error !== undefined) waiting.reject(new Error(`OCR 失败：${response.error}`));
      else waiting.resolve(response.boxes);
      if (this.pending.size === 0) this.worker.unref();
    });
    const fail = (error: Error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
      onExit(this);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`OCR 进程意外退出（exit ${code}）`)));
  }
}

export class OcrPool implements OcrEngine {
  private readonly workers: OcrWorker[] = [];
  private nextId = 0;
  private turn = 0;

  constructor(private readonly size = 1) {}

  recognise(image: RasterImage, onWork?: () => void): Promise<OcrBox[]> {
    if (this.workers.length < this.size) {
      this.workers.push(new OcrWorker((gone) => {
        const index = this.workers.indexOf(gone);
        if (index >= 0) this.workers.splice(index, 1);
      }));
    }
    const target = this.workers[this.turn++ % this.workers.length]!;
    const id = this.nextId++;
    return new Promise<OcrBox[]>((resolve, reject) => {
      target.pending.set(id, { resolve, reject, onWork });
      target.worker.ref();
      // The pixels are copied, not transferred: the caller may still need them (a page's table lines).
      target.worker.postMessage({ id, image } satisfies OcrRequest);
    });
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

/** OCR for an ingest when the configuration allows it (KB_OCR). */
export function configuredOcr(config: { ocr: boolean }): OcrEngine | undefined {
  return config.ocr ? sharedOcrPool() : undefined;
}

/**
 * The hash a parsed file is stored under. A document whose scanned pages
 * went unread (OCR off, or OCR failed) never matches its file's hash, so the
 * next ingest reads it again — with OCR, once it is on — instead of keeping
 * the incomplete text as "unchanged".
 */
export function storedHashFor(fileHash: string, parsed: { needsOcr: boolean }): string {
  return parsed.needsOcr ? `${fileHash}:needs-ocr` : fileHash;
}

let shared: OcrPool | undefined;
/** The process's OCR pool (one worker: each recogniser holds ~100 MB and the machine's cores are shared). */
export function sharedOcrPool(): OcrPool {
  shared ??= new OcrPool(1);
  return shared;
}
