/**
 * Every parse of a file runs here, in a pool of worker processes sized to the
 * cores: a hostile or huge file costs a worker, never the server. Each worker
 * has a V8 heap limit (KB_PARSE_HEAP_MB); a parse that runs past
 * KB_PARSE_TIMEOUT_S is killed with its worker, and a fresh worker takes the
 * next file. Without this, a 580 KB DOCX that inflates to 190 MiB of XML
 * killed the server with "heap out of memory", and a 3.7 KB PDF whose page
 * tree repeats its kids stalled every search for minutes.
 *
 * Processes, not worker threads: a worker thread's resourceLimits are
 * best-effort. Measured here (Node 20.20): that DOCX parsed in a worker
 * thread with maxOldGenerationSizeMb 96 aborted the whole process ("FATAL
 * ERROR: Reached heap limit", exit 134) instead of failing the worker — one
 * large string allocation bypasses the limit's soft landing (nodejs/node#47224).
 * A child process dies alone. The cost is about 0.5 s to start one (tsx
 * included) and ~60 MB each while alive.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ParseLimits } from '../kb/config.ts';
import type { ParsedDocument } from '../kb/types.ts';
import { IngestError } from './errors.ts';

export interface ParseRequest {
  bytes: Uint8Array;
  /** The path the bytes came from: routing by extension and messages. */
  file: string;
  /** What the parsed document's `file` will say (a corpus-relative id). */
  displayPath?: string;
  passageMaxChars: number;
  /** OCR scanned pages (Config.ocr); the worker runs the OCR engine. */
  ocr: boolean;
  /** Called after each PDF page. */
  onPage?: () => void;
}

export type ParseRequestMessage = Omit<ParseRequest, 'onPage'> & { limits: ParseLimits };

export type ParseReply =
  /** Sent once, when the worker has loaded its readers. */
  | { ready: true }
  /** Sent after each PDF page: progress, which also restarts the time limit (an OCR'd page takes ~30 s). */
  | { page: true }
  /** Sent while OCR reads a page (models loaded, lines found, a batch read): restarts the time limit, counts no page. */
  | { working: true }
  | { ok: true; parsed: ParsedDocument }
  /** `ingest` failures are the input's fault (an IngestError's reason); the others are bugs. */
  | { ok: false; ingest: boolean; file: string; reason: string };

interface Job {
  request: ParseRequest;
  resolve: (parsed: ParsedDocument) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker?: ChildProcess;
  /** The worker has loaded its readers; a job given before that waits for it. */
  ready: boolean;
  job?: Job;
  /** The end of the worker's stderr, read when it dies: V8 names an out-of-memory death there. */
  stderr: string;
}

/** A busy worker keeps this process alive; an idle one must not keep a CLI alive after its last file. */
function holdOpen(worker: ChildProcess, hold: boolean): void {
  const handles = [worker, worker.channel, worker.stderr as unknown as { ref(): void; unref(): void } | null];
  for (const handle of handles) {
    if (hold) handle?.ref();
    else handle?.unref();
  }
}

const WORKER_ENTRY = fileURLToPath(new URL('./parse-worker.mjs', import.meta.url));

/**
 * Emits 'start' with the file name when a worker begins a file, 'page' when
 * it reports a page done and 'working' when OCR inside a page reports a
 * batch read (tests wait on these instead of a timer).
 * `workerEntry` replaces the parse worker (tests give one whose pages they pace).
 */
export class ParsePool extends EventEmitter {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private closed = false;

  private readonly workerEntry: string;

  constructor(readonly limits: ParseLimits, options: { workerEntry?: string } = {}) {
    super();
    this.workerEntry = options.workerEntry ?? WORKER_ENTRY;
    this.slots = Array.from({ length: limits.workers }, () => ({ stderr: '', ready: false }));
  }

