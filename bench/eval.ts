/**
 * npm run eval -- --corpus DIR [--exclude PATH]… (--questions FILE | --precedents FILE)
 *                 [--mode hybrid|lexical|dense|bigram] [--k 10] [--data DIR] [--json OUT]
 *                 [--jsonl-text F --jsonl-title F --jsonl-id F --jsonl-message F] [--answers]
 *
 * Builds a knowledge base of every supported file under DIR with the batch
 * ingester (the same code as `npm run ingest`), asks every question through
 * `KnowledgeBase.search` (the same retrieval the server runs) and prints
 * Recall@1/5/10, MRR@10, per-kind figures, the questions missed at 10, query
 * latency, and as the very last line exactly
 * `recall@1=0.xxx recall@5=0.xxx recall@10=0.xxx mrr@10=0.xxx n=N mode=MODE`.
 *
 * Questions: `{id, question, answer, file}` (`doc` accepted for `file`, which
 * is relative to DIR or to a folder above it, see corpusDocumentId); a hit is relevant when it comes from that file and
 * holds the answer, both compared with all whitespace removed.
 * Precedents: `{id, query, document}` with a knowledge-base document id; a hit
 * is relevant when it belongs to that document. Documents are ranked by their
 * best passage, so more passages are retrieved than documents are scored.
 *
 * Modes that cannot run: `hybrid` without an embedding model runs lexical and
 * says so loudly (as the product itself does); the closing line then says
 * mode=lexical, so a number is never labelled with a mode that did not
 * produce it. `dense` without a model exits with status 3 and the reason.
 * `bigram` is no product mode: it ranks with the reference scorer of
 * bench/bigram-reference.ts (plain character-bigram BM25 over passage text),
 * the baseline our lexical mode is held against.
 *
 * Reuse: the default data folder is `.eval-data/<hash of corpus, excludes,
 * JSONL fields, passage size>`. After a finished build the command writes a
 * manifest of the corpus files (path, size, mtime); when the next run finds
 * the same manifest it skips the ingest walk entirely and starts answering as
 * soon as the knowledge base is open. A changed, added or removed file sends
 * it through the (idempotent, content-hashed) ingest again. A default folder
 * built with another model is re-embedded with the configured one; a --data
 * folder holding another model's vectors is refused (the message names the
 * `npm run kb -- reembed --data DIR` that switches it).
 *
 * Answers (`--answers`, questions only): each question is also answered the
 * through the same `ask` as `POST /api/ask` (search/ask.ts: the server's
 * default k, question analysis and citation check) and the report adds the share of questions whose answer
 * holds the gold answer (see `goldCoverage` for the rule) and the share
 * answered null.
 *
 * Exit status: 0 after a full evaluation, 1 on bad arguments or input files,
 * 3 when the asked mode cannot run.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, withDataDir, type Config } from '../kb/config.ts';
import { KnowledgeBase } from '../kb/kb.ts';
import type { JsonlFields } from '../kb/types.ts';
import { formatSummaryLine, percentile, summarize, summarizeByKind, type RankedOutcome, type MetricSummary } from './metrics.ts';
import type { RetrievalMode, SearchHit } from '../kb/types.ts';
import { ask, ASK_DEFAULT_K } from '../search/ask.ts';
import { walkInputs } from '../ingest/batch.ts';
import { PARSER_VERSION } from '../ingest/version.ts';
import { failureLine } from '../ingest/errors.ts';
import { stripWhitespace } from '../kb/text/text.ts';
import { questionPlaces, within } from '../kb/places.ts';
import { search as searchKnowledgeBase } from '../search/retrieve.ts';
import { bigramReference } from './bigram-reference.ts';
import { ingestPaths } from '../ingest/ingest.ts';
import { JSONL_OPTIONS, JSONL_USAGE, jsonlFieldsFromOptions } from '../ingest/jsonl.ts';

export const EVAL_MANIFEST = 'eval-manifest.json';
/** Passages retrieved per precedent query: documents are ranked by their best passage, so a document needs room. */
const PRECEDENT_PASSAGES = 100;
/** A gold answer longer than the extractive answer counts when at least this share of its characters is quoted. */
export const GOLD_COVERAGE = 0.5;
/** Shared runs shorter than this are chance (的, 和, 工作) and cover nothing. */
const MIN_SHARED_RUN = 4;

