/**
 * npm run bench [-- --quick] [--corpus DIR] [--passages N | --files N] [--embed-passages N] [--queries N]
 *                 [--out FILE] [--keep] [--verbose] [--ingest-only]
 *
 * --ingest-only: stop after 2. below (ingest with the model against the embedder alone, wall and CPU time).
 * --quick: 300 files, 200 queries, a 200-passage embedding sample, 500 recall
 * queries; about 40 s on an idle 2-core machine, under 3 minutes at load 10.
 * --keep leaves the temporary knowledge bases in place; --verbose shows the
 * knowledge base's own log lines.
 *
 * Measures what PolicyKB costs on this machine, through the product's own
 * code (KnowledgeBase, the batch ingester, retrieval, the Express app):
 *
 *   1. ingest throughput (files/s, passages/s, MB/s), lexical-only, on a
 *      folder (default ../shared/corpus/laws, else corpus/), growing the
 *      knowledge base to about --passages passages (100k; --quick: 300 files);
 *   2. ingest with the embedder on a sample, the embedder alone on the same
 *      passages (the physical limit) and the ratio of the two. The model is
 *      the configured one when it is on disk (KB_MODEL_DIR / KB_MODEL), else
 *      a generated random-weight model of bge-small-zh-v1.5's exact shape,
 *      which measures cost only;
 *   3. the dense side at full scale: real vectors when embedding every
 *      passage fits the time budget, otherwise synthetic clustered vectors
 *      (bench/bench-synthetic.ts) written through the same store and HNSW
 *      code — query encoding still runs the model, so dense latency counts it;
 *   4. kb.search latency p50/p95/p99 in lexical, dense and hybrid modes, and
 *      POST /api/ask through createApp on loopback;
 *   5. HNSW recall@10 against exact inner-product search on 1,000 queries;
 *   6. resident memory of a fresh process that opens the knowledge base, and
 *      bytes on disk per passage (lexical-only and with vectors);
 *   7. the same lexical queries through MiniSearch with the same jieba words,
 *      side by side with our LexicalIndex over the same passages.
 *
 * Prints a table on stdout (progress on stderr) and writes
 * bench-results/bench-<timestamp>.json. A benchmark, not a test: it never
 * fails on speed; it exits non-zero only when it cannot run at all.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import MiniSearch from 'minisearch';
import { loadConfig, type Config } from '../kb/config.ts';
import { loadEmbedder, modelFiles, modelFolder } from '../kb/index/vector/embedder.ts';
import { KnowledgeBase } from '../kb/kb.ts';
import { VECTOR_FILE } from '../kb/index/vector/vector-file.ts';
import { LexicalIndex, PolicyTokenizer } from '../kb/index/lexical/lexical.ts';
import { Store } from '../kb/store/store.ts';
import { splitAnalysed } from '../kb/index/lexical/tokenizer.ts';
import type { Embedder, RetrievalMode } from '../kb/types.ts';
import { hnswParamsOf, VectorIndex } from '../kb/index/vector/hnsw.ts';
import { walkInputs, type SourceFile } from '../ingest/batch.ts';
import { ClusteredVectors, exactTopK, prng, syntheticEmbedder } from './bench-synthetic.ts';
import { childrenCpuSeconds, folderBytes, fmt, fmtBytes, fmtLatency, latencyOf, renderTable, timeEach, type Latency, type TableSection } from './bench-report.ts';
import { BGE_SHAPE_MODEL_ID, makeBgeShapeModel } from './make-model.ts';
import { search as searchKnowledgeBase } from '../search/retrieve.ts';
import { ingestPaths } from '../ingest/ingest.ts';
import { closeParsePool } from '../ingest/parse-pool.ts';
import { passageEmbeddingText } from '../kb/index/vector/passage-text.ts';
import { passageSentenceTexts } from '../kb/index/vector/sentence-vectors.ts';
import { benchEmbedders, formatEmbedderRates, samplePassages } from './bench-embedders.ts';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_CORPUS = path.resolve(PROJECT_ROOT, '..', 'shared', 'corpus');
const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench-results');
const MODEL_CACHE = path.join(RESULTS_DIR, '.model-cache');

interface BenchOptions {
  quick: boolean;
  corpus: string;
  /** Full run: grow the knowledge base until it holds this many passages. */
  targetPassages: number;
  /** Quick run: this many files instead. */
  maxFiles: number;
  embedPassages: number;
  queries: number;
  askQueries: number;
  recallQueries: number;
  /** Embed the whole knowledge base for real only when the measured rate says it takes less than this. */
  realEmbedBudgetSeconds: number;
  /** Time for the alternating embedder-alone / embedded-ingest runs (at least one of each, and a last embedder-alone run). */
  embedBudgetSeconds: number;
  /** Stop after the ingest-against-embedder measurement (2/7) and print it. */
  ingestOnly: boolean;
  out: string;
  keep: boolean;
  verbose: boolean;
}

const FULL = { targetPassages: 100_000, maxFiles: Infinity, embedPassages: 600, queries: 200, askQueries: 100, recallQueries: 1_000, realEmbedBudgetSeconds: 240, embedBudgetSeconds: 90 };
const QUICK = { targetPassages: Infinity, maxFiles: 300, embedPassages: 200, queries: 200, askQueries: 50, recallQueries: 500, realEmbedBudgetSeconds: 20, embedBudgetSeconds: 20 };

