/**
 * npm run tune-fusion -- <the eval command line: --corpus DIR (--questions F | --precedents F)… [--data DIR] …>
 *
 * Measures the fusion constants (KB_RRF_K, KB_WEIGHT_LEXICAL/KB_WEIGHT_DENSE,
 * KB_FUSION_DEPTH) on every given set at once, against the knowledge base
 * `npm run eval` built for the same command line (build it first with the
 * model configured). Every question is asked through `kb.search` — the same
 * fusion, duplicate folding and filters the server runs — at every grid
 * point, with each query embedded once (cached).
 *
 * It prints lexical and dense alone, then the grid points ranked by the
 * macro-average over the sets of (Recall@5 + MRR@10) / 2, and for each set
 * the point that set alone would pick, with what that point does to the
 * others: a constant tuned on one set is a constant fitted to that set.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../kb/config.ts';
import { KnowledgeBase } from '../kb/kb.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';
import type { Embedder, RetrievalMode } from '../kb/types.ts';
import type { FusionSettings } from '../kb/kb.ts';
import { corpusDocumentId, defaultDataDir, judgeHits, parseEvalRuns, readQuestions, searchK, type EvalQuestion } from './eval.ts';
import { summarize, type MetricSummary, type RankedOutcome } from './metrics.ts';
import { search as searchKnowledgeBase } from '../search/retrieve.ts';

const RRF_K = [5, 10, 20, 30, 60, 100];
const WEIGHT_DENSE = [0.5, 0.75, 1, 1.5, 2];
const DEPTH = [20, 50, 100];

interface EvalSet {
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

async function measure(kb: KnowledgeBase, set: EvalSet, mode: RetrievalMode, fusion?: Partial<FusionSettings>): Promise<{ overall: MetricSummary; outcomes: RankedOutcome[] }> {
  const outcomes: RankedOutcome[] = [];
  for (const question of set.questions) {
    const result = await searchKnowledgeBase(kb, { text: question.text, k: searchK(set.kind, 10), mode }, fusion);
    const { relevance } = judgeHits(set.kind, question, result.hits, 10);
    outcomes.push({ id: question.id, relevance, ...(question.kind ? { kind: question.kind } : {}) });
  }
  return { overall: summarize(outcomes), outcomes };
}

const score = (s: MetricSummary) => (s.recall[5]! + s.mrr) / 2;
const cells = (s: MetricSummary) => `R@5 ${s.recall[5]!.toFixed(3)} R@10 ${s.recall[10]!.toFixed(3)} MRR ${s.mrr.toFixed(3)}`;

/** The knowledge base `npm run eval` built for this command line, opened with the model (each query embedded once). */
export async function openTuningKb(argv: string[], tool: string, options: { readOnly?: boolean; lexicalOnly?: boolean } = {}) {
  const runs = parseEvalRuns(argv);
  const first = runs[0]!;
  const cwd = process.cwd();
  const corpus = path.resolve(cwd, first.corpus);
  const base = loadConfig(process.env, cwd);
  const dataDir = first.data ? path.resolve(cwd, first.data) : defaultDataDir(first, base, cwd);
  let embedder: Embedder | null = null;
  if (!options.lexicalOnly) {
    const load = await loadEmbedder(base, (m) => console.error(m));
    if (!load.embedder) throw new Error(`${tool} needs an embedding model: ${load.reason}`);
    embedder = cachingEmbedder(load.embedder);
  }
  const kb = await KnowledgeBase.open({ ...base, dataDir }, { readOnly: options.readOnly ?? false, embedder, log: (m) => console.error(m) });
  return { runs, cwd, corpus, base, dataDir, kb };
}

async function main(): Promise<void> {
  const { runs, cwd, corpus, base, dataDir, kb } = await openTuningKb(process.argv.slice(2), 'tune-fusion');
  try {
    const health = kb.health();
    if (health.passages === 0 || health.index.vectors < health.passages) {
      throw new Error(`${dataDir} holds ${health.passages} passages and ${health.index.vectors} vectors: build it first with npm run eval and the same arguments`);
    }
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
    console.log(`${dataDir}: ${health.documents} documents, ${health.passages} passages · model ${health.model?.id}`);
    console.log(`configured: rrfK ${base.rrfK}, weights lexical ${base.weightLexical} / dense ${base.weightDense}, depth ${base.fusionDepth}\n`);
    for (const set of sets) {
      for (const mode of ['lexical', 'dense', 'hybrid'] as const) {
        const { overall } = await measure(kb, set, mode);
        console.log(`${set.name.padEnd(24)} ${mode.padEnd(8)} n=${overall.n}  R@1 ${overall.recall[1]!.toFixed(3)} ${cells(overall)}`);
      }
    }

    const grid: Array<{ fusion: FusionSettings; bySet: MetricSummary[]; macro: number }> = [];
    for (const rrfK of RRF_K) {
      for (const weightDense of WEIGHT_DENSE) {
        for (const fusionDepth of DEPTH) {
          const fusion: FusionSettings = { rrfK, weightLexical: 1, weightDense, fusionDepth };
          const bySet: MetricSummary[] = [];
          for (const set of sets) bySet.push((await measure(kb, set, 'hybrid', fusion)).overall);
          grid.push({ fusion, bySet, macro: bySet.reduce((sum, s) => sum + score(s), 0) / bySet.length });
        }
      }
    }
    const label = (f: FusionSettings) => `k=${String(f.rrfK).padStart(3)} wD=${f.weightDense.toFixed(2)} depth=${String(f.fusionDepth).padStart(3)}`;
    grid.sort((a, b) => b.macro - a.macro);
    console.log(`\nhybrid grid (${grid.length} points), best by the macro-average over ${sets.length} sets of (R@5 + MRR@10)/2:`);
    for (const point of grid.slice(0, 12)) {
      console.log(`  ${label(point.fusion)}  macro ${point.macro.toFixed(3)}  ${point.bySet.map((s, i) => `${sets[i]!.name}: ${cells(s)}`).join(' | ')}`);
    }
    console.log('\ntuned on one set alone:');
    sets.forEach((set, i) => {
      const best = [...grid].sort((a, b) => score(b.bySet[i]!) - score(a.bySet[i]!))[0]!;
      console.log(`  best for ${set.name}: ${label(best.fusion)} → macro ${best.macro.toFixed(3)} (best macro ${grid[0]!.macro.toFixed(3)}); ${best.bySet.map((s, j) => `${sets[j]!.name}: ${cells(s)}`).join(' | ')}`);
    });
  } finally {
    kb.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(`tune-fusion: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