export class EvalError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The product's retrieval modes, and `bigram`: the reference scorer (bench/bigram-reference.ts). */
export type EvalMode = RetrievalMode | 'bigram';

export interface EvalOptions {
  corpus: string;
  exclude: string[];
  questions?: string;
  precedents?: string;
  mode: EvalMode;
  k: number;
  /** Data folder; default `.eval-data/<hash>` under `cwd`. */
  data?: string;
  json?: string;
  jsonl?: JsonlFields;
  /** Also answer every question as `POST /api/ask` does and score the answers. */
  answers?: boolean;
  /**
   * With `answers`: questions the corpus cannot answer (`{id, question}` lines),
   * whose non-null answers are false answers. Default bench/unanswerable.jsonl
   * when it exists; bench/paraphrase.jsonl, when it exists, is answered and
   * scored like the questions.
   */
  unanswerable?: string;
  paraphrase?: string;
  /** Environment configuration (model, passage size …); `dataDir` is replaced by the eval data folder. */
  config?: Config;
  cwd?: string;
}

export interface EvalQuestion {
  id: string;
  text: string;
  kind?: string;
  /** Scoped questions: the place the question is about (济南市); its top hit must not be another place's. */
  place?: string;
  /** Questions: the file relative to the corpus; precedents: the document id. */
  expected: string;
  /** Questions only: the answer, whitespace removed. */
  answer?: string;
}

export interface EvalReport {
  mode: EvalMode;
  dataDir: string;
  reused: boolean;
  secondsToFirstQuestion: number;
  overall: MetricSummary;
  /** The same without counting documents listed in a hit's `alsoIn`. */
  strict: MetricSummary;
  byKind: Record<string, MetricSummary>;
  latencyMs: { p50: number; p95: number; max: number };
  missed: Array<{ id: string; question: string; expected: string }>;
  questions: Array<{ id: string; kind?: string; expected: string; firstRelevantRank: number; top: string[] }>;
  /** With `--answers`. */
  answers?: AnswerQualityReport;
  /** With `--answers` and an unanswerable set. */
  unanswerable?: UnanswerableReport;
  /** With `--answers` and a paraphrase set. */
  paraphrase?: AnswerQualityReport;
  /** Questions that name a place: how many top hits come from another place. */
  scope?: { n: number; wrongPlaceTop1: number; examples: Array<{ id: string; place: string; top: string; topPlace: string }> };
  lastLine: string;
}

export interface AnswerQualityReport {
  n: number;
  /** Share of questions whose extractive answer holds the gold answer. */
  containsGold: number;
  /** Share answered `null`. */
  nullAnswers: number;
  /** Share whose answer quotes at least GOLD_COVERAGE of the gold answer's characters, whatever the lengths (a longer answer is not held against it). */
  coversHalfGold: number;
  /** Share whose top ASK_DEFAULT_K hits hold the gold answer in the expected document: the most an extractive answer can reach. */
  goldRetrieved: number;
  /** Of those, the share whose answer holds it. */
  containsGoldWhenRetrieved: number;
  rule: string;
  perQuestion: Array<{ id: string; answer: string | null; reason?: string; goldShare: number; contains: boolean }>;
}

export interface UnanswerableReport {
  n: number;
  /** Share of the questions that got an answer: each is a false answer. */
  falseAnswers: number;
  perQuestion: Array<{ id: string; question: string; answer: string | null; reason?: string }>;
}

export const GOLD_RULE =
  `an answer holds the gold answer when, whitespace removed on both sides, it contains it; a gold answer longer than the answer counts when >= ${GOLD_COVERAGE * 100}% of its characters lie in runs of >= ${MIN_SHARED_RUN} characters that the answer also contains`;

/**
 * How much of `gold` the answer quotes, 0..1, and whether that counts as
 * holding it (see GOLD_RULE). Both are compared with whitespace removed.
 */
export function goldCoverage(answer: string, gold: string): { share: number; contains: boolean } {
  const a = stripWhitespace(answer);
  const g = stripWhitespace(gold);
  if (!g) return { share: 0, contains: false };
  if (a.includes(g)) return { share: 1, contains: true };
  const covered = new Uint8Array(g.length);
  // Greedy longest runs from each start: a character is covered when some run through it of
  // MIN_SHARED_RUN or more characters occurs in the answer.
  for (let i = 0; i + MIN_SHARED_RUN <= g.length; i++) {
    let len = MIN_SHARED_RUN;
    if (!a.includes(g.slice(i, i + len))) continue;
    while (i + len < g.length && a.includes(g.slice(i, i + len + 1))) len++;
    covered.fill(1, i, i + len);
  }
  const share = covered.reduce((sum, c) => sum + c, 0) / g.length;
  return { share, contains: g.length > a.length && share >= GOLD_COVERAGE };
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/').replace(/^\.\//, '');
}