/** Used when ../shared/corpus/ncpqa/questions.jsonl is absent: what people ask of policy and law collections. */
const FALLBACK_QUERIES = [
  '灵活就业人员如何参加职工养老保险', '高校毕业生就业补贴怎么申请', '小微企业减免房租的条件', '农民工工资拖欠怎么投诉',
  '失业保险金的领取期限', '残疾人就业保障金征收标准', '个人所得税专项附加扣除有哪些', '城乡居民医疗保险报销比例',
  '住房公积金提取条件', '老旧小区改造资金来源', '新能源汽车购置补贴政策', '中小企业贷款贴息申请材料',
  '劳动合同解除的经济补偿', '工伤认定需要哪些材料', '最低工资标准如何调整', '社会保险费缓缴政策',
  '义务教育阶段学生资助', '养老服务机构建设补贴', '农村宅基地使用权流转', '土地承包经营权的期限',
  '行政复议的申请期限', '政府信息公开申请的答复时限', '环境影响评价的审批程序', '食品生产许可证办理条件',
  '消费者权益保护的惩罚性赔偿', '未成年人保护的家庭责任', '物业服务企业的义务', '建设工程质量保修期限',
  '公司股东的出资义务', '商标侵权的法律责任', '著作权的保护期', '继承顺序和遗产分配',
  '离婚后子女抚养费标准', '交通事故责任认定', '安全生产责任制的要求', '突发公共卫生事件应急预案',
  '疫情期间复工复产的防控要求', '稳岗返还政策的条件', '创业担保贷款额度', '职业技能培训补贴标准',
];

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      corpus: { type: 'string' },
      passages: { type: 'string' },
      files: { type: 'string' },
      'embed-passages': { type: 'string' },
      queries: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'ingest-only': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const base = values.quick ? QUICK : FULL;
  const int = (raw: string | undefined, name: string, fallback: number) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} ${raw}: expected a positive whole number`);
    return value;
  };
  const laws = path.join(SHARED_CORPUS, 'laws');
  const corpus = values.corpus ? path.resolve(values.corpus) : fs.existsSync(laws) ? laws : path.join(PROJECT_ROOT, 'corpus');
  if (!fs.existsSync(corpus) || !fs.statSync(corpus).isDirectory()) throw new Error(`--corpus ${corpus}: no such folder`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    quick: values.quick,
    corpus,
    targetPassages: int(values.passages, 'passages', base.targetPassages),
    maxFiles: int(values.files, 'files', base.maxFiles),
    embedPassages: int(values['embed-passages'], 'embed-passages', base.embedPassages),
    queries: int(values.queries, 'queries', base.queries),
    askQueries: base.askQueries,
    recallQueries: base.recallQueries,
    realEmbedBudgetSeconds: base.realEmbedBudgetSeconds,
    embedBudgetSeconds: base.embedBudgetSeconds,
    ingestOnly: values['ingest-only'],
    out: values.out ? path.resolve(values.out) : path.join(RESULTS_DIR, `bench-${values.quick ? 'quick-' : ''}${stamp}.json`),
    keep: values.keep,
    verbose: values.verbose,
  };
}

/** The same files in a fixed pseudo-random order, so a slice samples every sub-folder (laws are sorted by category). */
function shuffled<T>(items: readonly T[], seed = 42): T[] {
  const out = [...items];
  const random = prng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function loadQueries(count: number): { queries: string[]; source: string } {
  const file = path.join(SHARED_CORPUS, 'ncpqa', 'questions.jsonl');
  const texts: string[] = [];
  let source = 'built-in list of policy/law questions (cycled)';
  if (fs.existsSync(file)) {
    const seen = new Set<string>();
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const question = (JSON.parse(line) as { question?: unknown }).question;
        if (typeof question === 'string' && question.trim() && !seen.has(question)) {
          seen.add(question);
          texts.push(question.trim());
        }
      } catch {
        // a malformed line only shortens the query set
      }
      if (texts.length >= count) break;
    }
    if (texts.length > 0) source = `../shared/corpus/ncpqa/questions.jsonl (first ${texts.length} questions)`;
  }
  const pool = texts.length > 0 ? texts : FALLBACK_QUERIES;
  return { queries: Array.from({ length: count }, (_, i) => pool[i % pool.length]!), source };
}

interface ModelChoice {
  embedder: Embedder;
  label: string;
  randomWeights: boolean;
}

/** The configured model when its files are on disk (never downloads), else the generated bge-shape model. */
async function chooseModel(config: Config, log: (m: string) => void): Promise<ModelChoice> {
  const folder = modelFolder(config);
  const present = modelFiles(config.quantized).every((file) => fs.existsSync(path.join(folder, file)));
  if (present && !config.lexicalOnly) {
    const loaded = await loadEmbedder({ ...config, allowModelDownload: false }, log);
    if (loaded.embedder) return { embedder: loaded.embedder, label: `${config.model} (${config.quantized ? 'q8' : 'fp32'}, from ${folder})`, randomWeights: false };
    progress(`configured model did not load (${loaded.reason.slice(0, 160)}…); using the random-weight bge-shape model`);
  }
  const started = performance.now();
  if (!modelFiles(config.quantized).every((file) => fs.existsSync(path.join(MODEL_CACHE, ...BGE_SHAPE_MODEL_ID.split('/'), file)))) {
    await makeBgeShapeModel(MODEL_CACHE);
    progress(`generated random-weight bge-small-zh-v1.5-shape model in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const loaded = await loadEmbedder({ ...config, modelDir: MODEL_CACHE, model: BGE_SHAPE_MODEL_ID, allowModelDownload: false, lexicalOnly: false }, log);
  if (!loaded.embedder) throw new Error(`the generated bge-shape model did not load: ${loaded.reason}`);
  return {
    embedder: loaded.embedder,
    label: `${BGE_SHAPE_MODEL_ID} (${config.quantized ? 'q8' : 'fp32'}) — RANDOM WEIGHTS: measures cost only`,
    randomWeights: true,
  };
}

