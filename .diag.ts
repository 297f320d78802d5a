import path from 'node:path';
import { loadConfig } from './kb/config.ts';
import { KnowledgeBase } from './kb/kb.ts';
import { retrieve } from './search/retrieve.ts';
import { extractAnswer } from './search/answer.ts';
import { PolicyTokenizer } from './kb/index/lexical/tokenizer.ts';
import { corpusDocumentId, judgeHits, readQuestions, readUnanswerable } from './bench/eval.ts';
const cwd = process.cwd();
const kb = await KnowledgeBase.open({ ...loadConfig({ ...process.env, KB_LEXICAL_ONLY: '1' }, cwd), dataDir: '/work/evaldata/answers-partial' }, { readOnly: true, embedder: null });
const tok = new PolicyTokenizer();
const ix = kb.retrievalIndexes();
const plain = { ...ix, scopeOf: undefined };
const corpus = path.resolve('../shared/corpus');
const placeOf = (id: string) => { const m = kb.summary(id)?.metadata; return `${m?.place?.name ?? '?'}/${m?.year ?? '?'}`; };
for (const [name, file] of [['ncpqa', '../shared/corpus/ncpqa/questions.jsonl'], ['para', 'bench/paraphrase.jsonl']] as const) {
  for (const q of readQuestions(file, 'questions').map((q) => ({ ...q, expected: corpusDocumentId(q.expected, corpus) }))) {
    const a = await retrieve(plain as typeof ix, { text: q.text, k: 8, mode: 'lexical' });
    const b = await retrieve(ix, { text: q.text, k: 8, mode: 'lexical' });
    const ra = judgeHits('questions', q, a.hits, 10).relevance.slice(0, 5).some(Boolean);
    const rb = judgeHits('questions', q, b.hits, 10).relevance.slice(0, 5).some(Boolean);
    if (ra !== rb) console.log(name, ra ? 'LOST' : 'GAINED', q.text, '| gold', placeOf(q.expected), '| top', b.hits.slice(0, 3).map((h) => placeOf(h.citation.documentId)).join(' '));
  }
}
for (const q of readUnanswerable('bench/unanswerable.jsonl')) {
  const ans = async (ctx: typeof ix) => {
    const r = await retrieve(ctx, { text: q.question, k: 8, mode: 'lexical' });
    const x = extractAnswer(q.question, r.hits, kb, { questionWords: tok.queryTerms(q.question).words, knowsWord: (w) => kb.knowsWord(w), wordShare: (w) => kb.wordShare(w) });
    return x.answer ? `${x.citations[0]!.documentId.slice(0, 40)} ${placeOf(x.citations[0]!.documentId)} ${x.answer.text.slice(0, 50)}` : null;
  };
  const a = await ans(plain as typeof ix);
  const b = await ans(ix);
  if (a || b) console.log('U', q.question, '\n   before:', a, '\n   after :', b);
}
kb.close();