/**
 * A question's `file` is relative to the folder its question set was written
 * for (../shared/corpus: `ncpqa/docs/….txt`), while document ids are relative
 * to --corpus. Evaluating on a sub-folder (`--corpus …/ncpqa`) would then
 * miss every question, so the file is looked up under the corpus and then
 * under each folder above it, and named relative to the corpus. A file found
 * nowhere (or outside the corpus, or a JSONL record id) is left as written.
 */
export function corpusDocumentId(expected: string, corpus: string): string {
  for (let base = corpus; ; base = path.dirname(base)) {
    const candidate = path.resolve(base, expected);
    if (fs.existsSync(candidate)) {
      const relative = path.relative(corpus, candidate);
      return relative.startsWith('..') || path.isAbsolute(relative) ? expected : toPosix(relative);
    }
    if (path.dirname(base) === base) return expected;
  }
}

/** Reads question or precedent lines; a bad line is an error naming file and line. */
export function readQuestions(file: string, kind: 'questions' | 'precedents'): EvalQuestion[] {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new EvalError(`无法读取 ${file}：${(error as Error).message}`);
  }
  const out: EvalQuestion[] = [];
  const lines = content.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const where = `${file}:${index + 1}`;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new EvalError(`${where}：不是合法的 JSON 行 (not a JSON line)`);
    }
    const str = (name: string): string | undefined => {
      const value = record[name];
      return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
    };
    const id = str('id') ?? String(index + 1);
    const kindField = str('kind');
    if (kind === 'questions') {
      const text = str('question');
      const answer = str('answer');
      const expected = str('file') ?? str('doc');
      if (!text || !answer || !expected) {
        throw new EvalError(`${where}：问题行需要 question、answer 和 file（或 doc）字段 (a question line needs question, answer and file)`);
      }
      const place = str('place');
      out.push({ id, text, expected: toPosix(expected), answer: stripWhitespace(answer), ...(kindField ? { kind: kindField } : {}), ...(place ? { place } : {}) });
    } else {
      const text = str('query');
      const expected = str('document');
      if (!text || !expected) throw new EvalError(`${where}：先例行需要 query 和 document 字段 (a precedent line needs query and document)`);
      out.push({ id, text, expected, ...(kindField ? { kind: kindField } : {}) });
    }
  });
  if (out.length === 0) throw new EvalError(`${file}：没有问题 (no questions in the file)`);
  return out;
}

/** The default data folder: one per corpus build recipe, so two corpora never share a store. */
export function defaultDataDir(options: EvalOptions, config: Config, cwd: string): string {
  const recipe = JSON.stringify({
    corpus: path.resolve(cwd, options.corpus),
    exclude: [...options.exclude].sort(),
    jsonl: options.jsonl ?? null,
    passageMaxChars: config.passageMaxChars,
  });
  return path.join(cwd, '.eval-data', createHash('sha256').update(recipe).digest('hex').slice(0, 12));
}