interface IngestMeasure {
  files: number;
  passages: number;
  bytes: number;
  seconds: number;
  failed: number;
  filesPerSecond: number;
  passagesPerSecond: number;
  megabytesPerSecond: number;
}

function ingestMeasure(files: number, passages: number, bytes: number, seconds: number, failed: number): IngestMeasure {
  return {
    files,
    passages,
    bytes,
    seconds: Math.round(seconds * 100) / 100,
    failed,
    filesPerSecond: files / seconds,
    passagesPerSecond: passages / seconds,
    megabytesPerSecond: bytes / 1024 / 1024 / seconds,
  };
}

/** Ingest `files` in chunks until the store holds `targetPassages` (or the files run out). */
async function ingestUpTo(kb: KnowledgeBase, root: string, files: SourceFile[], targetPassages: number, chunk: number): Promise<{ measure: IngestMeasure; used: SourceFile[] }> {
  let passages = 0;
  let bytes = 0;
  let failed = 0;
  let seconds = 0;
  const used: SourceFile[] = [];
  for (let at = 0; at < files.length && passages < targetPassages; at += chunk) {
    const slice = files.slice(at, at + chunk);
    for (const file of slice) bytes += fs.statSync(file.absolutePath).size;
    const report = await ingestPaths(kb, 
      slice.map((f) => f.absolutePath),
      { root },
    );
    used.push(...slice);
    passages += report.passages;
    failed += report.failed.length;
    seconds += report.seconds;
    progress(`  ${used.length} files, ${passages.toLocaleString('en-US')} passages, ${seconds.toFixed(1)} s`);
  }
  return { measure: ingestMeasure(used.length, passages, bytes, seconds, failed), used };
}

interface OpenProbe {
  rssBytes: number;
  heapUsedBytes: number;
  openSeconds: number;
  passages: number;
  vectors: number;
}

/** Resident memory of a fresh process that only opens the knowledge base: what a server with this corpus holds. */
function probeOpen(dataDir: string): OpenProbe | { error: string } {
  const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), '--probe-open', dataDir], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as OpenProbe;
  } catch {
    return { error: `probe exited ${child.status}: ${child.stderr.trim().split('\n').slice(-3).join(' ')}` };
  }
}

async function runProbe(dataDir: string): Promise<void> {
  const config = { ...loadConfig(), dataDir };
  const started = performance.now();
  const kb = await KnowledgeBase.open(config, { embedder: null, log: () => {} });
  const openSeconds = (performance.now() - started) / 1000;
  global.gc?.();
  const health = kb.health();
  const usage = process.memoryUsage();
  const probe: OpenProbe = { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, openSeconds, passages: health.passages, vectors: health.index.vectors };
  kb.close();
  process.stdout.write(`${JSON.stringify(probe)}\n`);
}

async function searchLatency(kb: KnowledgeBase, queries: string[], mode: RetrievalMode): Promise<{ latency: Latency; emptyResults: number; reportedMode: string }> {
  // Warm-up: first calls pay for JIT and SQLite page cache, which a running server has long paid.
  for (const text of queries.slice(0, 10)) await searchKnowledgeBase(kb, { text, k: 10, mode });
  let empty = 0;
  let reportedMode: string = mode;
  const latency = await timeEach(queries, async (text) => {
    const result = await searchKnowledgeBase(kb, { text, k: 10, mode });
    if (result.hits.length === 0) empty++;
    reportedMode = result.mode;
  });
  return { latency, emptyResults: empty, reportedMode };
}