  parse(request: ParseRequest): Promise<ParsedDocument> {
    if (this.closed) return Promise.reject(new Error('parse pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  /** Files waiting plus files being parsed. */
  get pending(): number {
    return this.queue.length + this.slots.filter((slot) => slot.job).length;
  }

  /** Resolves once every worker has exited (and was reaped: its CPU time is then counted as this process's children's). */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('parse pool closed'));
    const exits: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      if (slot.job) this.settle(slot, new Error('parse pool closed'));
      const worker = slot.worker;
      if (worker && worker.exitCode === null && worker.signalCode === null) {
        // An idle worker is unref'd; waiting for its exit must keep this process alive.
        holdOpen(worker, true);
        exits.push(once(worker, 'exit'));
      }
      this.killWorker(slot);
    }
    await Promise.all(exits);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.job) this.start(slot, this.queue.shift()!);
    }
  }

  private start(slot: Slot, job: Job): void {
    const worker = slot.worker ?? this.spawn(slot);
    slot.job = job;
    holdOpen(worker, true);
    if (slot.ready) this.send(slot, worker, job);
  }

  private send(slot: Slot, worker: ChildProcess, job: Job): void {
    this.restartTimer(slot, job);
    const { onPage: _onPage, ...request } = job.request;
    const message: ParseRequestMessage = { ...request, limits: this.limits };
    worker.send(message);
    this.emit('start', job.request.displayPath ?? job.request.file);
  }

  private restartTimer(slot: Slot, job: Job): void {
    clearTimeout(job.timer);
    const file = job.request.displayPath ?? job.request.file;
    job.timer = setTimeout(() => {
      this.killWorker(slot);
      this.settle(slot, new IngestError(file, `解析超过 ${this.limits.timeoutSeconds} 秒上限，已中止（KB_PARSE_TIMEOUT_S; parse time limit）`));
    }, this.limits.timeoutSeconds * 1000);
  }

  private spawn(slot: Slot): ChildProcess {
    const worker = fork(this.workerEntry, [], {
      execArgv: [`--max-old-space-size=${this.limits.heapMb}`],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    slot.worker = worker;
    slot.ready = false;
    slot.stderr = '';
    worker.stderr?.setEncoding('utf8');
    worker.stderr?.on('data', (chunk: string) => {
      slot.stderr = (slot.stderr + chunk).slice(-4096);
    });
    worker.on('message', (reply: ParseReply) => {
      if (slot.worker !== worker) return;
      if ('ready' in reply) {
        slot.ready = true;
        if (slot.job) this.send(slot, worker, slot.job);
        return;
      }
      if (!slot.job) return;
      if ('working' in reply) {
        // On a loaded machine one OCR'd page (the models' first load included) can outlast the limit; its batches are signs of life.
        this.restartTimer(slot, slot.job);
        this.emit('working', slot.job.request.displayPath ?? slot.job.request.file);
        return;
      }
      if ('page' in reply) {
        // Progress is liveness: the time limit is for one page (an OCR'd page takes ~30 s), never for a long scan as a whole.
        this.restartTimer(slot, slot.job);
        slot.job.request.onPage?.();
        this.emit('page', slot.job.request.displayPath ?? slot.job.request.file);
        return;
      }
      if (reply.ok) this.settle(slot, undefined, reply.parsed);
      else this.settle(slot, reply.ingest ? new IngestError(reply.file, reply.reason) : new Error(reply.reason));
    });
    const died = (code: number | null, signal: NodeJS.Signals | null) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      if (!slot.job) return;
      const file = slot.job.request.displayPath ?? slot.job.request.file;
      const outOfMemory = /heap out of memory|Allocation failed/i.test(slot.stderr);
      this.settle(slot, new IngestError(file, outOfMemory
        ? `解析所需内存超过 ${this.limits.heapMb} MiB 上限，已中止（KB_PARSE_HEAP_MB; out of memory）`
        : `解析进程意外退出（parse worker died: ${signal ?? `exit code ${code}`}）`));
    };
    worker.on('exit', died);
    worker.on('error', () => died(null, null));
    return worker;
  }

  private killWorker(slot: Slot): void {
    const worker = slot.worker;
    slot.worker = undefined;
    worker?.kill('SIGKILL');
  }

  private settle(slot: Slot, error: Error | undefined, parsed?: ParsedDocument): void {
    const job = slot.job!;
    slot.job = undefined;
    clearTimeout(job.timer);
    if (slot.worker) holdOpen(slot.worker, false);
    if (error) job.reject(error);
    else job.resolve(parsed!);
    if (!this.closed) this.dispatch();
  }
}

const pools = new Map<string, ParsePool>();

/** Close the process's pool for these limits and wait for its workers to be reaped (their CPU time then counts among this process's children); the next parsePool() starts a new one. */
export async function closeParsePool(limits: ParseLimits): Promise<void> {
  const key = JSON.stringify(limits);
  const pool = pools.get(key);
  pools.delete(key);
  await pool?.close();
}

/** The process's pool for these limits (one in production; tests that change a limit get their own). */
export function parsePool(limits: ParseLimits): ParsePool {
  const key = JSON.stringify(limits);
  let pool = pools.get(key);
  if (!pool) {
    pool = new ParsePool(limits);
    pools.set(key, pool);
  }
  return pool;
}
