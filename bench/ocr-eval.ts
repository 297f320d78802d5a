/**
 * npm run eval:ocr [-- --pages 5,9,13] [--skip-seed] [--ingest | --ingest-only]
 *
 * OCR quality and cost on this machine, through the product's own code:
 *
 *   1. the scanned seed reply (../shared/corpus/generated/提案答复-扫描件.pdf,
 *      4 image-only pages at 150 dpi) parsed with OCR: character error rate of
 *      its paragraphs against the typeset version's 22 paragraphs
 *      (提案答复-公文版式.paragraphs.json, whitespace removed on both sides),
 *      the seed metadata and the five section headings;
 *   2. the GB/T 15834 scan: CER of each page transcribed by hand in
 *      tests/fixtures/ocr/gbt15834-pages.json against the OCR of that page;
 *   3. OCR pages per second (seconds per page, render + recognise);
 *   4. with --ingest (or --ingest-only), the end-to-end ingest rate of
 *      ../shared/corpus/pdf with OCR on into a temporary knowledge base, with
 *      the configured model when it loads (else lexical-only, said so):
 *      pages/s, documents/s and the CPU seconds of the whole ingest (the
 *      machine is shared, so wall time alone says little).
 *
 * A measurement, not a test: it prints numbers and never fails on them.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../kb/config.ts';
import { stripWhitespace } from '../kb/text/text.ts';
import { ocrPageLines } from '../ingest/extract/ocr/lines.ts';
import { OcrPool } from '../ingest/extract/ocr/pool.ts';
import { renderPdfPages } from '../ingest/extract/pdf.ts';
import { parseFile } from '../ingest/parse.ts';
import { ingestPaths } from '../ingest/ingest.ts';
import { childrenCpuSeconds } from './bench-report.ts';

/** Levenshtein distance between the whitespace-free texts, over the reference's length. */
export function characterErrorRate(recognised: string, reference: string): number {
  const a = [...stripWhitespace(recognised)];
  const b = [...stripWhitespace(reference)];
  if (b.length === 0) return a.length === 0 ? 0 : 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]! / b.length;
}

const SHARED = path.resolve(process.cwd(), '..', 'shared', 'corpus');
const SEED_METADATA = {
  docNumber: '吉人社函〔2024〕126号',
  session: '省政协十三届二次会议',
  proposalNumber: 26,
  proposer: '宫健泽',
  issuer: '吉林省人力资源和社会保障厅',
  date: '2024-07-15',
};

async function seedReply(pool: OcrPool): Promise<void> {
  const reference: string[] = JSON.parse(fs.readFileSync(path.join(SHARED, 'generated', '提案答复-公文版式.paragraphs.json'), 'utf8'));
  const started = performance.now();
  const doc = await parseFile(path.join(SHARED, 'generated', '提案答复-扫描件.pdf'), { passageMaxChars: 300, ocr: pool });
  const seconds = (performance.now() - started) / 1000;
  const cer = characterErrorRate(doc.paragraphs.map((p) => p.text).join(''), reference.join(''));
  const metadata = doc.metadata as Record<string, unknown>;
  const wrong = Object.entries(SEED_METADATA).filter(([key, value]) => metadata[key] !== value).map(([key]) => `${key}=${String(metadata[key])}`);
  const headings = doc.paragraphs.filter((p) => p.role === 'heading').map((p) => p.text);
  const expectedHeadings = reference.filter((text) => /^[一二三四五]、/.test(text)).map(stripWhitespace);
  const headingsExact = expectedHeadings.filter((h) => headings.map(stripWhitespace).includes(h)).length;
  const paragraphsExact = reference.filter((r) => doc.paragraphs.some((p) => stripWhitespace(p.text) === stripWhitespace(r))).length;
  console.log(`seed scan: CER ${(cer * 100).toFixed(2)}% over ${stripWhitespace(reference.join('')).length} characters; ` +
    `metadata ${wrong.length === 0 ? 'exact' : `wrong: ${wrong.join(', ')}`}; headings ${headingsExact}/${expectedHeadings.length} exact; ` +
    `paragraphs ${paragraphsExact}/${reference.length} exact (whitespace aside); ${doc.paragraphs.length} paragraphs; ` +
    `mean confidence ${doc.ocr?.confidence ?? 'n/a'}; ${(seconds / (doc.pageCount ?? 1)).toFixed(1)} s/page`);
}

async function gbt15834(pool: OcrPool, only: number[] | undefined): Promise<void> {
  const fixture = path.resolve('tests', 'fixtures', 'ocr', 'gbt15834-pages.json');
  const transcribed: Record<string, string> = JSON.parse(fs.readFileSync(fixture, 'utf8'));
  const pages = Object.keys(transcribed).map(Number).filter((n) => !only || only.includes(n));
  const pdf = fs.readFileSync(path.join(SHARED, 'pdf', '标点符号用法GBT15834-2011-扫描件.pdf'));
  let errors = 0;
  let characters = 0;
  let seconds = 0;
  for (const page of pages) {
    const started = performance.now();
    const [image] = await renderPdfPages(pdf, [page]);
    const { lines, confidence } = ocrPageLines(await pool.recognise(image!), 200 / 72);
    seconds += (performance.now() - started) / 1000;
    const reference = transcribed[String(page)]!;
    const cer = characterErrorRate(lines.map((line) => line.text).join(''), reference);
    errors += cer * stripWhitespace(reference).length;
    characters += stripWhitespace(reference).length;
    console.log(`GB/T 15834 page ${page}: CER ${(cer * 100).toFixed(2)}% over ${stripWhitespace(reference).length} characters, mean confidence ${confidence?.toFixed(3)}`);
  }
  if (pages.length > 0) {
    console.log(`GB/T 15834 ${pages.length} hand-transcribed pages: CER ${((errors / characters) * 100).toFixed(2)}%; OCR ${(pages.length / seconds).toFixed(3)} pages/s (${(seconds / pages.length).toFixed(1)} s/page, render + recognise)`);
  }
}