/** path, size and mtime of every file the ingest would read: equal manifests mean nothing to re-read. */
function corpusManifest(corpus: string, exclude: string[], dataDir: string, options: EvalOptions, config: Config): string {
  const walk = walkInputs([corpus], { root: corpus, exclude, skipDir: dataDir });
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ jsonl: options.jsonl ?? null, passageMaxChars: config.passageMaxChars, parser: PARSER_VERSION }));
  for (const file of walk.files) {
    const stat = fs.statSync(file.absolutePath);
    hash.update(`${file.id}\t${stat.size}\t${stat.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function readManifest(dataDir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dataDir, EVAL_MANIFEST), 'utf8')) as { corpus?: string }).corpus;
  } catch {
    return undefined;
  }
}

/**
 * Retrieval collapses near-identical passages (a notice republished by
 * several offices) into one hit that lists the other documents in `alsoIn`;
 * finding the text in one copy finds it in all, so the listed documents count.
 */
function fromDocument(hit: SearchHit, documentId: string): boolean {
  return hit.citation.documentId === documentId || (hit.alsoIn?.includes(documentId) ?? false);
}

function isRelevant(hit: SearchHit, question: EvalQuestion, strict = false): boolean {
  const documentMatches = strict ? hit.citation.documentId === question.expected : fromDocument(hit, question.expected);
  return documentMatches && stripWhitespace(hit.text).includes(question.answer ?? '');
}

/** Documents in the order of their best passage (a collapsed duplicate's other documents rank with it). */
function rankDocuments(hits: SearchHit[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const hit of hits) {
    for (const id of [hit.citation.documentId, ...(hit.alsoIn ?? [])]) {
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(id);
    }
  }
  return out;
}

type AnswerRow = AnswerQualityReport['perQuestion'][number] & { retrieved: boolean };

/** One question answered as `POST /api/ask` answers it (same k, same analysis, same citation check), scored against its gold answer. */
async function answerAsAsked(kb: KnowledgeBase, question: EvalQuestion, mode: RetrievalMode): Promise<AnswerRow> {
  const { answer: answered, retrieval: { hits } } = await ask(kb, { question: question.text, mode });
  const text = answered.answer ? answered.answer.sentences.map((s) => s.text).join('') : null;
  const gold = text === null ? { share: 0, contains: false } : goldCoverage(text, question.answer ?? '');
  const retrieved = hits.some((hit) => isRelevant(hit, question));
  return { id: question.id, answer: text, ...(answered.reason ? { reason: answered.reason } : {}), goldShare: gold.share, contains: gold.contains, retrieved };
}

function answerQuality(rows: AnswerRow[]): AnswerQualityReport {
  const n = Math.max(rows.length, 1);
  const retrieved = rows.filter((r) => r.retrieved);
  return {
    n: rows.length,
    containsGold: rows.filter((r) => r.contains).length / n,
    nullAnswers: rows.filter((r) => r.answer === null).length / n,
    coversHalfGold: rows.filter((r) => r.goldShare >= GOLD_COVERAGE).length / n,
    goldRetrieved: retrieved.length / n,
    containsGoldWhenRetrieved: retrieved.length > 0 ? retrieved.filter((r) => r.contains).length / retrieved.length : 0,
    rule: GOLD_RULE,
    perQuestion: rows.map(({ retrieved: _, ...row }) => row),
  };
}

/** `{id, question}` lines of questions the corpus cannot answer. */
export function readUnanswerable(file: string): Array<{ id: string; question: string }> {
  const out: Array<{ id: string; question: string }> = [];
  fs.readFileSync(file, 'utf8').split(/\r?\n/).forEach((line, index) => {
    if (!line.trim()) return;
    let record: { id?: unknown; question?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      throw new EvalError(`${file}:${index + 1}：不是合法的 JSON 行 (not a JSON line)`);
    }
    if (typeof record.question !== 'string') throw new EvalError(`${file}:${index + 1}：需要 question 字段 (a line needs question)`);
    out.push({ id: typeof record.id === 'string' ? record.id : String(index + 1), question: record.question });
  });
  return out;
}

async function askUnanswerable(kb: KnowledgeBase, questions: Array<{ id: string; question: string }>, mode: RetrievalMode): Promise<UnanswerableReport> {
  const perQuestion: UnanswerableReport['perQuestion'] = [];
  for (const q of questions) {
    const { answer: answered } = await ask(kb, { question: q.question, mode });
    const answer = answered.answer ? answered.answer.sentences.map((s) => s.text).join('') : null;
    perQuestion.push({ id: q.id, question: q.question, answer, ...(answered.reason ? { reason: answered.reason } : {}) });
  }
  return { n: questions.length, falseAnswers: perQuestion.filter((r) => r.answer !== null).length / Math.max(questions.length, 1), perQuestion };
}

/** How many passages a question asks for: precedents rank documents by their best passage, so they need room. */
export function searchK(kind: 'questions' | 'precedents', k: number): number {
  return kind === 'precedents' ? Math.max(PRECEDENT_PASSAGES, k) : k;
}

/** Which of the top k results are relevant (questions: passages; precedents: documents), also counting strictly. */
export function judgeHits(
  kind: 'questions' | 'precedents',
  question: EvalQuestion,
  hits: SearchHit[],
  k: number,
): { relevance: boolean[]; strictRelevance: boolean[]; top: string[] } {
  if (kind === 'questions') {
    return {
      relevance: hits.map((hit) => isRelevant(hit, question)),
      strictRelevance: hits.map((hit) => isRelevant(hit, question, true)),
      top: hits.map((hit) => hit.citation.documentId),
    };
  }
  const top = rankDocuments(hits).slice(0, k);
  return {
    relevance: top.map((id) => id === question.expected),
    strictRelevance: rankDocuments(hits.map((hit) => ({ ...hit, alsoIn: [] })))
      .slice(0, k)
      .map((id) => id === question.expected),
    top,
  };
}

/** Runs the evaluation; `print` receives stdout lines, `progress` stderr lines. */
export async function runEval(
  options: EvalOptions,
  print: (line: string) => void = (line) => console.log(line),
  progress: (line: string) => void = (line) => console.error(line),
): Promise<EvalReport> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const corpus = path.resolve(cwd, options.corpus);
  if (!fs.existsSync(corpus) || !fs.statSync(corpus).isDirectory()) throw new EvalError(`--corpus ${options.corpus}：不是目录 (not a folder)`);
  const questionFile = options.questions ?? options.precedents;
  if (!questionFile || (options.questions && options.precedents)) {
    throw new EvalError('需要 --questions FILE 或 --precedents FILE 之一 (exactly one of --questions or --precedents)');
  }
  const kind = options.questions ? 'questions' : 'precedents';
  const questions = readQuestions(path.resolve(cwd, questionFile), kind).map((q) =>
    kind === 'questions' ? { ...q, expected: corpusDocumentId(q.expected, corpus) } : q,
  );
  const baseConfig = options.config ?? loadConfig(process.env, cwd);
  const dataDir = options.data ? path.resolve(cwd, options.data) : defaultDataDir(options, baseConfig, cwd);
  const config = withDataDir(baseConfig, dataDir, cwd);
  fs.mkdirSync(dataDir, { recursive: true });

  const reference = options.mode === 'bigram';
  const lexicalAsked = options.mode === 'lexical' || reference;
  // The default folder is this command's own cache: built with another model, it is re-embedded
  // with the configured one. A folder given with --data may be someone's store and is refused.
  const kb = await KnowledgeBase.open(
    config,
    lexicalAsked ? { embedder: null, lexicalOnlyReason: `eval --mode ${options.mode}`, log: progress } : { log: progress, allowModelChange: !options.data },
  );
  try {
    let mode: RetrievalMode = reference ? 'lexical' : (options.mode as RetrievalMode);
    if (!kb.embedder && mode !== 'lexical') {
      const reason = kb.lexicalOnlyReason ?? 'no embedding model';
      if (mode === 'dense') throw new EvalError(`--mode dense 无法运行：没有可用的嵌入模型。${reason}`, 3);
      print(`!!! NOTICE: --mode ${mode} cannot run here: ${reason}`);
      print('!!! Evaluating LEXICAL retrieval instead; the closing line says mode=lexical.');
      mode = 'lexical';
    }

    const manifest = corpusManifest(corpus, options.exclude, dataDir, options, config);
    const health = kb.health();
    const vectorsComplete = !kb.embedder || health.index.vectors >= health.passages;
    const reused = readManifest(dataDir) === manifest && health.passages > 0 && vectorsComplete;
    if (reused) {
      progress(`eval: corpus unchanged since the last build; reusing ${dataDir} (${health.documents} documents, ${health.passages} passages)`);
    } else {
      progress(`eval: building the knowledge base of ${corpus} in ${dataDir} …`);
      let lastLine = 0;
      const report = await ingestPaths(kb, [corpus], {
        root: corpus,
        exclude: options.exclude,
        ...(options.jsonl ? { jsonl: options.jsonl } : {}),
        onProgress: (p) => {
          const now = Date.now();
          if (now - lastLine < 5000 && p.filesDone !== p.filesTotal) return;
          lastLine = now;
          progress(`eval: ${p.filesDone}/${p.filesTotal} files, ${p.passages} passages, ${p.elapsedSeconds.toFixed(0)} s`);
        },
      });
      progress(
        `eval: ingest done: ${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged, ${report.removed} removed, ${report.failed.length} failed, ${report.passages} passages, ${report.seconds.toFixed(1)} s`,
      );
      for (const failure of report.failed.slice(0, 20)) progress(`eval: failed ${failureLine(failure.file, failure.error)}`);
      // A build where files failed (a missing module, an embedding server that went away) is not a
      // finished build: without a manifest the next run walks the corpus again and retries them.
      if (report.failed.length === 0) fs.writeFileSync(path.join(dataDir, EVAL_MANIFEST), JSON.stringify({ corpus: manifest, writtenAt: new Date().toISOString() }));
      else progress(`eval: ${report.failed.length} files failed, so the build is not recorded as finished: the next run retries them`);
    }

    const after = kb.health();
    const secondsToFirstQuestion = (performance.now() - started) / 1000;
    print(`corpus: ${corpus} (${after.documents} documents, ${after.passages} passages) · data: ${dataDir}${reused ? ' (reused)' : ''}`);
    const label: EvalMode = reference ? 'bigram' : mode;
    const shownMode = reference ? 'bigram (REFERENCE: plain character-bigram BM25 over passage text, not a product mode)' : mode;
    print(`${questions.length} ${kind} from ${questionFile} · mode=${shownMode} · first question after ${secondsToFirstQuestion.toFixed(1)} s`);

    if (options.answers && kind !== 'questions') throw new EvalError('--answers 只用于 --questions (--answers needs --questions)');
    if (options.answers && reference) throw new EvalError('--answers 只用于产品检索模式 (--answers needs a product mode, not --mode bigram)');
    const searched = reference ? bigramReference(kb) : kb;
    const answering = Boolean(options.answers);
    const answerRows: AnswerRow[] = [];
    const scoped: NonNullable<EvalReport['scope']> = { n: 0, wrongPlaceTop1: 0, examples: [] };

    const outcomes: RankedOutcome[] = [];
    const strictOutcomes: RankedOutcome[] = [];
    const perQuestion: EvalReport['questions'] = [];
    const latencies: number[] = [];
    const k = Math.max(1, options.k);
    for (const question of questions) {
      const t0 = performance.now();
      // A precedent query is a citizen's message: searched as the precedent finder does, messages included.
      const result = await searchKnowledgeBase(searched, { text: question.text, k: searchK(kind, k), mode, withMessages: kind === 'precedents' });
      latencies.push(performance.now() - t0);
      const { relevance, strictRelevance, top } = judgeHits(kind, question, result.hits, k);
      strictOutcomes.push({ id: question.id, relevance: strictRelevance });
      outcomes.push({ id: question.id, relevance, ...(question.kind ? { kind: question.kind } : {}) });
      const firstRelevantRank = relevance.indexOf(true) + 1;
      perQuestion.push({ id: question.id, expected: question.expected, firstRelevantRank, top, ...(question.kind ? { kind: question.kind } : {}) });
      if (question.place && result.hits[0]) {
        const topId = result.hits[0].citation.documentId;
        const topPlace = kb.summary(topId)?.metadata.place;
        const asked = questionPlaces(question.place)[0];
        scoped.n++;
        if (topPlace && asked && topPlace.level > 0 && !within(topPlace, asked) && !within(asked, topPlace)) {
          scoped.wrongPlaceTop1++;
          scoped.examples.push({ id: question.id, place: question.place, top: topId, topPlace: topPlace.name });
        }
      }
      if (answering) answerRows.push(await answerAsAsked(kb, question, mode));
    }
    const answers = answering ? answerQuality(answerRows) : undefined;
    let unanswerable: UnanswerableReport | undefined;
    let paraphrase: AnswerQualityReport | undefined;
    if (answering) {
      const unanswerableFile = options.unanswerable ?? path.join(cwd, 'bench', 'unanswerable.jsonl');
      if (fs.existsSync(unanswerableFile)) unanswerable = await askUnanswerable(kb, readUnanswerable(unanswerableFile), mode);
      const paraphraseFile = options.paraphrase ?? path.join(cwd, 'bench', 'paraphrase.jsonl');
      if (fs.existsSync(paraphraseFile)) {
        const rows: AnswerRow[] = [];
        for (const question of readQuestions(paraphraseFile, 'questions')) {
          rows.push(await answerAsAsked(kb, { ...question, expected: corpusDocumentId(question.expected, corpus) }, mode));
        }
        paraphrase = answerQuality(rows);
      }
    }

    const overall = summarize(outcomes);
    const strict = summarize(strictOutcomes);
    const byKind = Object.fromEntries(summarizeByKind(outcomes));
    const latencyMs = { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: percentile(latencies, 100) };
    const missed = perQuestion
      .filter((q) => q.firstRelevantRank === 0 || q.firstRelevantRank > 10)
      .map((q) => ({ id: q.id, question: questions.find((x) => x.id === q.id)?.text ?? '', expected: q.expected }));

    const fmt = (s: MetricSummary) =>
      `n=${s.n}  R@1 ${s.recall[1]!.toFixed(3)}  R@5 ${s.recall[5]!.toFixed(3)}  R@10 ${s.recall[10]!.toFixed(3)}  MRR@10 ${s.mrr.toFixed(3)}`;
    if (k < 10) print(`note: --k ${k} retrieves fewer than 10 hits, so Recall@10 and MRR@10 only see the top ${k}`);
    print('');
    print(`missed at 10 (${missed.length}):`);
    for (const m of missed) print(`  ${m.id}  ${m.question}  → ${m.expected}`);
    print('');
    if (Object.keys(byKind).length > 0) {
      print('per kind:');
      for (const [name, summary] of Object.entries(byKind)) print(`  ${name.padEnd(20)} ${fmt(summary)}`);
    }
    print(`overall: ${fmt(overall)}`);
    print(`  strict (a collapsed duplicate's other documents not counted): ${fmt(strict)}`);
    print(`query latency: p50 ${latencyMs.p50.toFixed(2)} ms · p95 ${latencyMs.p95.toFixed(2)} ms · max ${latencyMs.max.toFixed(2)} ms (kb.search, ${questions.length} queries)`);
    if (answers) {
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      print(`answers (as POST /api/ask, k=${ASK_DEFAULT_K}): n=${answers.n}  holds gold ${pct(answers.containsGold)}  null ${pct(answers.nullAnswers)}`);
      print(
        `  gold in the top ${ASK_DEFAULT_K} hits for ${pct(answers.goldRetrieved)} of questions; of those the answer holds it for ${pct(answers.containsGoldWhenRetrieved)}`,
      );
      print(`  rule: ${GOLD_RULE}`);
      print(`  answers quoting >= ${GOLD_COVERAGE * 100}% of the gold answer's characters, whatever their length: ${pct(answers.coversHalfGold)}`);
    }
    if (paraphrase) {
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      print(`answers on the paraphrase set: n=${paraphrase.n}  answered ${pct(1 - paraphrase.nullAnswers)}  holds gold ${pct(paraphrase.containsGold)}  null ${pct(paraphrase.nullAnswers)}`);
    }
    if (unanswerable) {
      print(`answers on the unanswerable set: n=${unanswerable.n}  false answers ${(unanswerable.falseAnswers * 100).toFixed(1)}%`);
      for (const row of unanswerable.perQuestion.filter((r) => r.answer !== null)) print(`  answered: ${row.id} ${row.question} → ${row.answer!.slice(0, 60)}`);
    }
    if (scoped.n > 0) {
      print(`scoped questions: n=${scoped.n}  top-1 from another place: ${scoped.wrongPlaceTop1}`);
      for (const e of scoped.examples) print(`  ${e.id} (${e.place}) → ${e.top} (${e.topPlace})`);
    }
    const lastLine = formatSummaryLine(overall, label);
    const report: EvalReport = {
      mode: label,
      dataDir,
      reused,
      secondsToFirstQuestion,
      overall,
      strict,
      byKind,
      latencyMs,
      missed,
      questions: perQuestion,
      ...(answers ? { answers } : {}),
      ...(unanswerable ? { unanswerable } : {}),
      ...(paraphrase ? { paraphrase } : {}),
      ...(scoped.n > 0 ? { scope: scoped } : {}),
      lastLine,
    };
    if (options.json) {
      const out = path.resolve(cwd, options.json);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify({ corpus, questionFile, kind, ...report }, null, 2));
      print(`json: ${out}`);
    }
    print(lastLine);
    return report;
  } finally {
    kb.close();
  }
}

const USAGE = `用法 usage: npm run eval -- --corpus DIR [--exclude PATH]… (--questions FILE | --precedents FILE)…
       [--mode hybrid|lexical|dense|bigram|all] [--k 10] [--data DIR] [--json OUT]
       ${JSONL_USAGE} [--answers]
  --questions and --precedents may be repeated, and --mode all runs every mode: every set is then
  asked in every mode against the one knowledge base, and a table of all of them closes the output.
  --mode bigram is the evaluation's reference (plain character-bigram BM25), not a product mode; all
  runs it too, first.`;

/** Every (set, mode) evaluation the command line asks for, in order: sets outer, modes bigram → lexical → dense → hybrid. */
export function parseEvalRuns(argv: string[]): EvalOptions[] {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        corpus: { type: 'string' },
        exclude: { type: 'string', multiple: true },
        questions: { type: 'string', multiple: true },
        precedents: { type: 'string', multiple: true },
        mode: { type: 'string' },
        k: { type: 'string' },
        data: { type: 'string' },
        json: { type: 'string' },
        ...JSONL_OPTIONS,
        answers: { type: 'boolean' },
        unanswerable: { type: 'string' },
        paraphrase: { type: 'string' },
      },
      allowPositionals: false,
    }));
  } catch (error) {
    throw new EvalError(`${(error as Error).message}\n${USAGE}`);
  }
  if (!values.corpus) throw new EvalError(`缺少 --corpus (missing --corpus)\n${USAGE}`);
  const modeArg = values.mode ?? 'hybrid';
  if (!['hybrid', 'lexical', 'dense', 'bigram', 'all'].includes(modeArg)) throw new EvalError(`--mode ${values.mode}：应为 hybrid、lexical、dense、bigram 或 all`);
  const modes: EvalMode[] = modeArg === 'all' ? ['bigram', 'lexical', 'dense', 'hybrid'] : [modeArg as EvalMode];
  const k = values.k === undefined ? 10 : Number(values.k);
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new EvalError(`--k ${values.k}：应为 1 到 100 的整数`);
  const { fields: jsonl, error: jsonlError } = jsonlFieldsFromOptions(values);
  if (jsonlError) throw new EvalError(jsonlError);
  const sets: Array<Pick<EvalOptions, 'questions' | 'precedents'>> = [
    ...(values.questions ?? []).map((questions) => ({ questions })),
    ...(values.precedents ?? []).map((precedents) => ({ precedents })),
  ];
  if (sets.length === 0) sets.push({});
  const several = sets.length * modes.length > 1;
  if (several && values.json) throw new EvalError('--json 只用于单个问题集和单个模式 (--json needs one set and one mode)');
  return sets.flatMap((set) =>
    modes.map((mode) => ({
      corpus: values.corpus!,
      exclude: values.exclude ?? [],
      ...set,
      mode,
      k,
      ...(values.data ? { data: values.data } : {}),
      ...(values.json ? { json: values.json } : {}),
      ...(jsonl ? { jsonl } : {}),
      ...(values.answers ? { answers: true } : {}),
      ...(values.unanswerable ? { unanswerable: values.unanswerable } : {}),
      ...(values.paraphrase ? { paraphrase: values.paraphrase } : {}),
    })),
  );
}

