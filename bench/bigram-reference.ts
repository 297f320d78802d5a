/**
 * The evaluation's reference retriever (`npm run eval -- … --mode bigram`): plain BM25 (k1 1.2, b 0.75)
 * over the character bigrams of the passage text alone — no jieba words, no title or heading context, no
 * whole-document field, no question-word removal, no pruning of common terms, no place, year or sign-off
 * rules. Latin and digit runs count as one unit, as in the index's own bigram field, whose postings it
 * scores. It is what a hidden evaluation's "plain character-bigram BM25" baseline does, so our lexical
 * mode can be held against it on every set; it is not a product mode.
 *
 * It ranks the same passages as the product (citizens' messages out, near-duplicates folded into one hit
 * with the same rule), so the two differ in the ranking function only.
 */
import type { KnowledgeBase, LexicalSource, Searchable } from '../kb/kb.ts';
import { LexicalIndex, foldText, type LexicalParams } from '../kb/index/lexical/lexical.ts';
import { bigramsOf } from '../kb/index/lexical/tokenizer.ts';

const OFF = { weight: 0, k1: 1.2, b: 0.75 };

export const BIGRAM_REFERENCE_PARAMS: LexicalParams = {
  words: OFF,
  bigrams: { weight: 1, k1: 1.2, b: 0.75 },
  contextWords: OFF,
  contextBigrams: OFF,
  documentWords: OFF,
  documentBigrams: OFF,
  // Every term scores, however common.
  maxDocumentFrequency: 1,
  documentLengthCap: Infinity,
};

/** `kb`'s retrieval with the reference scorer in place of the lexical one; search it with mode 'lexical'. */
export function bigramReference(kb: KnowledgeBase): Searchable {
  return {
    retrievalIndexes() {
      const inner = kb.retrievalIndexes();
      const index = inner.lexical;
      if (!(index instanceof LexicalIndex)) throw new Error('the bigram reference needs the in-memory lexical index');
      const lexical: LexicalSource = {
        search: (text, k, accept) => index.searchTerms({ words: [], bigrams: [...new Set(bigramsOf(foldText(text)))], phrases: [] }, k, accept, BIGRAM_REFERENCE_PARAMS),
        wordShare: (word) => index.wordShare(word),
        get size() {
          return index.size;
        },
      };
      const { scopeOf: _scope, partOf, ...rest } = inner;
      // Messages stay out of the ranking as in the product; a sign-off is ranked like any passage.
      return { ...rest, lexical, ...(partOf ? { partOf: (label: number) => (partOf(label) === 'message' ? 'message' : 'body') } : {}) };
    },
  };
}