async function askLatency(kb: KnowledgeBase, config: Config, queries: string[]): Promise<{ latency: Latency; failures: number } | { error: string }> {
  let createApp: typeof import('../server/app.ts').createApp;
  let listen: typeof import('../server/app.ts').listen;
  try {
    ({ createApp, listen } = await import('../server/app.ts'));
  } catch (error) {
    return { error: `server/app.ts not loadable: ${errorMessage(error)}` };
  }
  const app = createApp(kb, config, { log: () => {} });
  const server = listen(app, 0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/ask`;
  let failures = 0;
  const ask = async (question: string) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) });
    if (!response.ok) failures++;
    await response.arrayBuffer();
  };
  try {
    for (const question of queries.slice(0, 5)) await ask(question);
    failures = 0;
    const latency = await timeEach(queries, ask);
    return { latency, failures };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface RecallMeasure {
  vectors: number;
  queries: number;
  ef: number;
  recallAt10: number;
  hnswLatency: Latency;
  exactLatency: Latency;
  queryDistribution: string;
}

async function hnswRecall(dataDir: string, config: Config, clustered: ClusteredVectors | null, count: number): Promise<RecallMeasure> {
  const store = Store.open(dataDir);
  const rows: Array<{ label: number; vector: Float32Array }> = [];
  try {
    for (const row of store.embeddingRows()) rows.push(row);
  } finally {
    store.close();
  }
  if (rows.length === 0) throw new Error('no stored vectors');
  const dimension = rows[0]!.vector.length;
  const matrix = new Float32Array(rows.length * dimension);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    matrix.set(row.vector, i * dimension);
    labels[i] = row.label;
  });
  rows.length = 0;
  const index = await VectorIndex.load(path.join(dataDir, VECTOR_FILE), dimension, hnswParamsOf(config));
  // Held-out queries from the data's own distribution: a fresh point of a random cluster, or a jittered stored vector.
  const random = prng(2024);
  const queries = Array.from({ length: count }, (_, i) => {
    if (clustered) return clustered.point(0x40000000 + i * 7919);
    const base = Math.floor(random() * labels.length) * dimension;
    const q = new Float32Array(dimension);
    let norm = 0;
    for (let d = 0; d < dimension; d++) {
      q[d] = matrix[base + d]! + (random() - 0.5) * (2 / Math.sqrt(dimension));
      norm += q[d]! * q[d]!;
    }
    for (let d = 0; d < dimension; d++) q[d] = q[d]! / Math.sqrt(norm);
    return q;
  });
  let found = 0;
  let possible = 0;
  const hnswSamples: number[] = [];
  const exactSamples: number[] = [];
  for (const query of queries) {
    let started = performance.now();
    const approx = index.search(query, 10).map((h) => h.label);
    hnswSamples.push(performance.now() - started);
    started = performance.now();
    const exact = exactTopK(matrix, labels, dimension, query, 10);
    exactSamples.push(performance.now() - started);
    const truth = new Set(exact);
    possible += truth.size;
    for (const label of approx) if (truth.has(label)) found++;
  }
  return {
    vectors: labels.length,
    queries: count,
    ef: index.ef,
    recallAt10: found / possible,
    hnswLatency: latencyOf(hnswSamples),
    exactLatency: latencyOf(exactSamples),
    queryDistribution: clustered ? 'held-out points of the synthetic clusters' : 'stored vectors with uniform jitter',
  };
}

interface PeerMeasure {
  passages: number;
  oursBuildSeconds: number;
  peerBuildSeconds: number;
  ours: Latency;
  peer: Latency;
  /** peer p50 ÷ ours p50: how many times slower MiniSearch answers. */
  p50Ratio: number;
  p95Ratio: number;
  peerEmptyResults: number;
}

/** Our LexicalIndex and MiniSearch over the same stored passages and jieba words, queried with the same texts. */
async function lexicalPeer(dataDir: string, queries: string[]): Promise<PeerMeasure> {
  const store = Store.open(dataDir);
  const rows: Array<{ label: number; lexical: string; text: string }> = [];
  try {
    for (const row of store.passageIndexRows()) rows.push({ label: row.label, lexical: row.lexical, text: row.text });
  } finally {
    store.close();
  }
  const tokenizer = new PolicyTokenizer();
  let started = performance.now();
  const ours = new LexicalIndex(tokenizer);
  for (const row of rows) ours.add(row.label, row.lexical, row.text);
  const oursBuildSeconds = (performance.now() - started) / 1000;

  // MiniSearch gets the very jieba words our index stores, pre-split, so neither side pays for segmentation at build time.
  const documents = rows.map((row) => ({ id: row.label, words: splitAnalysed(row.lexical).words }));
  rows.length = 0;
  const peer = new MiniSearch<{ id: number; words: string }>({
    fields: ['words'],
    tokenize: (text) => (text ? text.split(' ') : []),
    processTerm: (term) => term,
    searchOptions: { tokenize: (query) => tokenizer.words(query) },
  });
  started = performance.now();
  peer.addAll(documents);
  const peerBuildSeconds = (performance.now() - started) / 1000;
  documents.length = 0;

  for (const q of queries.slice(0, 10)) {
    ours.search(q, 10);
    peer.search(q);
  }
  const oursLatency = await timeEach(queries, (q) => ours.search(q, 10));
  let peerEmpty = 0;
  const peerLatency = await timeEach(queries, (q) => {
    const top = peer.search(q).slice(0, 10);
    if (top.length === 0) peerEmpty++;
  });
  return {
    passages: ours.size,
    oursBuildSeconds,
    peerBuildSeconds,
    ours: oursLatency,
    peer: peerLatency,
    p50Ratio: peerLatency.p50Ms / oursLatency.p50Ms,
    p95Ratio: peerLatency.p95Ms / oursLatency.p95Ms,
    peerEmptyResults: peerEmpty,
  };
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function run(options: BenchOptions): Promise<void> {
  const benchStarted = performance.now();
  const loadAtStart = os.loadavg();
  const config = loadConfig();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-bench-'));
  const kbLog = options.verbose ? (m: string) => progress(`  kb: ${m}`) : () => {};
  const bigDir = path.join(work, 'kb');
  const sampleDir = path.join(work, 'kb-embedded-sample');
  const cleanup = () => {
    if (!options.keep) fs.rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  try {
    const walk = walkInputs([options.corpus], { root: options.corpus });
    const files = shuffled(walk.files.filter((f) => !f.jsonl)).slice(0, options.maxFiles);
    if (files.length === 0) throw new Error(`${options.corpus}: no supported files`);
    const { queries, source: querySource } = loadQueries(options.queries);
    progress(`${options.quick ? 'QUICK' : 'FULL'} run on ${options.corpus}: ${walk.files.length} files available, working in ${work}`);

    // 1. Lexical-only ingest, growing the big knowledge base.
    progress('1/7 lexical-only ingest');
    const lexicalConfig: Config = { ...config, dataDir: bigDir };
    let kb = await KnowledgeBase.open(lexicalConfig, { embedder: null, log: kbLog });
    const { measure: lexicalIngest, used } = await ingestUpTo(kb, options.corpus, files, options.targetPassages, options.quick ? files.length : 250);
    const passageCount = kb.health().passages;
    const documentIds = used.map((f) => f.id);
    kb.close();
    const lexicalDisk = folderBytes(bigDir);
    const lexicalProbe = probeOpen(bigDir);

    // 2. The embedder alone, ingest with the embedder, the embedder alone again, on the same passages:
    //    bracketing the ingest evens out a machine whose load drifts (other work, thermal limits).
    progress('2/7 model and embedding sample');
    const model = await chooseModel(config, kbLog);
    let sampleFiles: SourceFile[] = [];
    let sampleTexts: string[] = [];
    let samplePassages = 0;
    {
      const summaryKb = await KnowledgeBase.open(lexicalConfig, { embedder: null, log: kbLog });
      // Whole files (ingest works per file), skipping those that would overshoot the sample size by much.
      const target = options.embedPassages;
      let sum = 0;
      let smallest: { file: SourceFile; count: number } | undefined;
      for (const file of used) {
        if (sum >= target * 0.9) break;
        const count = summaryKb.summary(file.id)?.passageCount ?? 0;
        if (count === 0) continue;
        if (!smallest || count < smallest.count) smallest = { file, count };
        if (sum + count > target * 1.2) continue;
        sampleFiles.push(file);
        sum += count;
      }
      if (sampleFiles.length === 0 && smallest) sampleFiles = [smallest.file];
      // The texts ingest embeds (title · headings ⏎ text, and a long document's sentences once each), not the
      // bare passages: the same work for both sides.
      sampleTexts = sampleFiles.flatMap((f) => {
        const doc = summaryKb.getDocument(f.id);
        if (!doc) return [];
        const n = doc.passages.length;
        samplePassages += n;
        return [...new Set(doc.passages.flatMap((p) => [passageEmbeddingText(doc.title, p.headingPath, p.text, n), ...passageSentenceTexts(p.text, n)]))];
      });
      summaryKb.close();
    }
    // CPU seconds as well as wall time: on a shared machine wall time measures the neighbours too.
    const aloneCpu: number[] = [];
    const ingestCpu: Array<{ own: number; workers: number }> = [];
    const embedAlone = async (): Promise<number> => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      await model.embedder.embedPassages(sampleTexts);
      const used = process.cpuUsage(cpu);
      aloneCpu.push((used.user + used.system) / 1e6);
      return (performance.now() - started) / 1000;
    };
    const sampleBytes = sampleFiles.reduce((sum, f) => sum + fs.statSync(f.absolutePath).size, 0);
    // On a shared 2-core machine one run of a few seconds varies by 2x, so the
    // embedder alone and the ingest alternate (alone, ingest, alone, …) while
    // the time budget lasts and the medians are compared.
    const aloneRuns: number[] = [];
    const ingestRuns: Array<{ seconds: number; passages: number; failed: number }> = [];
    const phaseStarted = performance.now();
    progress(`  ${samplePassages} passages (${sampleTexts.length} texts to embed) of ${sampleFiles.length} files: embedder alone and ingest, alternating for up to ${options.embedBudgetSeconds} s`);
    aloneRuns.push(await embedAlone());
    do {
      const roundDir = `${sampleDir}-${ingestRuns.length + 1}`;
      const cpu = process.cpuUsage();
      const childrenBefore = childrenCpuSeconds() ?? 0;
      const sampleKb = await KnowledgeBase.open({ ...config, dataDir: roundDir }, { embedder: model.embedder, log: kbLog });
      const report = await ingestPaths(sampleKb, 
        sampleFiles.map((f) => f.absolutePath),
        { root: options.corpus },
      );
      sampleKb.close();
      // The parse workers' CPU counts once they are reaped; the next round starts a new pool.
      await closeParsePool(config.parse);
      const used = process.cpuUsage(cpu);
      ingestCpu.push({ own: (used.user + used.system) / 1e6, workers: (childrenCpuSeconds() ?? 0) - childrenBefore });
      fs.rmSync(roundDir, { recursive: true, force: true });
      ingestRuns.push({ seconds: report.seconds, passages: report.passages, failed: report.failed.length });
      aloneRuns.push(await embedAlone());
      progress(`  round ${ingestRuns.length}: ingest ${fmt(report.passages / report.seconds)} passages/s, alone ${fmt(samplePassages / aloneRuns[aloneRuns.length - 1]!)} passages/s`);
    } while ((performance.now() - phaseStarted) / 1000 < options.embedBudgetSeconds * 0.6);
    const median = (values: number[]): number => {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    };
    const ingestRates = ingestRuns.map((run) => run.passages / run.seconds);
    const aloneRates = aloneRuns.map((seconds) => samplePassages / seconds);
    const ingestSeconds = median(ingestRuns.map((run) => run.seconds));
    const embeddedIngest = ingestMeasure(sampleFiles.length, ingestRuns[0]!.passages, sampleBytes, ingestSeconds, ingestRuns[0]!.failed);
    const aloneSeconds = median(aloneRuns);
    const embedderAlone = {
      passages: samplePassages,
      texts: sampleTexts.length,
      characters: sampleTexts.reduce((sum, t) => sum + t.length, 0),
      seconds: Math.round(aloneSeconds * 100) / 100,
      passagesPerSecond: samplePassages / aloneSeconds,
      runsPassagesPerSecond: aloneRates,
      ingestRunsPassagesPerSecond: ingestRates,
    };
    // Each ingest against the mean of the embedder-alone runs just before and after it: drift cancels within a round.
    const roundRatios = ingestRates.map((rate, i) => rate / ((aloneRates[i]! + aloneRates[i + 1]!) / 2));
    const endToEndRatio = median(roundRatios);
    // The same ratio in CPU seconds per passage (ingest: this process, embedding included, plus its parse workers).
    const aloneCpuPerPassage = median(aloneCpu) / samplePassages;
    const ingestCpuPerPassage = median(ingestCpu.map((c, i) => (c.own + c.workers) / ingestRuns[i]!.passages));
    const workersCpuPerPassage = median(ingestCpu.map((c, i) => c.workers / ingestRuns[i]!.passages));
    const cpuRatio = aloneCpuPerPassage / ingestCpuPerPassage;
    if (options.ingestOnly) {
      console.log(`model ${model.embedder.modelId} · ${samplePassages} passages (${sampleTexts.length} texts) of ${sampleFiles.length} files · ${ingestCpu.length} rounds · load ${os.loadavg()[0]!.toFixed(1)}`);
      console.log(`wall: ingest ${fmt(embeddedIngest.passagesPerSecond)} passages/s, embedder alone ${fmt(embedderAlone.passagesPerSecond)} passages/s, ratio ${fmt(endToEndRatio, 2)} (rounds ${roundRatios.map((r) => fmt(r, 2)).join(', ')})`);
      console.log(`CPU: embedder alone ${fmt(aloneCpuPerPassage * 1000, 1)} ms per passage, ingest ${fmt(ingestCpuPerPassage * 1000, 1)} ms (parse workers ${fmt(workersCpuPerPassage * 1000, 1)}), ratio ${fmt(cpuRatio, 2)}`);
      return;
    }

    // 3. The dense side of the big knowledge base.
    const projectedSeconds = passageCount / embedderAlone.passagesPerSecond;
    const realVectors = projectedSeconds <= options.realEmbedBudgetSeconds;
    const clustered = realVectors ? null : new ClusteredVectors(model.embedder.dimension, Math.min(2000, Math.max(20, Math.round(passageCount / 100))));
    const denseEmbedder = clustered ? syntheticEmbedder(clustered, model.embedder) : model.embedder;
    const denseLabel = clustered
      ? `SYNTHETIC clustered unit vectors (${clustered.clusters} clusters, ${clustered.dimension}-d; embedding all ${passageCount.toLocaleString('en-US')} passages would take ~${fmt(projectedSeconds / 60, 0)} min here); queries encoded by the model`
      : `vectors from ${model.label}`;
    progress(`3/7 dense side: ${denseLabel}`);
    kb = await KnowledgeBase.open(lexicalConfig, { embedder: denseEmbedder, log: kbLog });
    const denseStarted = performance.now();
    const embedded = await kb.write((writer) => writer.embedMissing());
    const vectorBuildSeconds = (performance.now() - denseStarted) / 1000;

    // 4. Query latency.
    progress(`4/7 query latency: ${queries.length} queries × lexical, dense, hybrid; /api/ask × ${Math.min(options.askQueries, queries.length)}`);
    const search: Record<string, Awaited<ReturnType<typeof searchLatency>>> = {};
    for (const mode of ['lexical', 'dense', 'hybrid'] as const) search[mode] = await searchLatency(kb, queries, mode);
    const ask = await askLatency(kb, { ...config, dataDir: bigDir }, queries.slice(0, options.askQueries));
    const health = kb.health();
    kb.close();
    const denseDisk = folderBytes(bigDir);
    const denseProbe = probeOpen(bigDir);

    // 5. HNSW recall against exact search.
    progress(`5/7 HNSW recall@10 against exact search, ${options.recallQueries} queries over ${embedded.toLocaleString('en-US')} vectors`);
    const recall = await hnswRecall(bigDir, config, clustered, options.recallQueries);

    // 6. In-process peer.
    progress('6/7 MiniSearch peer on the same passages');
    const peer = await lexicalPeer(bigDir, queries);

    progress('7/7 report');
    const totalSeconds = (performance.now() - benchStarted) / 1000;
    const result = {
      kind: options.quick ? 'quick' : 'full',
      startedAt: new Date(Date.now() - totalSeconds * 1000).toISOString(),
      totalSeconds,
      commit: gitCommit(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? '?',
        memoryBytes: os.totalmem(),
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        // Other work on a shared machine slows every number here; the load average says how much there was.
        loadAverageAtStart: loadAtStart,
        loadAverageAtEnd: os.loadavg(),
      },
      corpus: { folder: options.corpus, filesAvailable: walk.files.length, filesUsed: used.length, documents: documentIds.length },
      config: { passageMaxChars: config.passageMaxChars, embedBatchSize: config.embedBatchSize, hnsw: hnswParamsOf(config), quantized: config.quantized },
      queries: { count: queries.length, source: querySource },
      model: { label: model.label, id: model.embedder.modelId, dimension: model.embedder.dimension, randomWeights: model.randomWeights },
      ingest: { lexicalOnly: lexicalIngest, withEmbedder: embeddedIngest, embedderAlone, endToEndOverEmbedderAlone: endToEndRatio, endToEndOverEmbedderAloneByRound: roundRatios,
        cpuSecondsPerPassage: { embedderAlone: aloneCpuPerPassage, ingest: ingestCpuPerPassage, parseWorkers: workersCpuPerPassage, embedderAloneOverIngest: cpuRatio } },
      dense: { label: denseLabel, synthetic: clustered !== null, vectors: embedded, buildSeconds: vectorBuildSeconds, vectorsPerSecond: embedded / vectorBuildSeconds },
      search: { passages: health.passages, vectors: health.index.vectors, ...search },
      ask,
      recall,
      memory: { lexicalOnly: lexicalProbe, withVectors: denseProbe },
      disk: {
        lexicalOnlyBytes: lexicalDisk,
        lexicalOnlyBytesPerPassage: lexicalDisk / passageCount,
        withVectorsBytes: denseDisk,
        withVectorsBytesPerPassage: denseDisk / passageCount,
      },
      peer,
    };
    fs.mkdirSync(path.dirname(options.out), { recursive: true });
    fs.writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);

    const ingestRow = (m: IngestMeasure): string => `${fmt(m.filesPerSecond)} files/s  ${fmt(m.passagesPerSecond, 0)} passages/s  ${fmt(m.megabytesPerSecond, m.megabytesPerSecond < 0.1 ? 3 : 2)} MB/s`;
    const probeRow = (p: OpenProbe | { error: string }): [string, string?] =>
      'error' in p ? ['—', p.error] : [fmtBytes(p.rssBytes), `heap ${fmtBytes(p.heapUsedBytes)}; opened in ${fmt(p.openSeconds)} s (${p.passages.toLocaleString('en-US')} passages, ${p.vectors.toLocaleString('en-US')} vectors)`];
    const sections: TableSection[] = [
      {
        title: `PolicyKB bench (${result.kind}) — ${result.machine.cpus} × ${result.machine.cpuModel}, Node ${process.version}, commit ${result.commit ?? '?'}`,
        rows: [
          ['corpus', options.corpus, `${used.length} of ${walk.files.length} files (fixed pseudo-random order), ${passageCount.toLocaleString('en-US')} passages of ≤${config.passageMaxChars} chars`],
          ['queries', String(queries.length), querySource],
          ['model', model.label],
          ['machine load', `${fmt(loadAtStart[0]!, 1)} → ${fmt(os.loadavg()[0]!, 1)}`, `1-minute load average at start → end on ${result.machine.cpus} cores${
            Math.max(loadAtStart[0]!, os.loadavg()[0]!) > result.machine.cpus
              ? `: above ${result.machine.cpus}, other processes shared the CPU and every number is slower than on an idle machine`
              : ` (above ${result.machine.cpus} would mean other processes shared the CPU)`
          }`],
        ],
      },
      {
        title: 'Ingest throughput',
        rows: [
          ['lexical-only', ingestRow(lexicalIngest), `${lexicalIngest.files} files, ${fmtBytes(lexicalIngest.bytes)}, ${fmt(lexicalIngest.seconds)} s${lexicalIngest.failed ? `, ${lexicalIngest.failed} failed` : ''}`],
          ['with embedder', ingestRow(embeddedIngest), `sample: ${embeddedIngest.files} files, ${embeddedIngest.passages} passages, median of ${ingestRuns.length} runs (${embedderAlone.ingestRunsPassagesPerSecond.map((r) => fmt(r, 0)).join(', ')} passages/s)${model.randomWeights ? '; random weights: cost only' : ''}`],
          ['embedder alone', `${fmt(embedderAlone.passagesPerSecond)} passages/s`, `same ${embedderAlone.passages} passages (${fmt(embedderAlone.characters / embedderAlone.passages, 0)} chars avg), batch ${config.embedBatchSize}: the physical limit here (median of ${aloneRuns.length} runs: ${embedderAlone.runsPassagesPerSecond.map((r) => fmt(r, 0)).join(', ')})`],
          ['end-to-end ÷ embedder alone', fmt(endToEndRatio, 2), `median over ${roundRatios.length} rounds, each ingest against the embedder-alone runs around it (${roundRatios.map((r) => fmt(r, 2)).join(', ')})`],
          ['ingest rate in CPU time', fmt(cpuRatio, 2), `embedder alone ${fmt(aloneCpuPerPassage * 1000, 1)} CPU-ms per passage ÷ ingest ${fmt(ingestCpuPerPassage * 1000, 1)} (parse workers ${fmt(workersCpuPerPassage * 1000, 1)} of it); medians over ${ingestCpu.length} rounds — what a shared machine cannot blur`],
        ],
      },
      {
        title: `Query latency, kb.search k=10, ${health.passages.toLocaleString('en-US')} passages, ${health.index.vectors.toLocaleString('en-US')} vectors`,
        rows: [
          ...(['lexical', 'dense', 'hybrid'] as const).map((mode): [string, string, string?] => {
            const s = search[mode]!;
            return [mode, fmtLatency(s.latency), `mean ${fmt(s.latency.meanMs, 2)} ms${s.reportedMode !== mode ? `; ran as ${s.reportedMode}` : ''}${s.emptyResults ? `; ${s.emptyResults} queries without a hit` : ''}`];
          }),
          ['dense side', clustered ? 'SYNTHETIC vectors' : 'model vectors', `${denseLabel}; built ${embedded.toLocaleString('en-US')} vectors (store + HNSW) in ${fmt(vectorBuildSeconds)} s`],
          'error' in ask
            ? ['POST /api/ask', '—', ask.error]
            : ['POST /api/ask (loopback)', `p50 ${fmt(ask.latency.p50Ms, 2)}  p95 ${fmt(ask.latency.p95Ms, 2)} ms`, `${ask.latency.n} questions, hybrid, k=8${ask.failures ? `; ${ask.failures} non-2xx` : ''}`],
        ],
      },
      {
        title: 'HNSW',
        rows: [
          ['recall@10 vs exact', fmt(recall.recallAt10, 4), `${recall.queries} queries (${recall.queryDistribution}), ${recall.vectors.toLocaleString('en-US')} vectors, ef=${recall.ef}`],
          ['HNSW search alone', fmtLatency(recall.hnswLatency)],
          ['exact search (JS scan)', fmtLatency(recall.exactLatency)],
        ],
      },
      {
        title: 'Memory and disk',
        rows: [
          ['RSS, lexical-only open', ...probeRow(lexicalProbe)],
          ['RSS, with vectors open', ...probeRow(denseProbe)],
          ['disk, lexical-only', `${fmt(lexicalDisk / passageCount, 0)} B/passage`, `${fmtBytes(lexicalDisk)} in the data folder`],
          ['disk, with vectors', `${fmt(denseDisk / passageCount, 0)} B/passage`, `${fmtBytes(denseDisk)} (SQLite vectors + HNSW file)`],
        ],
      },
      {
        title: `Lexical peer: MiniSearch 7 with the same jieba words, ${peer.passages.toLocaleString('en-US')} passages, top 10`,
        rows: [
          ['LexicalIndex (ours)', fmtLatency(peer.ours), `build ${fmt(peer.oursBuildSeconds, 2)} s from stored analysis`],
          ['MiniSearch', fmtLatency(peer.peer), `build ${fmt(peer.peerBuildSeconds, 2)} s from the same words${peer.peerEmptyResults ? `; ${peer.peerEmptyResults} queries without a hit` : ''}`],
          ['MiniSearch ÷ ours', `p50 ×${fmt(peer.p50Ratio, 1)}  p95 ×${fmt(peer.p95Ratio, 1)}`, 'latency ratio (>1: ours is faster)'],
        ],
      },
    ];
    process.stdout.write(`${renderTable(sections)}\n\nbench finished in ${fmt(totalSeconds)} s; results in ${path.relative(process.cwd(), options.out)}\n`);
  } finally {
    cleanup();
  }
}

/** `--embedders`: only the side-by-side embedding rates of the real model (bench/bench-embedders.ts). */
async function runEmbedders(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { embedders: { type: 'boolean' }, 'embed-passages': { type: 'string', default: '64' }, 'server-pid': { type: 'string' } },
    strict: true,
  });
  const config = loadConfig();
  const folder = path.join(SHARED_CORPUS, 'ncpqa', 'docs');
  if (!fs.existsSync(folder)) throw new Error(`${folder} is missing: the embedder bench samples NCPQA passages`);
  const passages = await samplePassages(folder, Number(values['embed-passages']), config.passageMaxChars);
  progress(`embedding ${passages.length} NCPQA passages (mean ${Math.round(passages.reduce((n, p) => n + p.length, 0) / passages.length)} characters) with each embedder …`);
  const rates = await benchEmbedders(config, passages, progress, values['server-pid'] ? Number(values['server-pid']) : undefined);
  process.stdout.write(`embedders, side by side:\n${formatEmbedderRates(rates).join('\n')}\n`);
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const args = process.argv.slice(2);
  try {
    if (args[0] === '--probe-open' && args[1]) await runProbe(args[1]);
    else if (args.includes('--embedders')) await runEmbedders(args);
    else if (args.includes('--load')) await (await import('./load-kb.ts')).runLoadBench(args);
    else await run(parseOptions(args));
  } catch (error) {
    console.error(`bench: ${errorMessage(error)}`);
    process.exitCode = 1;
  }
}
