/**
 * Where Chinese sentences and clauses end, and the matching terms the answer,
 * precedent and duplicate-folding stages compare texts by. Every unit cut here
 * keeps its [start, end) offsets into the string it was cut from.
 *
 * One vocabulary of marks, composed into the few predicates the stages need.
 * The stages differ on purpose in one place: a passage unit (ingest/passages.ts)
 * ends at a clause stop ；, an answer sentence does not. A passage unit only
 * marks where a passage may be cut, and a chain of ；-clauses is better cut
 * between clauses than sliced hard; a quoted answer should be the whole
 * sentence a reader would quote, so a clause becomes the unit only past
 * LONG_SENTENCE characters.
 */
import { HAN_CLASS, QUESTION_WORDS } from './text.ts';

/** Marks that end a sentence. */
export const SENTENCE_STOPS = '。！？!?';
/** Marks that end a clause inside a sentence: government letters chain clauses with ；. */
export const CLAUSE_STOPS = '；;';
export const COLONS = '：:';
/** Commas and the enumeration comma: a line ending in one continues. */
export const PAUSES = '，,、';
export const ELLIPSIS = '…';
/** Closing quotes and brackets: right after a stop they belong to the sentence before. */
export const CLOSING_BRACKETS = '”’」』）)】》';
const CLOSERS = `${CLOSING_BRACKETS}"`;

/** A pattern for text whose last mark (closing quotes and brackets aside) is one of `marks`. */
export function endsWithMark(marks: string): RegExp {
  return new RegExp(`[${marks}][${CLOSERS}]*$`);
}

/** A pattern for text holding any of `marks`. */
export function anyMark(marks: string): RegExp {
  return new RegExp(`[${marks}]`);
}

/** A line that opens with punctuation continues the line before: no sentence starts with a comma or a closing bracket. */
export const CONTINUATION_START = new RegExp(`^[${PAUSES}${SENTENCE_STOPS}${CLAUSE_STOPS}${COLONS}${CLOSING_BRACKETS}%．.]`);

/** Where a passage unit ends (see the note at the top): sentence and clause stops, an ellipsis, a Latin full stop. */
export const PASSAGE_UNIT_END = new RegExp(`[${SENTENCE_STOPS}${CLAUSE_STOPS}${ELLIPSIS}]+[${CLOSERS}]*|\\.(?=\\s|$)`, 'g');
/** Where an over-long passage unit may still be cut: after a pause or a colon. */
export const PASSAGE_CLAUSE_END = new RegExp(`[${PAUSES}${COLONS}][${CLOSERS}]*`, 'g');

export interface TextSpan {
  text: string;
  start: number;
  end: number;
}

/** Sentence ends; a closing quote or bracket right after one belongs to the same sentence. A line break ends a sentence too. */
const SENTENCE_END = new RegExp(`[${SENTENCE_STOPS}]+[${CLOSERS}]*|\\n+`, 'g');
/** Government letters chain clauses with ；into sentences of 200+ characters; past this length a clause is a better quote. */
const LONG_SENTENCE = 160;
const CLAUSE_END = new RegExp(`[${CLAUSE_STOPS}]+[${CLOSERS}]*`, 'g');

function cut(text: string, base: number, boundary: RegExp): TextSpan[] {
  const spans: TextSpan[] = [];
  let from = 0;
  const push = (start: number, end: number) => {
    // Quotes must stay exact substrings, so trim by moving offsets, never by rewriting text.
    while (start < end && /\s/.test(text[start]!)) start++;
    while (end > start && /\s/.test(text[end - 1]!)) end--;
    if (end > start) spans.push({ text: text.slice(start, end), start: base + start, end: base + end });
  };
  boundary.lastIndex = 0;
  for (let m = boundary.exec(text); m; m = boundary.exec(text)) {
    const end = m[0].startsWith('\n') ? m.index : m.index + m[0].length;
    push(from, end);
    from = m.index + m[0].length;
  }
  push(from, text.length);
  return spans;
}

/** Split `text` (which starts at offset `base` of its document) into sentences; very long ones into clauses. */
export function splitSentences(text: string, base = 0): TextSpan[] {
  const out: TextSpan[] = [];
  for (const sentence of cut(text, base, SENTENCE_END)) {
    if (sentence.text.length > LONG_SENTENCE) out.push(...cut(sentence.text, sentence.start, CLAUSE_END));
    else out.push(sentence);
  }
  return out;
}

/** Words that make a question a question; they match nothing an answer says. */
const QUESTION_WORD = new RegExp(QUESTION_WORDS.join('|'), 'g');

const HAN = new RegExp(`[${HAN_CLASS}]`, 'u');
const TERM_RUN = new RegExp(`[${HAN_CLASS}]+|[A-Za-z0-9.%]+`, 'gu');

/**
 * Matching terms: character bigrams of Chinese runs plus whole Latin/number
 * tokens. Bigrams need no dictionary, so a sentence and a question phrased
 * with different word boundaries (留吉率 / 留吉人数) still share terms.
 */
export function termsOf(text: string): Set<string> {
  const terms = new Set<string>();
  for (const run of text.match(TERM_RUN) ?? []) {
    if (HAN.test(run)) {
      // By code point: a character outside the BMP is one character, not two halves.
      const chars = run.length === [...run].length ? run : [...run];
      if (chars.length === 1) terms.add(run);
      for (let i = 0; i + 1 < chars.length; i++) terms.add(typeof chars === 'string' ? chars.slice(i, i + 2) : chars[i]! + chars[i + 1]!);
    } else {
      const token = run.toLowerCase().replace(/^\.+|\.+$/g, '');
      if (token) terms.add(token);
    }
  }
  return terms;
}

/** Terms of a question with the interrogative words taken out. */
export function questionTerms(question: string): Set<string> {
  return termsOf(question.replace(QUESTION_WORD, ' '));
}

/** Dice overlap of two term sets, 0..1. */
export function dice(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const t of small) if (large.has(t)) shared++;
  return (2 * shared) / (a.size + b.size);
}
