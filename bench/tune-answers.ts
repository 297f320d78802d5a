/**
 * npm run tune-answers -- --corpus DIR --questions ../shared/corpus/ncpqa/questions.jsonl [--data DIR] …
 *
 * Measures the answer stage's evidence constants on all four answer sets at
 * once — NCPQA, bench/paraphrase.jsonl, bench/scoped.jsonl (answered and
 * judged for top-1 place) and bench/unanswerable.jsonl — against the
 * knowledge base `npm run eval` built for the same command line:
 *
 * - the place/year factors of search/scope.ts (retrieval: scoped Recall@5 and
 *   top-1 hits from another place, every set's answers);
 * - the model's thresholds in search/answer.ts (SEMANTIC_MATCH …): gold held,
 *   null and false-answer rates per set.
 *
 * Every question is asked the way POST /api/ask asks it (search/retrieve.ts,
 * k 8, extractAnswer, the citation check), each question embedded once. No
 * constant is picked on one set: points are ranked by the mean over the sets
 * of gold held (answerable sets) and 1 − false answers (unanswerable), and the
 * table shows every set so a point that buys one set with another shows.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { KnowledgeBase } from '../kb/kb.ts';
import { questionPlaces, within } from '../kb/places.ts';
import { PolicyTokenizer } from '../kb/index/lexical/tokenizer.ts';
import type { RetrievalMode, SearchHit } from '../kb/types.ts';
import { extractAnswer, verifyCitations, type SemanticEvidence } from '../search/answer.ts';
import { search as searchKnowledgeBase } from '../search/retrieve.ts';
import { SCOPE_FACTORS, type ScopeFactors } from '../search/scope.ts';
import { hitSimilarities } from '../search/semantic.ts';
import { corpusDocumentId, defaultDataDir, parseEvalRuns, goldCoverage, judgeHits, readQuestions, readUnanswerable, type EvalQuestion } from './eval.ts';
import { cachingEmbedder } from './tune-fusion.ts';
import { ASK_DEFAULT_K, vocabularyOf } from '../search/ask.ts';
import { loadConfig } from '../kb/config.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';

interface AnswerSet {
  name: string;
  questions: EvalQuestion[];
  /** Unanswerable: any answer is false. */
  unanswerable?: true;
}

interface Asked {
  question: EvalQuestion;
  hits: SearchHit[];
  similarity: number[] | undefined;
  relevance: boolean[];
  wrongPlaceTop1: boolean;
}

async function askAll(kb: KnowledgeBase, set: AnswerSet, mode: RetrievalMode): Promise<Asked[]> {
  const out: Asked[] = [];
  for (const question of set.questions) {
    const result = await searchKnowledgeBase(kb, { text: question.text, k: ASK_DEFAULT_K, mode });
    const similarity = await hitSimilarities(kb, question.text, result.hits, result.mode);
    const relevance = set.unanswerable ? [] : judgeHits('questions', question, result.hits, 10).relevance;
    let wrongPlaceTop1 = false;
    const asked = question.place ? questionPlaces(question.place)[0] : undefined;
    const top = result.hits[0];
    if (asked && top) {
      const topPlace = kb.summary(top.citation.documentId)?.metadata.place;
      wrongPlaceTop1 = Boolean(topPlace && topPlace.level > 0 && !within(topPlace, asked) && !within(asked, topPlace));
    }
    out.push({ question, hits: result.hits, similarity, relevance, wrongPlaceTop1 });
  }
  return out;
}

interface SetScore {
  gold: number;
  nulls: number;
  answered: number;
  recall5: number;
  wrongPlace: number;
}

function answerSet(kb: KnowledgeBase, tokenizer: PolicyTokenizer, set: AnswerSet, asked: Asked[], semantic: Omit<SemanticEvidence, 'similarity'> | null): SetScore {
  let gold = 0;
  let nulls = 0;
  for (const a of asked) {
    const q = a.question.text;
    let answered = extractAnswer(q, a.hits, kb, {
      questionWords: tokenizer.queryTerms(q).words,
      ...vocabularyOf(kb),
      ...(semantic && a.similarity ? { semantic: { ...semantic, similarity: a.similarity } } : {}),
    });
    if (verifyCitations(answered.citations, kb).length > 0) answered = { answer: null, citations: [], reason: 'citation check failed' };
    if (!answered.answer) {
      nulls++;
      continue;
    }
    if (!set.unanswerable && goldCoverage(answered.answer.sentences.map((s) => s.text).join(''), a.question.answer ?? '').contains) gold++;
  }
  const n = Math.max(asked.length, 1);
  return {
    gold: gold / n,
    nulls: nulls / n,
    answered: 1 - nulls / n,
    recall5: asked.filter((a) => a.relevance.slice(0, 5).some(Boolean)).length / n,
    wrongPlace: asked.filter((a) => a.wrongPlaceTop1).length,
  };
}

/** Gold held on answerable sets, 1 − false answers on the unanswerable one, averaged over the sets. */
function macro(sets: AnswerSet[], scores: SetScore[]): number {
  return scores.reduce((sum, s, i) => sum + (sets[i]!.unanswerable ? 1 - s.answered : s.gold), 0) / scores.length;
}

