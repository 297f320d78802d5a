/**
 * Extractive answers: one to three sentences taken verbatim from the best
 * retrieved passages, each cited to the paragraph it stands in (heading path,
 * pages, offsets). Nothing is paraphrased, so every quote can be — and is —
 * checked against the stored document text before it leaves the process.
 */
import type { AnswerCitation, Paragraph, SearchHit, StoredDocument } from './types.ts';
import { dice, questionTerms, splitSentences, termsOf, type TextSpan } from './sentences.ts';
import { foldText, stripWhitespace } from './tokenizer.ts';

export interface DocumentSource {
  getDocument(id: string): StoredDocument | undefined;
}

export interface AnswerSentence {
  text: string;
  /** Numbers (`n`) of the citations this sentence carries. */
  citations: number[];
}

export interface ExtractiveAnswer {
  /** The sentences joined, each followed by its markers, e.g. "…创下了历史新高。[1]" */
  text: string;
  sentences: AnswerSentence[];
}

export type AnswerResult =
  | { answer: ExtractiveAnswer; citations: AnswerCitation[]; reason?: undefined }
  | { answer: null; citations: []; reason: string };

export interface AnswerOptions {
  /** At most this many sentences (1–3). Default 3. */
  maxSentences?: number;
  /**
   * Share of the question's (weighted) terms the best sentence must contain.
   * Below it the answer is null: an unrelated sentence quoted with a citation
   * looks authoritative and is worse than no answer.
   */
  minCoverage?: number;
  /** Further sentences must score at least this share of the best one. */
  relativeCutoff?: number;
  /**
   * The question's content words (the knowledge base's jieba analysis, question
   * words removed). Without them, character bigrams of the question are used,
   * whose cross-word pairs (生留, 在本) dilute the coverage measure.
   */
  questionWords?: string[];
}

interface Candidate {
  span: TextSpan;
  doc: StoredDocument;
  paragraph: Paragraph;
  /** Folded, whitespace-free sentence text that terms are looked up in. */
  haystack: string;
  terms: Set<string>;
  hitRank: number;
  score: number;
}

/** Roles whose sentences can answer; headings, signatures and addressees only echo the question's words. */
const ANSWERING_ROLES = new Set(['body', 'note']);
const MIN_SENTENCE_CHARS = 6;

function paragraphsIn(doc: StoredDocument, start: number, end: number): Paragraph[] {
  return doc.paragraphs.filter((p) => p.end > start && p.start < end);
}

function paragraphAt(doc: StoredDocument, offset: number): Paragraph | undefined {
  return doc.paragraphs.find((p) => offset >= p.start && offset < p.end);
}

/** Documents a collapsed hit also stands for; a few are enough to find the best-structured rendition. */
const MAX_RENDITIONS = 3;

function collectCandidates(hits: SearchHit[], docs: DocumentSource): Candidate[] {
  const seen = new Set<string>();
  const cache = new Map<string, StoredDocument | undefined>();
  const load = (id: string) => {
    if (!cache.has(id)) cache.set(id, docs.getDocument(id));
    return cache.get(id);
  };
  const candidates: Candidate[] = [];
  const add = (doc: StoredDocument, paragraph: Paragraph, span: TextSpan, hitRank: number) => {
    const key = `${doc.id}\u0000${span.start}`;
    if (seen.has(key) || span.text.length < MIN_SENTENCE_CHARS) return;
    seen.add(key);
    candidates.push({ span, doc, paragraph, haystack: comparable(span.text), terms: termsOf(span.text), hitRank, score: 0 });
  };
  hits.forEach((hit, i) => {
    const doc = load(hit.citation.documentId);
    if (!doc) return;
    const renditions = (hit.alsoIn ?? []).slice(0, MAX_RENDITIONS).map(load).filter((d): d is StoredDocument => d !== undefined);
    // A passage may begin or end mid-sentence; quote whole sentences of the paragraphs it covers.
    for (const paragraph of paragraphsIn(doc, hit.citation.start, hit.citation.end)) {
      for (const span of splitSentences(doc.text.slice(paragraph.start, paragraph.end), paragraph.start)) {
        if (span.end <= hit.citation.start || span.start >= hit.citation.end) continue;
        add(doc, paragraph, span, i + 1);
        // The same sentence in another rendition (the PDF with pages, the reply with its headings)
        // may cite better; it competes on equal terms and duplicates are dropped at selection.
        for (const other of renditions) {
          const at = other.text.indexOf(span.text);
          const where = at >= 0 ? paragraphAt(other, at) : undefined;
          if (where && at + span.text.length <= where.end) {
            add(other, where, { text: span.text, start: at, end: at + span.text.length }, i + 1);
          }
        }
      }
    }
  });
  const answering = candidates.filter((c) => ANSWERING_ROLES.has(c.paragraph.role));
  return answering.length > 0 ? answering : candidates;
}

/**
 * Terms frequent among the candidates (吉林 in a Jilin reply) say little about
 * which sentence answers; rare ones (留吉率) say much. Weights are computed over
 * the candidate pool because that is the only collection at hand here.
 */
function termWeights(question: Iterable<string>, candidates: Candidate[]): Map<string, number> {
  const weights = new Map<string, number>();
  const n = candidates.length;
  for (const term of question) {
    let df = 0;
    for (const c of candidates) if (c.haystack.includes(term)) df++;
    // A word no candidate contains (采取 in 采取了哪些措施) frames the question rather than naming its
    // subject; weighting it as the rarest word would sink every candidate's coverage.
    df = Math.max(df, 1);
    // Longer words are more specific (留吉率 against 留): a mild length factor on top of rarity.
    weights.set(term, Math.log(1 + (n + 1) / (df + 0.5)) * Math.sqrt(Math.min(term.length, 4)));
  }
  return weights;
}

