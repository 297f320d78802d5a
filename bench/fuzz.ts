/**
 * Mutation fuzzing of the readers through the production parse path (the
 * worker pool with its limits): real files from ../shared/corpus and corpus/,
 * mutated byte-wise (flips, cuts, splices, repeats) and, for DOCX, inside
 * their XML (re-zipped, so the reader sees the damage rather than an inflate
 * error). Every outcome must be a parsed document or an IngestError: a bug
 * (any other error), a worker that dies, a parse past the time limit (a hang)
 * or past the heap limit (unbounded memory) is a finding, saved for replay.
 *
 *   nice -n 10 npx tsx bench/fuzz.ts [--minutes 10] [--seed 1] [--out /tmp/policykb-fuzz]
 *
 * Kept out of `npm test`: it runs for minutes by design.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadParseLimits } from '../kb/config.ts';
import { isIngestError } from '../ingest/errors.ts';
import { ZipArchive } from '../ingest/extract/zip.ts';
import { ParsePool } from '../ingest/parse-pool.ts';
import { zipArchive } from './hostile-files.ts';
import { peakRssMb } from './bench-report.ts';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

const minutes = Number(option('minutes', '10'));
let state = Number(option('seed', '1')) >>> 0 || 1;
const out = path.resolve(option('out', path.join(os.tmpdir(), 'policykb-fuzz')));

/** xorshift32: reproducible from --seed. */
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 0x100000000;
}
const below = (n: number) => Math.floor(random() * n);

const SHARED = path.resolve('..', 'shared', 'corpus');
function seedFiles(): string[] {
  const picked: string[] = [];
  const take = (dir: string, pattern: RegExp, count: number) => {
    if (!fs.existsSync(dir)) return;
    const names = fs.readdirSync(dir, { recursive: true }).map(String).filter((n) => pattern.test(n)).sort();
    for (let i = 0; i < Math.min(count, names.length); i++) {
      const file = path.join(dir, names[Math.floor((i * names.length) / Math.min(count, names.length))]!);
      if (fs.statSync(file).size < 3 * 1024 * 1024) picked.push(file);
    }
  };
  take(path.join(SHARED, 'pdf'), /\.pdf$/, 10);
  take(path.join(SHARED, 'generated'), /\.(pdf|docx)$/, 10);
  take(path.join(SHARED, 'policies', 'html'), /\.html$/, 12);
  take(path.join(SHARED, 'policies', 'text'), /\.(txt|md)$/, 6);
  take(path.join(SHARED, 'seed'), /\.txt$/, 1);
  take(path.join(SHARED, 'laws'), /\.md$/, 4);
  take('corpus', /\.(pdf|docx|txt|md)$/, 10);
  take('tests/fixtures', /\.(pdf|docx|html|txt)$/, 10);
  return picked;
}

function mutateBytes(bytes: Buffer): Buffer {
  let data = Buffer.from(bytes);
  const rounds = 1 + below(6);
  for (let r = 0; r < rounds; r++) {
    const at = below(Math.max(1, data.length));
    switch (below(7)) {
      case 0: // flip bits
        for (let i = 0; i < 1 + below(16); i++) {
          const p = below(data.length);
          data[p] = data[p]! ^ (1 << below(8));
        }
        break;
      case 1: // truncate
        data = data.subarray(0, at);
        break;
      case 2: // delete a chunk
        data = Buffer.concat([data.subarray(0, at), data.subarray(at + below(4096))]);
        break;
      case 3: // repeat a chunk many times
        {
          const chunk = data.subarray(at, at + 1 + below(256));
          data = Buffer.concat([data.subarray(0, at), ...Array.from({ length: 1 + below(2000) }, () => chunk), data.subarray(at)]);
        }
        break;
      case 4: // splice a chunk from elsewhere
        {
          const from = below(data.length);
          data = Buffer.concat([data.subarray(0, at), data.subarray(from, from + below(8192)), data.subarray(at)]);
        }
        break;
      case 5: // interesting bytes
        data = Buffer.concat([data.subarray(0, at), Buffer.from([[0x00], [0xff], [0xef, 0xbb, 0xbf], [0x0a], [0x3c], [0x80]][below(6)]!), data.subarray(at)]);
        break;
      default: // overwrite digits (PDF offsets, counts, lengths)
        for (let i = 0; i < 8; i++) {
          const p = below(data.length);
          if (data[p]! >= 0x30 && data[p]! <= 0x39) data[p] = 0x30 + below(10);
        }
    }
    if (data.length === 0) data = Buffer.from(bytes.subarray(0, 1));
  }
  return data;
}

