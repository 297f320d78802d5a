/**
 * A proposal (提案/建议) as its drafter receives it: a title, a statement of
 * the problem, then three to six numbered suggestions (一、…二、…). A reply
 * answers suggestion by suggestion, so the precedent finder and the draft
 * work per suggestion. The numbering is the one ingest builds heading trees
 * from (kb/text/numbering.ts).
 */
import { matchEnumerator, type HeadingFamily } from '../kb/text/numbering.ts';
import type { TextSpan } from '../kb/text/sentences.ts';

export interface Suggestion extends TextSpan {
  /** 0-based position among the suggestions. */
  index: number;
  /** The numbering as the proposal wrote it (一、, （二）, 3.); absent for an unnumbered paragraph. */
  label?: string;
}

export interface ProposalOutline {
  /** The first line when it reads as a title (short, no sentence inside). */
  title?: TextSpan;
  /** What comes before the first suggestion (案由, the problem), without the title. */
  preamble?: TextSpan;
  suggestions: Suggestion[];
  /** True when the suggestions were cut at numbering, false when each paragraph became one. */
  numbered: boolean;
}

const TITLE_MAX_CHARS = 60;
/** Lines shorter than this say too little to search with ("建议：", "此致"). */
const MIN_SUGGESTION_CHARS = 6;
/**
 * A numbering family needs this many items to be the list of suggestions; a
 * proposal numbered 一、问题 二、建议 with （一）…（四） under 二 has its
 * suggestions at （一）, one numbered 一、…三、 at 一、.
 */
const MIN_LIST_ITEMS = 3;

interface Line extends TextSpan {
  family?: HeadingFamily;
  label?: string;
}

function linesOf(text: string): Line[] {
  const lines: Line[] = [];
  let offset = 0;
  for (const raw of text.split('\n')) {
    const lead = raw.length - raw.trimStart().length;
    const body = raw.trim();
    if (body) {
      const start = offset + lead;
      const match = matchEnumerator(body);
      lines.push({ text: body, start, end: start + body.length, ...(match ? { family: match.family, label: match.label } : {}) });
    }
    offset += raw.length + 1;
  }
  return lines;
}

function span(text: string, start: number, end: number): TextSpan {
  return { text: text.slice(start, end), start, end };
}

/** The family whose items are the suggestions: the shallowest one with enough items, else the shallowest with two. */
function listFamily(lines: Line[]): HeadingFamily | undefined {
  const counts = new Map<HeadingFamily, number>();
  for (const line of lines) if (line.family) counts.set(line.family, (counts.get(line.family) ?? 0) + 1);
  const families = [...counts.entries()].sort((a, b) => a[0].rank - b[0].rank);
  return (families.find(([, n]) => n >= MIN_LIST_ITEMS) ?? families.find(([, n]) => n >= 2))?.[0];
}

/** Cut a pasted proposal into its suggestions, keeping offsets into `text`. */
export function outlineProposal(text: string): ProposalOutline {
  const lines = linesOf(text);
  let rest = lines;
  let title: TextSpan | undefined;
  const first = lines[0];
  if (first && !first.family && first.text.length <= TITLE_MAX_CHARS && !/[。；;！!？?]/.test(first.text) && lines.length > 1) {
    title = span(text, first.start, first.end);
    rest = lines.slice(1);
  }
  const family = listFamily(rest);
  if (family) {
    const heads = rest.filter((line) => line.family === family);
    const firstHead = heads[0]!;
    const before = rest.filter((line) => line.start < firstHead.start);
    const suggestions = heads.map((head, index): Suggestion => {
      const next = heads[index + 1];
      // A suggestion runs to the next one, the last one to the end (its sub-items and a closing line included).
      const linesOfItem = rest.filter((line) => line.start >= head.start && (!next || line.start < next.start));
      const end = linesOfItem.at(-1)!.end;
      return { ...span(text, head.start, end), index, label: head.label! };
    });
    return {
      ...(title ? { title } : {}),
      ...(before.length > 0 ? { preamble: span(text, before[0]!.start, before.at(-1)!.end) } : {}),
      suggestions,
      numbered: true,
    };
  }
  const paragraphs = rest.filter((line) => line.text.length >= MIN_SUGGESTION_CHARS);
  return {
    ...(title ? { title } : {}),
    suggestions: (paragraphs.length > 0 ? paragraphs : rest).map((line, index) => ({ ...span(text, line.start, line.end), index })),
    numbered: false,
  };
}