/**
 * The ingest measured where the product ingests: this process opens the
 * knowledge base (the embedder's onnxruntime on the main thread) and the
 * files are parsed — OCR included — in the parse pool's worker processes.
 * Run by `--ingest` in a child process of its own, because the OCR
 * measurements above load onnxruntime in a worker thread of the bench's
 * process, and onnxruntime-node's addon is not context-aware: loading it in
 * a second thread of one process fails ("Module did not self-register").
 */
async function ingestPdfFolder(): Promise<void> {
  const { KnowledgeBase } = await import('../kb/kb.ts');
  const { closeParsePool } = await import('../ingest/parse-pool.ts');
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-ocr-ingest-'));
  try {
    const config = loadConfig({ ...process.env, KB_DATA_DIR: data, KB_OCR: '1' });
    const kb = await KnowledgeBase.open(config, { log: (message) => console.error(`  ${message}`) });
    const embeds = kb.embedder !== null && kb.embedder !== undefined;
    const mode = embeds ? `hybrid, ${kb.embedder!.modelId} vectors included` : 'lexical-only (no model: vectors not included)';
    const cpuBefore = process.cpuUsage();
    const childrenBefore = childrenCpuSeconds();
    let pages = 0;
    let lastPages = 0;
    const report = await ingestPaths(kb, [path.join(SHARED, 'pdf')], {
      onProgress: (p) => {
        pages = p.pagesDone;
        if (pages !== lastPages) {
          lastPages = pages;
          console.error(`  ${p.filesDone}/${p.filesTotal} files, ${pages} pages, ${p.elapsedSeconds.toFixed(0)} s${p.currentFile ? ` (${p.currentFile})` : ''}`);
        }
      },
    });
    // The workers must be reaped before their CPU time shows among this process's children.
    await closeParsePool(config.parse);
    const own = process.cpuUsage(cpuBefore);
    const ownSeconds = (own.user + own.system) / 1e6;
    const childrenAfter = childrenCpuSeconds();
    const workerSeconds = childrenBefore !== undefined && childrenAfter !== undefined ? childrenAfter - childrenBefore : undefined;
    // Tables found: heading rows and rows per document (a table's continuation on a later page adds rows, not a heading row).
    const tables = kb.listDocuments({ limit: 1000 }).documents.map((summary) => {
      const paragraphs = kb.getDocument(summary.id)?.paragraphs ?? [];
      return { id: summary.id, headers: paragraphs.filter((p) => p.role === 'table-header').length, rows: paragraphs.filter((p) => p.role === 'table-row').length };
    }).filter((t) => t.headers + t.rows > 0);
    kb.close();
    const size = fs.readdirSync(path.join(SHARED, 'pdf')).reduce((sum, f) => sum + fs.statSync(path.join(SHARED, 'pdf', f)).size, 0);
    const documents = report.added + report.updated;
    console.log(`ingest of pdf/ with OCR (${mode}): ${documents} documents, ${pages} pages, ${report.passages} passages in ${report.seconds.toFixed(1)} s wall — ` +
      `${(pages / report.seconds).toFixed(3)} pages/s, ${(documents / report.seconds).toFixed(3)} documents/s, ${(size / 1024 / 1024 / report.seconds).toFixed(2)} MB/s, ${report.failed.length} failed`);
    if (workerSeconds !== undefined) {
      const cpu = ownSeconds + workerSeconds;
      console.log(`  CPU ${cpu.toFixed(1)} s (this process ${ownSeconds.toFixed(1)} s: store, index${embeds ? ', embedding' : ''}; parse workers ${workerSeconds.toFixed(1)} s: parse, render, OCR) — ` +
        `${(pages / cpu).toFixed(3)} pages per CPU second, ${(cpu / documents).toFixed(1)} CPU s per document`);
    }
    console.log(`  tables: ${tables.length === 0 ? 'none' : tables.map((t) => `${t.id} ${t.headers} heading rows, ${t.rows} rows`).join('; ')}`);
    for (const failure of report.failed) console.log(`  failed: ${failure.error}`);
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
}

/** `--ingest` after the OCR measurements: the same ingest, in a fresh process (see ingestPdfFolder). */
async function ingestInChildProcess(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--ingest-only'], { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the ingest measurement exited with ${code}`);
}

async function main(argv: string[]): Promise<void> {
  if (!fs.existsSync(path.join(SHARED, 'README.md'))) {
    console.log('eval:ocr needs ../shared/corpus beside the checkout; it is not there.');
    return;
  }
  const pagesArg = argv[argv.indexOf('--pages') + 1];
  const only = argv.includes('--pages') && pagesArg ? pagesArg.split(',').map(Number) : undefined;
  if (argv.includes('--ingest-only')) {
    await ingestPdfFolder();
    return;
  }
  const pool = new OcrPool(1);
  try {
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
    if (!argv.includes('--skip-seed')) await seedReply(pool);
    await gbt15834(pool, only);
  } finally {
    await pool.close();
  }
  if (argv.includes('--ingest')) await ingestInChildProcess();
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.dirname ?? '', 'ocr-eval.ts')) {
  await main(process.argv.slice(2));
}
