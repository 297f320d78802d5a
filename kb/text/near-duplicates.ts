/**
 * Near-duplicate texts: the same passage, sentence or document in two
 * renditions (the PDF and the DOCX of one reply, a web copy of a notice) or
 * with extraction noise (a dropped character, other spacing or punctuation).
 * Retrieval folds such passages into one hit, the answer stage quotes such a
 * sentence once, the precedent finder shows such documents as one precedent;
 * all three ask this module, so "the same text" means one thing.
 *
 * The measure is the Dice overlap of the texts' matching terms (Chinese
 * character bigrams, Latin and number tokens — termsOf), which ignores
 * whitespace, punctuation and width. The threshold was 0.8 in the answer and
 * precedent stages and a trigram Jaccard of 0.85 in retrieval (≈ bigram Dice
 * 0.9); 0.85 sits between: one changed character in a 30-character sentence
 * (Dice ≈ 0.93) is a duplicate, a sentence that shares a boilerplate
 * half with another (Dice ≈ 0.6) is not.
 */
import { dice, termsOf } from './sentences.ts';
import { contentKey } from './text.ts';

export const NEAR_DUPLICATE_DICE = 0.85;

/** What near-duplicate detection compares a text by; compute it once per text. */
export interface TextFingerprint {
  /** The exact content (contentKey): equal keys are the same text. */
  key: string;
  terms: Set<string>;
}

export function fingerprint(text: string): TextFingerprint {
  return { key: contentKey(text), terms: termsOf(text) };
}

/** Same text, or near enough (see the module note). */
export function nearDuplicate(a: TextFingerprint, b: TextFingerprint): boolean {
  return a.key === b.key || dice(a.terms, b.terms) >= NEAR_DUPLICATE_DICE;
}