/** Full-width folded, lower-cased, whitespace removed: how terms and sentences are compared. */
function comparable(text: string): string {
  return stripWhitespace(foldText(text));
}

function coverageOf(candidate: Candidate, weights: Map<string, number>, totalWeight: number): number {
  let matched = 0;
  for (const [term, w] of weights) if (candidate.haystack.includes(term)) matched += w;
  return totalWeight > 0 ? matched / totalWeight : 0;
}

/** Courtesy formulas of reply letters: they echo the proposal's topic and answer nothing. */
const COURTESY = /感谢|欢迎(继续|再次)|此复|特此(答复|函复|通知)|敬请|谢谢|关心和支持|联系人|联系电话/;
/** A sentence-final mark; a "sentence" without one is a title or heading line that slipped into a body paragraph. */
const ENDS_LIKE_SENTENCE = /[。！？!?；;…][”’」』）)】]*$/;

/** How precisely a citation can say where it stands: a heading path counts more than a page. */
function whereQuality(c: Candidate): number {
  return (c.paragraph.headingPath.length > 0 ? 2 : 0) + (c.paragraph.pages ? 1 : 0);
}

function score(candidate: Candidate, weights: Map<string, number>, totalWeight: number): number {
  // Retrieval order breaks near-ties; very long sentences carry more chance matches, so they pay a little.
  const rankBonus = 0.04 / candidate.hitRank;
  const lengthPenalty = Math.max(0, candidate.span.text.length - 120) / 2000;
  const formPenalty = (COURTESY.test(candidate.span.text) ? 0.3 : 0) + (ENDS_LIKE_SENTENCE.test(candidate.span.text) ? 0 : 0.15);
  return coverageOf(candidate, weights, totalWeight) + rankBonus - lengthPenalty - formPenalty;
}

function citationFor(n: number, c: Candidate): AnswerCitation {
  return {
    n,
    documentId: c.doc.id,
    title: c.doc.title,
    headingPath: c.paragraph.headingPath,
    ...(c.paragraph.pages ? { pages: c.paragraph.pages } : {}),
    start: c.span.start,
    end: c.span.end,
    quote: c.span.text,
  };
}

/** Build an extractive answer to `question` from ranked `hits` (best first). */
export function extractAnswer(
  question: string,
  hits: SearchHit[],
  docs: DocumentSource,
  options: AnswerOptions = {},
): AnswerResult {
  const maxSentences = Math.min(3, Math.max(1, options.maxSentences ?? 3));
  const minCoverage = options.minCoverage ?? 0.3;
  const relativeCutoff = options.relativeCutoff ?? 0.75;

  const qTerms = new Set(
    options.questionWords && options.questionWords.length > 0
      ? options.questionWords.map(comparable).filter(Boolean)
      : questionTerms(question),
  );
  if (qTerms.size === 0) return { answer: null, citations: [], reason: '问题中没有可用于检索的词语' };
  if (hits.length === 0) return { answer: null, citations: [], reason: '知识库中没有找到与问题相关的段落' };

  const candidates = collectCandidates(hits, docs);
  if (candidates.length === 0) return { answer: null, citations: [], reason: '检索到的段落无法读取原文' };
  const weights = termWeights(qTerms, candidates);
  const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0);
  for (const c of candidates) c.score = score(c, weights, totalWeight);
  candidates.sort((a, b) => b.score - a.score || a.hitRank - b.hitRank || a.span.start - b.span.start);

  const best = candidates[0]!;
  const bestCoverage = coverageOf(best, weights, totalWeight);
  if (bestCoverage < minCoverage) {
    return {
      answer: null,
      citations: [],
      reason: `没有足够相关的句子：最相关的句子只覆盖了问题中 ${Math.round(bestCoverage * 100)}% 的关键词`,
    };
  }

  const chosen: Candidate[] = [best];
  for (const c of candidates.slice(1)) {
    // The same sentence in the PDF and the DOCX of one reply is one piece of evidence, not two;
    // cite the rendition that can say where it stands (heading, page).
    const twin = chosen.findIndex((k) => k.span.text === c.span.text || dice(k.terms, c.terms) > 0.8);
    if (twin >= 0) {
      if (c.span.text === chosen[twin]!.span.text && whereQuality(c) > whereQuality(chosen[twin]!)) chosen[twin] = c;
      continue;
    }
    if (chosen.length >= maxSentences) continue;
    if (c.score < best.score * relativeCutoff) continue;
    if (coverageOf(c, weights, totalWeight) < minCoverage || c.score < minCoverage) continue;
    chosen.push(c);
  }

  const citations = chosen.map((c, i) => citationFor(i + 1, c));
  const sentences = citations.map((c) => ({ text: c.quote, citations: [c.n] }));
  return {
    answer: { text: sentences.map((s) => `${s.text}[${s.citations.join('][')}]`).join(''), sentences },
    citations,
  };
}

/** Every citation whose quote is not the stored text at [start, end), described in words. Empty when all hold. */
export function verifyCitations(citations: AnswerCitation[], docs: DocumentSource): string[] {
  const problems: string[] = [];
  for (const c of citations) {
    const doc = docs.getDocument(c.documentId);
    if (!doc) problems.push(`[${c.n}] ${c.documentId}: 文档不存在`);
    else if (doc.text.slice(c.start, c.end) !== c.quote) problems.push(`[${c.n}] ${c.documentId}@${c.start}-${c.end}: 引文与原文不一致`);
  }
  return problems;
}
