/**
 * The ask use case, the one place it exists: retrieve passages for a question,
 * draw an extractive answer from them with the knowledge base's own word
 * analysis, check every quote against the stored text, and (when a model is
 * configured) add a generated answer. `POST /api/ask`, `npm run eval` and the
 * tests all answer through `ask`, so what the eval scores is what users get.
 */
import type { KnowledgeBase } from '../kb/kb.ts';
import type { SearchQuery, SearchResult } from '../kb/types.ts';
import { extractAnswer, verifyCitations, type AnswerOptions, type AnswerResult } from './answer.ts';
import { generateAnswer, type GeneratedAnswer, type LlmSettings } from './generate.ts';
import { search } from './retrieve.ts';
import { hitSimilarities } from './semantic.ts';

/** Passages retrieved for a question when the request names no k: a few more than an answer's three sentences and a list's items draw on. */
export const ASK_DEFAULT_K = 8;

/** What answering reads of a knowledge base. */
export type Askable = Pick<KnowledgeBase, 'retrievalIndexes' | 'knowsWord' | 'mayHoldText' | 'wordShare' | 'documentExcerpt' | 'documentText' | 'passageVectors'>;

export interface AskQuery extends Omit<SearchQuery, 'text'> {
  question: string;
}

export interface AskOptions {
  /** Set: a generated answer is asked for beside the extractive one. */
  llm?: LlmSettings;
  fetchImpl?: typeof fetch;
  /** Overrides of the answer stage's settings (tests). */
  answer?: Omit<AnswerOptions, 'questionWords' | 'knowsWord' | 'mayHoldText' | 'wordShare' | 'wordPassages'>;
}

export interface Asked {
  /** The extractive answer, or null with the reason; null too when a quote failed the check against the stored text. */
  answer: AnswerResult;
  /** Why the quotes failed the check (empty when they passed): a bug worth a loud log line, never shown to users. */
  citationProblems: string[];
  generated?: GeneratedAnswer;
  /** The retrieval the answer was drawn from. */
  retrieval: SearchResult;
}

/** What the answer stage asks of the knowledge base's words: does it hold a word, in how many passages, may it hold a text. */
export function vocabularyOf(kb: Pick<Askable, 'knowsWord' | 'wordShare' | 'mayHoldText' | 'retrievalIndexes'>): Pick<AnswerOptions, 'knowsWord' | 'wordShare' | 'wordPassages' | 'mayHoldText'> {
  return {
    knowsWord: (word) => kb.knowsWord(word),
    wordShare: (word) => kb.wordShare(word),
    wordPassages: (word) => Math.round(kb.wordShare(word) * kb.retrievalIndexes().lexical.size),
    mayHoldText: (text) => kb.mayHoldText(text),
  };
}

export async function ask(kb: Askable, query: AskQuery, options: AskOptions = {}): Promise<Asked> {
  const { question, k = ASK_DEFAULT_K, ...rest } = query;
  // Single passages: the answer stage was tuned on them. Measured with hits joined within the first 10 (search/retrieve.ts
  // joins within the first 20 since), it gained nothing and answered more questions it should not (session 7, hybrid, before → joined: NCPQA gold
  // 79.8% / null 4.6% → 79.9% / 4.4%; held-out unanswerable false answers 10.0% → 15.0%, h14 and h35 quoting the
  // joined neighbour; scoped 92.9% → 90.5%).
  const retrieval = await search(kb, { text: question, k, joinNeighbours: false, ...rest });
  // The lexical index's own analysis (user dictionary included), so "the question's words" are the words retrieval matched.
  const questionWords = kb.retrievalIndexes().tokenizer.queryTerms(question).words;
  // The model's closeness of each passage to the question (stored vectors, the query's own from retrieval); none when lexical.
  const similarity = await hitSimilarities(kb, question, retrieval.hits, retrieval.mode);
  let answer = extractAnswer(question, retrieval.hits, kb, {
    ...options.answer,
    questionWords,
    ...vocabularyOf(kb),
    ...(similarity ? { semantic: { ...options.answer?.semantic, similarity } } : {}),
  });
  const citationProblems = verifyCitations(answer.citations, kb);
  // Never hand out a quote the document does not contain.
  if (citationProblems.length > 0) answer = { answer: null, citations: [], reason: '引文与原文校验不一致，已拒绝作答（详情见服务器日志）' };
  const generated = options.llm ? await generateAnswer(options.llm, question, retrieval.hits, kb, options.fetchImpl) : undefined;
  return { answer, citationProblems, retrieval, ...(generated ? { generated } : {}) };
}
