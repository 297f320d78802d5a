/**
 * npm run ranks -- <the eval command line: --corpus DIR --questions F… [--data DIR] …>
 *
 * Per question: the rank of the first gold passage (from the expected file, holding the answer) in
 * the lexical list, the dense list and the fused result, the cosine of the best gold passage against
 * the dense list's first, and the question's terms missing from the gold passage. It explains misses
 * (why a paraphrase is lost) rather than scoring: npm run eval scores.
 */
import path from 'node:path';
import { loadConfig } from '../kb/config.ts';
import { KnowledgeBase } from '../kb/kb.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';
import { stripWhitespace } from '../kb/text/text.ts';
import { search } from '../search/retrieve.ts';
import { questionVector } from '../search/semantic.ts';
import { corpusDocumentId, defaultDataDir, parseEvalRuns, readQuestions } from './eval.ts';

const DEPTH = 1000;

async function main(): Promise<void> {
  const runs = parseEvalRuns(process.argv.slice(2));
  const cwd = process.cwd();
  const corpus = path.resolve(cwd, runs[0]!.corpus);
  const base = loadConfig(process.env, cwd);
  const load = await loadEmbedder(base, (m) => console.error(m));
  if (!load.embedder) throw new Error(`ranks needs an embedding model: ${load.reason}`);
  const dataDir = runs[0]!.data ? path.resolve(cwd, runs[0]!.data) : defaultDataDir(runs[0]!, base, cwd);
  const kb = await KnowledgeBase.open({ ...base, dataDir }, { embedder: load.embedder, log: (m) => console.error(m) });
  try {
    const context = kb.retrievalIndexes();
    for (const run of runs) {
      if (!run.questions) continue; // precedents are ranked as documents: npm run eval reports them
      const file = run.questions;
      console.log(`\n=== ${path.basename(file)}  (ranks: lexical / dense / fused; '-' beyond ${DEPTH} or 10)`);
      for (const question of readQuestions(path.resolve(cwd, file), 'questions')) {
        const expected = corpusDocumentId(question.expected, corpus);
        const firstGold = (labels: number[]) => {
          const rows = context.passages(labels);
          const i = labels.findIndex((l) => {
            const row = rows.get(l);
            return row !== undefined && row.documentId === expected && stripWhitespace(row.passage.text).includes(question.answer!);
          });
          return i < 0 ? undefined : i + 1;
        };
        const docRank = (labels: number[]) => {
          const rows = context.passages(labels);
          const docs: string[] = [];
          for (const l of labels) {
            const d = rows.get(l)?.documentId;
            if (d && !docs.includes(d)) docs.push(d);
            if (d === expected) return docs.length;
          }
          return undefined;
        };
        const lexical = context.lexical.search(question.text, DEPTH).map((h) => h.key);
        const vector = await questionVector(context.dense!.embedder, question.text);
        const denseHits = context.dense!.search(vector, DEPTH);
        const dense = denseHits.map((h) => h.label);
        const fused = await search(kb, { text: question.text, k: 10, mode: 'hybrid' });
        const fusedRank = fused.hits.findIndex((h) => h.citation.documentId === expected && stripWhitespace(h.text).includes(question.answer!));
        const lr = firstGold(lexical);
        const dr = firstGold(dense);
        const goldCos = dr ? denseHits[dr - 1]!.score : undefined;
        const fmt = (r: number | undefined) => String(r ?? '-').padStart(4);
        console.log(
          `${question.id.padEnd(10)} L${fmt(lr)} D${fmt(dr)} F${fmt(fusedRank < 0 ? undefined : fusedRank + 1)}  doc L${fmt(docRank(lexical))} D${fmt(docRank(dense))}  cos gold ${goldCos?.toFixed(3) ?? '  -  '} top ${denseHits[0]!.score.toFixed(3)}  ${question.text}`,
        );
      }
    }
  } finally {
    kb.close();
  }
}

main().catch((error: unknown) => {
  console.error(`ranks: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
