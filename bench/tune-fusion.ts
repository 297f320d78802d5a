/**
 * npm run tune-fusion -- <the eval command line: --corpus DIR (--questions F | --precedents F)… [--data DIR] …>
 *
 * Measures the fusion constants (KB_RRF_K, KB_WEIGHT_LEXICAL/KB_WEIGHT_DENSE, KB_DENSE_FOR_MISSING_WORDS,
 * KB_FUSION_DEPTH) on every given set at once, against the knowledge base
 * `npm run eval` built for the same command line (build it first with the
 * model configured). Every question is asked through `kb.search` — the same
 * fusion, duplicate folding and filters the server runs — at every grid
 * point, with each query embedded once (cached).
 *
 * It prints lexical and dense alone, then the grid points ranked by the
 * macro-average over the sets of (Recall@5 + MRR@10) / 2, and for each set
 * the point that set alone would pick, with what that point does to the
 * others: a constant tuned on one set is a constant fitted to that set. For
 * sets whose questions carry a kind (NCPQA), each point also says its worst
 * per-kind Recall@5 and MRR@10 margin over lexical (negative: a kind below
 * lexical).
 *
 * Each retriever's list for a query depends only on the query and the depth,
 * not on k or the weights: the lists are computed once per (query, depth) and
 * the grid re-fuses them, so a point costs fusion and duplicate folding only.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig, type Config } from '../kb/config.ts';
import { KnowledgeBase } from '../kb/kb.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';
import type { Embedder, RetrievalMode } from '../kb/types.ts';
import type { FusionSettings, RetrievalIndexes, Searchable } from '../kb/kb.ts';
import { corpusDocumentId, defaultDataDir, judgeHits, parseEvalRuns, readQuestions, searchK, type EvalQuestion } from './eval.ts';
import { summarize, summarizeByKind, type MetricSummary, type RankedOutcome } from './metrics.ts';
import { search as searchKnowledgeBase } from '../search/retrieve.ts';

// Only the ratio of the weights orders results, so the lexical weight stays 1. Each list can be
// replaced from the environment (TUNE_RRF_K=2,5,10 …) to spend a loaded machine's CPU on fewer points.
const gridOf = (name: string, fallback: number[]) => process.env[name]?.split(',').map(Number).filter((x) => Number.isFinite(x) && x > 0) ?? fallback;
const RRF_K = gridOf('TUNE_RRF_K', [2, 5, 10, 20, 30, 60, 100]);
const WEIGHT_DENSE = gridOf('TUNE_WEIGHT_DENSE', [0.5, 0.75, 1, 1.5, 2, 3]);
const DEPTH = gridOf('TUNE_DEPTH', [20, 50, 100, 200]);
// 0 is a setting of its own (the dense weight fixed), so this list is not read through gridOf.
const DENSE_FOR_MISSING = process.env.TUNE_DENSE_FOR_MISSING?.split(',').map(Number).filter((x) => Number.isFinite(x) && x >= 0) ?? [0, 1, 2, 3];

export interface EvalSet {
  name: string;
  kind: 'questions' | 'precedents';
  questions: EvalQuestion[];
}

/** Each distinct query is embedded once however many grid points ask it. */
export function cachingEmbedder(inner: Embedder): Embedder {
  const cache = new Map<string, Float32Array>();
  return {
    modelId: inner.modelId,
    dimension: inner.dimension,
    profile: inner.profile,
    embedPassages: (texts) => inner.embedPassages(texts),
    async embedQueries(texts) {
      const missing = texts.filter((t) => !cache.has(t));
      if (missing.length > 0) (await inner.embedQueries(missing)).forEach((v, i) => cache.set(missing[i]!, v));
      return texts.map((t) => cache.get(t)!);
    },
  };
}

/** Query vectors by identity: cachingEmbedder hands out one Float32Array per query text. */
const vectorIds = new Map<Float32Array, number>();

