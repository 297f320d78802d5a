/**
 * Experiment (not a product path): the dense side with another passage text form for the passages of long
 * documents, by exact search over every stored vector with those replaced, fused and folded by kb.search.
 *   npx tsx bench/form-experiment.ts <eval command line> [--cache FILE]
 * Env FORM_THRESHOLDS=10,20,40 (documents of at least this many passages take the alternative form),
 * FORM=text|headings (text alone, or headings ⏎ text without the title), FORM_CACHE=FILE (the alternative vectors).
 * Its run before LONG_DOCUMENT_PASSAGES landed: kb/index/vector/passage-text.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../kb/config.ts';
import { KnowledgeBase, type RetrievalIndexes, type Searchable } from '../kb/kb.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';
import { search } from '../search/retrieve.ts';
import { cachingEmbedder } from './tune-fusion.ts';
import { corpusDocumentId, judgeHits, parseEvalRuns, readQuestions } from './eval.ts';
import { summarize, summarizeByKind, type RankedOutcome } from './metrics.ts';

const THRESHOLDS = (process.env.FORM_THRESHOLDS ?? '10,15,20,30,40,60').split(',').map(Number);
const FORM = process.env.FORM ?? 'text';

async function main(): Promise<void> {
  const runs = parseEvalRuns(process.argv.slice(2));
  const cwd = process.cwd();
  const corpus = path.resolve(cwd, runs[0]!.corpus);
  const dataDir = path.resolve(cwd, runs[0]!.data!);
  const base = loadConfig(process.env, cwd);
  const load = await loadEmbedder(base, (m) => console.error(m));
  if (!load.embedder) throw new Error(load.reason);
  const embedder = cachingEmbedder(load.embedder);
  const kb = await KnowledgeBase.open({ ...base, dataDir }, { embedder, log: (m) => console.error(m), readOnly: true });
  const db = new Database(path.join(dataDir, 'kb.sqlite'), { readonly: true });
  const rows = db
    .prepare(
      `SELECT p.label, p.doc_key, p.text, p.heading_path, e.vector,
              (SELECT role FROM paragraphs WHERE doc_key = p.doc_key AND idx = p.para_first) AS role
       FROM passages p JOIN embeddings e ON e.label = p.label ORDER BY p.label`,
    )
    .all() as Array<{ label: number; doc_key: number; text: string; heading_path: string; vector: Buffer; role: string }>;
  const bodyCount = new Map<number, number>();
  for (const r of rows) if (r.role !== 'message') bodyCount.set(r.doc_key, (bodyCount.get(r.doc_key) ?? 0) + 1);
  const dim = 384;
  const base0 = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => base0.set(new Float32Array(new Uint8Array(r.vector).buffer), i * dim));
  const minThreshold = Math.min(...THRESHOLDS);
  // The alternative vectors are kept between runs (FORM_CACHE, default in the temp folder): embedding them is the slow part.
  const cacheFile = process.env.FORM_CACHE ?? path.join(os.tmpdir(), `policykb-form-${FORM}.bin`);
  const alt = new Map<number, Float32Array>();
  if (fs.existsSync(cacheFile)) {
    const buf = fs.readFileSync(cacheFile);
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    for (let o = 0; o < all.length; o += dim + 1) alt.set(all[o]!, all.slice(o + 1, o + 1 + dim));
  }
  const todo = rows.filter((r) => r.role !== 'message' && (bodyCount.get(r.doc_key) ?? 0) >= minThreshold && !alt.has(r.label));
  console.error(`alternative form ${FORM}: ${alt.size} cached, ${todo.length} to embed`);
  const formText = (r: (typeof rows)[number]) => {
    const headings = (JSON.parse(r.heading_path) as string[]).map((h) => h.trim()).filter(Boolean);
    return FORM === 'headings' && headings.length > 0 ? `${headings.join(' · ')}\n${r.text}` : r.text;
  };
  const save = () => {
    const out = new Float32Array(alt.size * (dim + 1));
    let o = 0;
    for (const [label, v] of alt) {
      out[o] = label;
      out.set(v, o + 1);
      o += dim + 1;
    }
    fs.writeFileSync(cacheFile, Buffer.from(out.buffer));
  };
  // Longest documents first: a run stopped early still serves the highest thresholds.
  todo.sort((a, b) => (bodyCount.get(b.doc_key) ?? 0) - (bodyCount.get(a.doc_key) ?? 0) || a.label - b.label);
  for (let i = 0; i < todo.length; i += 64) {
    const batch = todo.slice(i, i + 64);
    const vectors = await load.embedder.embedPassages(batch.map(formText));
    batch.forEach((r, j) => alt.set(r.label, vectors[j]!));
    if ((i / 64) % 8 === 0) {
      save();
      console.error(`  ${i + batch.length}/${todo.length}`);
    }
  }
  save();

  const sets = runs
    .filter((r) => r.questions)
    .map((r) => ({ name: path.basename(r.questions!), questions: readQuestions(path.resolve(cwd, r.questions!), 'questions').map((q) => ({ ...q, expected: corpusDocumentId(q.expected, corpus) })) }));
  const inner = kb.retrievalIndexes();
  for (const threshold of [Infinity, ...THRESHOLDS]) {
    const matrix = base0.slice();
    rows.forEach((r, i) => {
      if (r.role !== 'message' && (bodyCount.get(r.doc_key) ?? 0) >= threshold) matrix.set(alt.get(r.label)!, i * dim);
    });
    const exact = (vector: Float32Array, k: number, accept?: (label: number) => boolean) => {
      const scores: Array<{ label: number; score: number }> = [];
      for (let i = 0; i < rows.length; i++) {
        if (accept && !accept(rows[i]!.label)) continue;
        let s = 0;
        const off = i * dim;
        for (let d = 0; d < dim; d++) s += matrix[off + d]! * vector[d]!;
        scores.push({ label: rows[i]!.label, score: s });
      }
      scores.sort((a, b) => b.score - a.score);
      return scores.slice(0, k);
    };
    const searchable: Searchable = { retrievalIndexes: (): RetrievalIndexes => ({ ...inner, dense: { embedder, search: exact } }) };
    const line: string[] = [];
    for (const set of sets) {
      for (const mode of ['dense', 'hybrid'] as const) {
        const outcomes: RankedOutcome[] = [];
        for (const q of set.questions) {
          const result = await search(searchable, { text: q.text, k: 10, mode });
          outcomes.push({ id: q.id, relevance: judgeHits('questions', q, result.hits, 10).relevance, ...(q.kind ? { kind: q.kind } : {}) });
        }
        const s = summarize(outcomes);
        line.push(`${set.name} ${mode} ${s.recall[5]!.toFixed(3)}/${s.recall[10]!.toFixed(3)}/${s.mrr.toFixed(3)}`);
        if (mode === 'hybrid' && process.env.FORM_KINDS) {
          for (const [kind, ks] of summarizeByKind(outcomes)) line.push(`   ${kind} ${ks.recall[5]!.toFixed(3)}/${ks.recall[10]!.toFixed(3)}/${ks.mrr.toFixed(3)}`);
        }
      }
    }
    console.log(`\n### ${FORM} for documents of ≥ ${threshold} passages\n${line.join('\n')}`);
  }
  kb.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
