/**
 * Sentences and matching terms for the answer and precedent stages. Both work
 * on spans of a stored document's text, so every unit here keeps its
 * [start, end) offsets into the string it was cut from.
 */
import { HAN_CLASS, QUESTION_WORDS } from './text.ts';

export interface TextSpan {
  text: string;
  start: number;
  end: number;
}

/** Chinese sentence ends; a closing quote or bracket right after one belongs to the same sentence. */
const SENTENCE_END = /[。！？!?]+[”’」』）)】]*|\n+/g;
/** Government letters chain clauses with ；into sentences of 200+ characters; past this length a clause is a better quote. */
const LONG_SENTENCE = 160;
const CLAUSE_END = /[；;]+[”’」』）)】]*/g;

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

const HAN = new RegExp(`[${HAN_CLASS}]`);
const TERM_RUN = new RegExp(`[${HAN_CLASS}]+|[A-Za-z0-9.%]+`, 'g');

/**
 * Matching terms: character bigrams of Chinese runs plus whole Latin/number
 * tokens. Bigrams need no dictionary, so a sentence and a question phrased
 * with different word boundaries (留吉率 / 留吉人数) still share terms.
 */
export function termsOf(text: string): Set<string> {
  const terms = new Set<string>();
  for (const run of text.match(TERM_RUN) ?? []) {
    if (HAN.test(run[0]!)) {
      if (run.length === 1) terms.add(run);
      for (let i = 0; i + 1 < run.length; i++) terms.add(run.slice(i, i + 2));
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