/** The knowledge base's retrieval, with each retriever's list kept per (query, depth, filter-free) for the grid to re-fuse. */
function cachingRetrieval(kb: KnowledgeBase): Searchable {
  const lexicalLists = new Map<string, ReturnType<RetrievalIndexes['lexical']['search']>>();
  const rows = new Map<number, ReturnType<RetrievalIndexes['passages']> extends Map<number, infer R> ? R : never>();
  const denseLists = new Map<string, Array<{ label: number; score: number }>>();
  return {
    retrievalIndexes() {
      const inner = kb.retrievalIndexes();
      const lexical = Object.create(inner.lexical) as RetrievalIndexes['lexical'];
      lexical.search = (text, depth, accept) => {
        if (accept) return inner.lexical.search(text, depth, accept);
        const key = `${depth}\u0000${text}`;
        let hits = lexicalLists.get(key);
        if (!hits) lexicalLists.set(key, (hits = inner.lexical.search(text, depth)));
        return hits;
      };
      const dense = inner.dense && {
        embedder: inner.dense.embedder,
        search: (vector: Float32Array, depth: number, accept?: (label: number) => boolean) => {
          if (accept) return inner.dense!.search(vector, depth, accept);
          // The vector is the cached embedding of one query text: the same object each time.
          const key = `${depth}\u0000${vectorIds.get(vector) ?? vectorIds.set(vector, vectorIds.size).get(vector)}`;
          let hits = denseLists.get(key);
          if (!hits) denseLists.set(key, (hits = inner.dense!.search(vector, depth)));
          return hits;
        },
      };
      const passages = (labels: number[]) => {
        const missing = labels.filter((label) => !rows.has(label));
        if (missing.length > 0) for (const [label, row] of inner.passages(missing)) rows.set(label, row);
        return new Map(labels.filter((label) => rows.has(label)).map((label) => [label, rows.get(label)!]));
      };
      return { ...inner, lexical, dense, passages };
    },
  };
}
interface Measured {
  overall: MetricSummary;
  byKind: Map<string, MetricSummary>;
}

async function measure(kb: Searchable, set: EvalSet, mode: RetrievalMode, fusion?: Partial<FusionSettings>): Promise<Measured> {
  const outcomes: RankedOutcome[] = [];
  for (const question of set.questions) {
    const result = await searchKnowledgeBase(kb, { text: question.text, k: searchK(set.kind, 10), mode, withMessages: set.kind === 'precedents' }, fusion);
    const { relevance } = judgeHits(set.kind, question, result.hits, 10);
    outcomes.push({ id: question.id, relevance, ...(question.kind ? { kind: question.kind } : {}) });
  }
  return { overall: summarize(outcomes), byKind: new Map(summarizeByKind(outcomes)) };
}

/** The worst per-kind margin of `hybrid` over `lexical` in Recall@5 and in MRR@10 (kinds of at least 5 questions). */
function worstKindMargin(hybrid: Measured, lexical: Measured): { recall: number; mrr: number; kinds: string } | undefined {
  let recall = Infinity;
  let mrr = Infinity;
  const below: string[] = [];
  for (const [kind, base] of lexical.byKind) {
    const h = hybrid.byKind.get(kind);
    if (!h || base.n < 5) continue;
    const dr = h.recall[5]! - base.recall[5]!;
    const dm = h.mrr - base.mrr;
    recall = Math.min(recall, dr);
    mrr = Math.min(mrr, dm);
    if (dr < 0 || dm < 0) below.push(`${kind} ${dr >= 0 ? '+' : ''}${dr.toFixed(3)}/${dm >= 0 ? '+' : ''}${dm.toFixed(3)}`);
  }
  return Number.isFinite(recall) ? { recall, mrr, kinds: below.join(', ') } : undefined;
}

const score = (s: MetricSummary) => (s.recall[5]! + s.mrr) / 2;
const cells = (s: MetricSummary) => `R@5 ${s.recall[5]!.toFixed(3)} R@10 ${s.recall[10]!.toFixed(3)} MRR ${s.mrr.toFixed(3)}`;

/** What a tuning bench reads from the eval command line: the configuration, the store `npm run eval` built for it, and each distinct set. */
export function tuningInputs(argv: string[]): { base: Config; dataDir: string; sets: EvalSet[] } {
  const runs = parseEvalRuns(argv);
  const first = runs[0]!;
  const cwd = process.cwd();
  const corpus = path.resolve(cwd, first.corpus);
  const base = loadConfig(process.env, cwd);
  const dataDir = first.data ? path.resolve(cwd, first.data) : defaultDataDir(first, base, cwd);
  const seen = new Set<string>();
  const sets: EvalSet[] = [];
  for (const run of runs) {
    const file = run.questions ?? run.precedents!;
    if (seen.has(file)) continue;
    seen.add(file);
    const kind = run.questions ? 'questions' : 'precedents';
    const questions = readQuestions(path.resolve(cwd, file), kind).map((q) => (kind === 'questions' ? { ...q, expected: corpusDocumentId(q.expected, corpus) } : q));
    sets.push({ name: path.basename(file), kind, questions });
  }
  return { base, dataDir, sets };
}