/** One evaluation's options: the first of what the command line asks for. */
export function parseEvalArgs(argv: string[]): EvalOptions {
  return parseEvalRuns(argv)[0]!;
}

/** The closing table of a run of several sets or modes: one row per (set, mode). */
export function formatRunTable(rows: Array<{ set: string; report: EvalReport }>): string[] {
  const out = ['', 'every set × mode:', `  ${'set'.padEnd(28)} ${'mode'.padEnd(8)} ${'n'.padStart(4)}  R@1    R@5    R@10   MRR@10`];
  for (const { set, report } of rows) {
    const o = report.overall;
    out.push(
      `  ${path.basename(set).padEnd(28)} ${report.mode.padEnd(8)} ${String(o.n).padStart(4)}  ${[o.recall[1]!, o.recall[5]!, o.recall[10]!, o.mrr].map((x) => x.toFixed(3)).join('  ')}`,
    );
  }
  return out;
}

async function main(): Promise<void> {
  try {
    const runs = parseEvalRuns(process.argv.slice(2));
    const rows: Array<{ set: string; report: EvalReport }> = [];
    for (const run of runs) {
      if (runs.length > 1) console.log(`\n=== ${run.questions ?? run.precedents} · --mode ${run.mode}`);
      rows.push({ set: run.questions ?? run.precedents ?? '', report: await runEval(run) });
    }
    if (runs.length > 1) for (const line of formatRunTable(rows)) console.log(line);
  } catch (error) {
    if (error instanceof EvalError || error instanceof ConfigError) {
      console.error(`eval: ${error.message}`);
      process.exitCode = error instanceof EvalError ? error.exitCode : 1;
      return;
    }
    console.error(`eval: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
