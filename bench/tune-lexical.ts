/**
 * npm run tune-lexical -- <the eval command line: --corpus DIR (--questions F | --precedents F)… [--data DIR] …>
 *
 * Measures the lexical scorer's parameters (kb/index/lexical/lexical.ts, LexicalParams) on every given set
 * at once, against the knowledge base `npm run eval` built for the same command line, beside the plain
 * character-bigram BM25 reference (bench/bigram-reference.ts). Every question is asked through the same
 * retrieval as `npm run eval` (scope, sign-offs, duplicate folding); the parameters apply at query time,
 * so no point rebuilds anything.
 *
 * Points: the current defaults, then each line of TUNE_LEXICAL_POINTS (a file of JSON objects, one a line,
 * each a partial LexicalParams, optionally with a "name"). With TUNE_HYBRID=1 the model is loaded and each
 * point is also measured in hybrid mode (query vectors cached). TUNE_MISSES=1 lists, per set, the questions
 * where the point's lexical first relevant rank is worse than the reference's (and its hybrid rank worse
 * than with the defaults). TUNE_WITHOUT_SCOPE=1 adds
 * each point's lexical row without the place and year preferences (search/scope.ts).
 *
 * Printed per point: each set's R@5 / R@10 / MRR@10, and the macro-average over the sets of
 * (R@5 + MRR@10) / 2, for lexical (and hybrid), the reference's row first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { KnowledgeBase, type Searchable } from '../kb/kb.ts';
import { DEFAULT_LEXICAL_PARAMS, LexicalIndex, type LexicalParams } from '../kb/index/lexical/lexical.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';
import type { RetrievalMode } from '../kb/types.ts';
import { search as searchKnowledgeBase } from '../search/retrieve.ts';
import { bigramReference } from './bigram-reference.ts';
import { judgeHits, searchK } from './eval.ts';
import { summarize, type MetricSummary } from './metrics.ts';
import { cachingEmbedder, tuningInputs, type EvalSet } from './tune-fusion.ts';

interface Point {
  name: string;
  params: LexicalParams;
}

interface SetResult {
  summary: MetricSummary;
  /** First relevant rank per question id (0: not in the top 10). */
  ranks: Map<string, number>;
}

async function measure(kb: Searchable, set: EvalSet, mode: RetrievalMode): Promise<SetResult> {
  const outcomes = [];
  const ranks = new Map<string, number>();
  for (const question of set.questions) {
    const result = await searchKnowledgeBase(kb, { text: question.text, k: searchK(set.kind, 10), mode, withMessages: set.kind === 'precedents' });
    const { relevance } = judgeHits(set.kind, question, result.hits, 10);
    outcomes.push({ id: question.id, relevance });
    ranks.set(question.id, relevance.indexOf(true) + 1);
  }
  return { summary: summarize(outcomes), ranks };
}

const score = (s: MetricSummary) => (s.recall[5]! + s.mrr) / 2;
const cells = (s: MetricSummary) => `${s.recall[5]!.toFixed(3)}/${s.recall[10]!.toFixed(3)}/${s.mrr.toFixed(3)}`;

function readPoints(file: string | undefined): Point[] {
  const points: Point[] = [{ name: 'defaults', params: DEFAULT_LEXICAL_PARAMS }];
  if (!file) return points;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const { name, ...partial } = JSON.parse(line) as Partial<LexicalParams> & { name?: string };
    points.push({ name: name ?? JSON.stringify(partial), params: { ...DEFAULT_LEXICAL_PARAMS, ...partial } });
  }
  return points;
}

async function main(): Promise<void> {
  const { base, dataDir, sets } = tuningInputs(process.argv.slice(2));
  const hybrid = process.env.TUNE_HYBRID === '1';
  let embedder = null;
  if (hybrid) {
    const load = await loadEmbedder(base, (m) => console.error(m));
    if (!load.embedder) throw new Error(`TUNE_HYBRID=1 needs an embedding model: ${load.reason}`);
    embedder = cachingEmbedder(load.embedder);
  }
  const kb = await KnowledgeBase.open({ ...base, dataDir }, embedder ? { embedder, log: (m) => console.error(m) } : { embedder: null, lexicalOnlyReason: 'tune-lexical', log: (m) => console.error(m) });
  try {
    const index = kb.retrievalIndexes().lexical;
    if (!(index instanceof LexicalIndex)) throw new Error('tune-lexical needs the in-memory lexical index');
    const health = kb.health();
    console.log(`${dataDir}: ${health.documents} documents, ${health.passages} passages; R@5/R@10/MRR@10 per set, macro = mean over sets of (R@5 + MRR@10) / 2`);
    console.log(`sets: ${sets.map((s) => `${s.name} (${s.questions.length})`).join(', ')}`);

    const reference: SetResult[] = [];
    for (const set of sets) reference.push(await measure(bigramReference(kb), set, 'lexical'));
    const row = (label: string, results: SetResult[]) =>
      `${label.padEnd(34).slice(0, 34)} macro ${(results.reduce((sum, r) => sum + score(r.summary), 0) / results.length).toFixed(3)}  ${results.map((r) => cells(r.summary)).join('  ')}`;
    console.log(row('bigram reference', reference));
    let defaultsHybrid: SetResult[] | undefined;
    for (const point of readPoints(process.env.TUNE_LEXICAL_POINTS)) {
      index.setParams(point.params);
      const lexical: SetResult[] = [];
      for (const set of sets) lexical.push(await measure(kb, set, 'lexical'));
      console.log(row(`${point.name} lexical`, lexical));
      if (process.env.TUNE_WITHOUT_SCOPE === '1') {
        const unscoped: Searchable = { retrievalIndexes: () => ({ ...kb.retrievalIndexes(), scopeOf: undefined }) };
        const results: SetResult[] = [];
        for (const set of sets) results.push(await measure(unscoped, set, 'lexical'));
        console.log(row(`${point.name} lexical, no scope`, results));
      }
      if (hybrid) {
        const fused: SetResult[] = [];
        for (const set of sets) fused.push(await measure(kb, set, 'hybrid'));
        console.log(row(`${point.name} hybrid`, fused));
        defaultsHybrid ??= fused;
        if (process.env.TUNE_MISSES === '1') {
          sets.forEach((set, i) => {
            for (const q of set.questions) {
              const now = fused[i]!.ranks.get(q.id)! || 99;
              const before = defaultsHybrid![i]!.ranks.get(q.id)! || 99;
              if (now > before) console.log(`   ${set.name} ${q.id} hybrid ${now === 99 ? '-' : now} with the defaults ${before === 99 ? '-' : before}  ${q.text}`);
            }
          });
        }
      }
      if (process.env.TUNE_MISSES === '1') {
        sets.forEach((set, i) => {
          const worse = set.questions.filter((q) => {
            const ours = lexical[i]!.ranks.get(q.id)! || 99;
            const theirs = reference[i]!.ranks.get(q.id)! || 99;
            return ours > theirs;
          });
          for (const q of worse) console.log(`   ${set.name} ${q.id} lexical ${lexical[i]!.ranks.get(q.id) || '-'} reference ${reference[i]!.ranks.get(q.id) || '-'}  ${q.text}`);
        });
      }
    }
    index.setParams(DEFAULT_LEXICAL_PARAMS);
  } finally {
    kb.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