async function main(): Promise<void> {
  const { base, dataDir, sets } = tuningInputs(process.argv.slice(2));
  const load = await loadEmbedder(base, (m) => console.error(m));
  if (!load.embedder) throw new Error(`tune-fusion needs an embedding model: ${load.reason}`);
  const store = await KnowledgeBase.open({ ...base, dataDir }, { embedder: cachingEmbedder(load.embedder), log: (m) => console.error(m) });
  const kb = cachingRetrieval(store);
  try {
    const health = store.health();
    if (health.passages === 0 || health.index.vectors < health.passages) {
      throw new Error(`${dataDir} holds ${health.passages} passages and ${health.index.vectors} vectors: build it first with npm run eval and the same arguments`);
    }
    console.log(`${dataDir}: ${health.documents} documents, ${health.passages} passages · model ${health.model?.id}`);
    console.log(`configured: rrfK ${base.rrfK}, weights lexical ${base.weightLexical} / dense ${base.weightDense}, depth ${base.fusionDepth}\n`);
    const lexicalBySet: Measured[] = [];
    for (const set of sets) {
      for (const mode of ['lexical', 'dense', 'hybrid'] as const) {
        const measured = await measure(kb, set, mode);
        if (mode === 'lexical') lexicalBySet.push(measured);
        const { overall } = measured;
        console.log(`${set.name.padEnd(24)} ${mode.padEnd(8)} n=${overall.n}  R@1 ${overall.recall[1]!.toFixed(3)} ${cells(overall)}`);
        if (measured.byKind.size > 1) {
          for (const [kind, s] of measured.byKind) console.log(`    ${kind.padEnd(20)} n=${String(s.n).padStart(3)}  ${cells(s)}`);
        }
      }
    }

    const grid: Array<{ fusion: FusionSettings; bySet: MetricSummary[]; macro: number; kindMargins: Array<ReturnType<typeof worstKindMargin>> }> = [];
    for (const rrfK of RRF_K) {
      for (const weightDense of WEIGHT_DENSE) {
        for (const fusionDepth of DEPTH) for (const denseForMissingWords of DENSE_FOR_MISSING) {
          const fusion: FusionSettings = { rrfK, weightLexical: 1, weightDense, fusionDepth, denseForMissingWords };
          const bySet: MetricSummary[] = [];
          const kindMargins: Array<ReturnType<typeof worstKindMargin>> = [];
          for (const [i, set] of sets.entries()) {
            const measured = await measure(kb, set, 'hybrid', fusion);
            bySet.push(measured.overall);
            kindMargins.push(worstKindMargin(measured, lexicalBySet[i]!));
          }
          grid.push({ fusion, bySet, macro: bySet.reduce((sum, s) => sum + score(s), 0) / bySet.length, kindMargins });
          console.error(`grid ${grid.length}/${RRF_K.length * WEIGHT_DENSE.length * DEPTH.length * DENSE_FOR_MISSING.length}: k=${rrfK} wD=${weightDense} depth=${fusionDepth} missing×${denseForMissingWords} macro ${grid.at(-1)!.macro.toFixed(3)}`);
        }
      }
    }
    const label = (f: FusionSettings) =>
      `k=${String(f.rrfK).padStart(3)} wD=${f.weightDense.toFixed(2)} depth=${String(f.fusionDepth).padStart(3)}${` missing×${f.denseForMissingWords}`}`;
    const margins = (point: (typeof grid)[number]) =>
      point.kindMargins
        .map((m, i) => (m ? `${sets[i]!.name} worst kind vs lexical R@5 ${m.recall.toFixed(3)} MRR ${m.mrr.toFixed(3)}${m.kinds ? ` (below: ${m.kinds})` : ''}` : ''))
        .filter(Boolean)
        .join('; ');
    grid.sort((a, b) => b.macro - a.macro);
    console.log(`\nhybrid grid (${grid.length} points), best by the macro-average over ${sets.length} sets of (R@5 + MRR@10)/2:`);
    for (const point of grid.slice(0, 15)) {
      console.log(`  ${label(point.fusion)}  macro ${point.macro.toFixed(3)}  ${point.bySet.map((s, i) => `${sets[i]!.name}: ${cells(s)}`).join(' | ')}`);
      const m = margins(point);
      if (m) console.log(`      ${m}`);
    }
    const configured = grid.find(
      (p) =>
        p.fusion.rrfK === base.rrfK &&
        p.fusion.weightDense === base.weightDense / base.weightLexical &&
        p.fusion.fusionDepth === base.fusionDepth &&
        p.fusion.denseForMissingWords === base.denseForMissingWords,
    );
    if (configured) {
      console.log(`\nconfigured point: ${label(configured.fusion)}  macro ${configured.macro.toFixed(3)} (rank ${grid.indexOf(configured) + 1})  ${configured.bySet.map((s, i) => `${sets[i]!.name}: ${cells(s)}`).join(' | ')}`);
      const m = margins(configured);
      if (m) console.log(`      ${m}`);
    }
    console.log('\ntuned on one set alone:');
    sets.forEach((set, i) => {
      const best = [...grid].sort((a, b) => score(b.bySet[i]!) - score(a.bySet[i]!))[0]!;
      console.log(`  best for ${set.name}: ${label(best.fusion)} → macro ${best.macro.toFixed(3)} (best macro ${grid[0]!.macro.toFixed(3)}); ${best.bySet.map((s, j) => `${sets[j]!.name}: ${cells(s)}`).join(' | ')}`);
    });
  } finally {
    store.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(`tune-fusion: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