function row(sets: AnswerSet[], scores: SetScore[]): string {
  return scores
    .map((s, i) =>
      sets[i]!.unanswerable
        ? `${sets[i]!.name}: false ${(100 * s.answered).toFixed(1)}%`
        : `${sets[i]!.name}: gold ${(100 * s.gold).toFixed(1)}% null ${(100 * s.nulls).toFixed(1)}% R@5 ${s.recall5.toFixed(3)}${s.wrongPlace ? ` wrong-place ${s.wrongPlace}` : ''}`,
    )
    .join(' | ');
}

const NO_SCOPE = { samePlace: 1, enclosingPlace: 1, otherPlace: 1, sameYear: 1, otherYear: 1 };
const SCOPE_GRID: Array<Partial<ScopeFactors>> = [
  NO_SCOPE,
  {},
  { samePlace: 2, enclosingPlace: 1.3, otherPlace: 0.35 },
  { samePlace: 1.3, enclosingPlace: 1.1, otherPlace: 0.7 },
  { ...NO_SCOPE, sameYear: 1.3, otherYear: 0.8 },
];

const SEMANTIC_GRID: Array<Omit<SemanticEvidence, 'similarity'> | null> = [
  null,
  { floor: 0.86, match: 0.9, unknownWordMatch: 0.92 },
  { floor: 0.84, match: 0.88 },
  { floor: 0.88, match: 0.9, unknownWordMatch: 0.92 },
  { floor: 0.87, match: 0.89, unknownWordMatch: 0.91, weight: 2 },
  { floor: 0.86, match: 0.92, unknownWordMatch: 1.1 },
  { floor: 0.88, match: 0.9, unknownWordMatch: 0.92, weight: 2 },
  { floor: 0.89, match: 0.91, unknownWordMatch: 0.93, weight: 2 },
  { floor: 0.9, match: 0.92, unknownWordMatch: 0.94, weight: 2 },
  { floor: 0.88, match: 0.91, unknownWordMatch: 0.93, weight: 2 },
];

async function main(): Promise<void> {
  const modes = (process.env.TUNE_MODES ?? 'lexical,hybrid').split(',') as RetrievalMode[];
  const first = parseEvalRuns(process.argv.slice(2))[0]!;
  const cwd = process.cwd();
  const corpus = path.resolve(cwd, first.corpus);
  const base = loadConfig(process.env, cwd);
  const load = modes.includes('hybrid') ? await loadEmbedder(base, (m) => console.error(m)) : undefined;
  if (load && !load.embedder) throw new Error(`tune-answers needs an embedding model for hybrid: ${load.reason}`);
  const dataDir = first.data ? path.resolve(cwd, first.data) : defaultDataDir(first, base, cwd);
  const kb = await KnowledgeBase.open({ ...base, dataDir }, { embedder: load?.embedder ? cachingEmbedder(load.embedder) : null, log: (m) => console.error(m) });
  const tokenizer = new PolicyTokenizer();
  try {
    const relative = (q: EvalQuestion) => ({ ...q, expected: corpusDocumentId(q.expected, corpus) });
    const sets: AnswerSet[] = [
      { name: 'ncpqa', questions: readQuestions(path.resolve(cwd, first.questions!), 'questions').map(relative) },
      { name: 'paraphrase', questions: readQuestions(path.resolve(cwd, 'bench/paraphrase.jsonl'), 'questions').map(relative) },
      { name: 'scoped', questions: readQuestions(path.resolve(cwd, 'bench/scoped.jsonl'), 'questions').map(relative) },
      {
        name: 'unanswerable',
        unanswerable: true,
        questions: readUnanswerable(path.resolve(cwd, 'bench/unanswerable.jsonl')).map((q) => ({ id: q.id, text: q.question, expected: '' })),
      },
    ];
    const defaults = { ...SCOPE_FACTORS };
    const only = process.env.TUNE_ONLY ?? 'scope,semantic';
    for (const mode of modes) {
      if (only.includes('scope')) {
        console.log(`\n${mode}: place/year factors (semantic evidence at its defaults):`);
        for (const point of SCOPE_GRID.slice(0, Number(process.env.TUNE_POINTS ?? SCOPE_GRID.length))) {
          // retrieve() reads SCOPE_FACTORS; the bench sets each point there and restores the defaults after.
          Object.assign(SCOPE_FACTORS, defaults, point);
          const scores: SetScore[] = [];
          for (const set of sets) scores.push(answerSet(kb, tokenizer, set, await askAll(kb, set, mode), {}));
          console.log(`  ${JSON.stringify(point).padEnd(70)} macro ${macro(sets, scores).toFixed(3)}  ${row(sets, scores)}`);
        }
        Object.assign(SCOPE_FACTORS, defaults);
      }
      if (mode === 'lexical' || !only.includes('semantic')) continue;
      const asked: Asked[][] = [];
      for (const set of sets) asked.push(await askAll(kb, set, mode));
      console.log(`\n${mode}: the model's evidence in the answer stage (null: none, as without a model):`);
      for (const point of SEMANTIC_GRID) {
        const scores = sets.map((set, i) => answerSet(kb, tokenizer, set, asked[i]!, point));
        console.log(`  ${JSON.stringify(point).padEnd(36)} macro ${macro(sets, scores).toFixed(3)}  ${row(sets, scores)}`);
      }
    }
  } finally {
    kb.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(`tune-answers: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
