/**
 * A first draft of the reply to a proposal: the letter's parts (title, 文号,
 * addressee, opening, closing) as placeholders the drafter fills in, and one
 * section per suggestion in the proposal's own numbering, holding the best
 * precedent paragraphs to adapt. Purely extractive: every quoted paragraph is
 * verbatim from an earlier reply and carries its source, so nothing old is
 * passed off as new text.
 */
import type { Citation } from '../kb/types.ts';
import { CN_NUMERAL, matchEnumerator } from '../kb/text/numbering.ts';
import type { DocumentSource } from './answer.ts';
import type { PrecedentExcerpt, PrecedentsResult } from './precedents.ts';
import type { Suggestion } from './suggestions.ts';
import type { GeneratedSentence } from './generate.ts';

/** A section rewritten in prose by the LLM (search/draft-rewrite.ts), its sentences cited. */
export interface SectionRewrite {
  model: string;
  sentences: GeneratedSentence[];
  /** Markers naming no precedent of the section. */
  invalidCitations: number[];
}

export interface DraftQuote {
  /** Verbatim text of the cited source at `citation`. */
  text: string;
  citation: Citation;
  /** 《标题》 第X页, or 《标题》 with the section it is in when the source has no pages. */
  source: string;
  coverage: number;
}

export interface DraftSection {
  suggestion: Suggestion;
  /** 一、关于“…”的建议: the proposal's numbering, the suggestion's gist. */
  heading: string;
  quotes: DraftQuote[];
  /** The model's smoothed paragraph (only with KB_LLM_* and rewrite requested). */
  rewrite?: SectionRewrite;
  /** Why the model gave no rewrite for this section. */
  rewriteError?: string;
}

export interface Draft {
  title: string;
  /** The proposal's title as the opening line names it. */
  proposalTitle: string;
  docNumber: string;
  addressee: string;
  opening: string;
  sections: DraftSection[];
  closing: string;
  signature: string;
  date: string;
  /** A file name for the draft, without extension. */
  fileStem: string;
}

/** Precedents below this coverage share too little with the suggestion to be worth adapting. */
export const DRAFT_MIN_COVERAGE = 0.2;
/** Precedent paragraphs per section: the best, and one more from another reply to compare. */
const QUOTES_PER_SECTION = 2;
const GIST_MAX_CHARS = 30;
const NUMERALS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一', '十二', '十三', '十四', '十五', '十六', '十七', '十八', '十九', '二十'];
const TOP_LEVEL = new RegExp(`^${CN_NUMERAL}{1,3}、$`);

export function sourceLabel(excerpt: Pick<PrecedentExcerpt, 'title' | 'citation'>): string {
  const { pages, headingPath } = excerpt.citation;
  if (pages) return `《${excerpt.title}》 ${pages[0] === pages[1] ? `第${pages[0]}页` : `第${pages[0]}–${pages[1]}页`}`;
  return headingPath.length > 0 ? `《${excerpt.title}》 ${headingPath.join(' › ')}` : `《${excerpt.title}》`;
}

/** What a suggestion asks for, in a few words: its first sentence without numbering and 建议 phrasing. */
export function suggestionGist(suggestion: Suggestion): string {
  const body = suggestion.text.slice(matchEnumerator(suggestion.text)?.label.length ?? 0).trim();
  const first = body.split(/[。；;！!？?\n]/)[0]!.trim();
  const gist = first.replace(/^(建议|要|应当|应)/, '').replace(/[，,：:、]+$/, '');
  return gist.length > GIST_MAX_CHARS ? `${gist.slice(0, GIST_MAX_CHARS)}…` : gist;
}

function sectionLabel(suggestion: Suggestion): string {
  // A reply answers at the top level: 一、 whatever the proposal numbered with (（一）, 1.).
  if (suggestion.label && TOP_LEVEL.test(suggestion.label)) return suggestion.label;
  return `${NUMERALS[suggestion.index] ?? String(suggestion.index + 1)}、`;
}

export function buildDraft(result: PrecedentsResult, docs: DocumentSource): Draft {
  const proposalTitle = result.outline.title?.text.replace(/^《|》$/g, '') ?? '';
  const sections = result.bySuggestion.map(({ suggestion, precedents }): DraftSection => {
    const quotes: DraftQuote[] = [];
    for (const excerpt of precedents) {
      if (quotes.length >= QUOTES_PER_SECTION || excerpt.coverage < DRAFT_MIN_COVERAGE) break;
      if (quotes.some((q) => q.citation.documentId === excerpt.documentId)) continue;
      // Quote what the store holds at the cited range, nothing else.
      if (docs.documentText(excerpt.documentId, excerpt.citation) !== excerpt.text) continue;
      quotes.push({ text: excerpt.text, citation: excerpt.citation, source: sourceLabel(excerpt), coverage: excerpt.coverage });
    }
    return { suggestion, heading: `${sectionLabel(suggestion)}关于“${suggestionGist(suggestion)}”的建议`, quotes };
  });
  const named = proposalTitle ? `《${proposalTitle}》` : '的提案';
  return {
    title: proposalTitle ? `对${named}的答复` : '对XX提案的答复',
    proposalTitle,
    docNumber: 'XX〔XXXX〕XX号',
    addressee: 'XX委员：',
    opening: `您提出的${named}收悉。经认真研究，现答复如下：`,
    sections,
    closing: '感谢您对我们工作的关心和支持。',
    signature: '（答复单位）',
    date: 'XXXX年X月X日',
    fileStem: `答复初稿-${(proposalTitle || '提案').replace(/[\\/:*?"<>|]/g, '_').slice(0, 40)}`,
  };
}