/** A DOCX with its document.xml mutated as text and zipped again. */
function mutateDocx(bytes: Buffer): Buffer {
  const zip = new ZipArchive(bytes);
  const xml = zip.read('word/document.xml');
  if (!xml) return mutateBytes(bytes);
  const parts = ['word/numbering.xml', 'word/styles.xml', 'docProps/core.xml']
    .map((name) => ({ name, data: zip.read(name) }))
    .filter((p): p is { name: string; data: Buffer } => p.data !== undefined);
  return zipArchive([{ name: 'word/document.xml', data: mutateBytes(xml) }, ...parts.map((p) => (random() < 0.3 ? { ...p, data: mutateBytes(p.data) } : p))]);
}

/** The largest resident set (VmHWM, MiB) among this process's live children: the parse workers. */
function workersPeakRssMb(): number {
  let peak = 0;
  try {
    for (const pid of fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      peak = Math.max(peak, peakRssMb(Number(pid)) ?? 0);
    }
  } catch {
    // /proc absent off Linux.
  }
  return peak;
}

interface Findings {
  cases: number;
  parsed: number;
  refused: number;
  bugs: number;
  died: number;
  hangs: number;
  outOfMemory: number;
  reasons: Map<string, number>;
}

async function main(): Promise<number> {
  const seeds = seedFiles();
  if (seeds.length === 0) {
    process.stderr.write('no seed files found (../shared/corpus, corpus/)\n');
    return 1;
  }
  fs.mkdirSync(out, { recursive: true });
  const limits = loadParseLimits({ ...process.env, KB_PARSE_TIMEOUT_S: process.env.KB_PARSE_TIMEOUT_S ?? '60' });
  const pool = new ParsePool(limits);
  const found: Findings = { cases: 0, parsed: 0, refused: 0, bugs: 0, died: 0, hangs: 0, outOfMemory: 0, reasons: new Map() };
  const deadline = Date.now() + minutes * 60_000;
  let peakRss = 0;
  let peakWorkerRss = 0;
  const started = Date.now();
  process.stdout.write(`fuzzing ${seeds.length} seed files for ${minutes} min, ${limits.workers} workers, time limit ${limits.timeoutSeconds} s, heap ${limits.heapMb} MB; findings go to ${out}\n`);

  const runOne = async (): Promise<void> => {
    const seed = seeds[below(seeds.length)]!;
    const original = fs.readFileSync(seed);
    const ext = path.extname(seed).toLowerCase();
    const input = ext === '.docx' && random() < 0.7 ? mutateDocx(original) : mutateBytes(original);
    const name = `case-${found.cases++}${ext}`;
    try {
      await pool.parse({ bytes: input, file: name, passageMaxChars: 300, ocr: false });
      found.parsed++;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const reason = message.replace(/^[^：]*：/, '').replace(/\d+/g, 'N').slice(0, 80);
      found.reasons.set(reason, (found.reasons.get(reason) ?? 0) + 1);
      let kind: 'refused' | 'bugs' | 'died' | 'hangs' | 'outOfMemory' = 'refused';
      if (!isIngestError(error)) kind = 'bugs';
      else if (/KB_PARSE_TIMEOUT_S/.test(message)) kind = 'hangs';
      else if (/KB_PARSE_HEAP_MB/.test(message)) kind = 'outOfMemory';
      else if (/parse worker died/.test(message)) kind = 'died';
      found[kind]++;
      if (kind !== 'refused') {
        fs.writeFileSync(path.join(out, `${kind}-${name}`), input);
        process.stdout.write(`  ${kind}: ${name} from ${path.relative(process.cwd(), seed)}: ${message}\n`);
      }
    }
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakWorkerRss = Math.max(peakWorkerRss, workersPeakRssMb());
  };

  // As many files in flight as there are workers, so the pool stays busy.
  const lanes = Array.from({ length: limits.workers }, async () => {
    while (Date.now() < deadline) await runOne();
  });
  await Promise.all(lanes);
  await pool.close();

  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `\n${found.cases} cases in ${seconds.toFixed(0)} s: parsed ${found.parsed}, refused with a reason ${found.refused}; ` +
      `bugs ${found.bugs}, workers died ${found.died}, hangs ${found.hangs}, out of memory ${found.outOfMemory}; ` +
      `peak RSS of this process ${(peakRss / 1024 / 1024).toFixed(0)} MiB, of a parse worker ${peakWorkerRss.toFixed(0)} MiB (heap limit ${limits.heapMb} MB)\n` +
      `reasons: ${[...found.reasons].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([r, n]) => `${n}× ${r}`).join(' · ')}\n`,
  );
  return found.bugs + found.died + found.hangs + found.outOfMemory === 0 ? 0 : 1;
}

process.exitCode = await main();
