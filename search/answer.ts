/**
 * Extractive answers: one to three sentences taken verbatim from the best
 * retrieved passages, each cited to the paragraph it stands in (heading path,
 * pages, offsets). Nothing is paraphrased, so every quote can be — and is —
 * checked against the stored document text before it leaves the process.
 */
import type { AnswerCitation, Paragraph, SearchHit, StoredDocument } from '../kb/types.ts';
import { fingerprint, nearDuplicate, type TextFingerprint } from '../kb/text/near-duplicates.ts';
import { ENUMERATES, LIST_ITEM } from '../kb/text/numbering.ts';
import { CLAUSE_STOPS, COLONS, ELLIPSIS, endsWithMark, questionTerms, SENTENCE_STOPS, splitSentences, type TextSpan } from '../kb/text/sentences.ts';
import { TermRarity } from '../kb/index/lexical/term-rarity.ts';
import { comparable } from '../kb/text/text.ts';

export interface DocumentSource {
  getDocument(id: string): StoredDocument | undefined;
}

/** `source.getDocument`, each id read once: several hits and renditions name the same document. */
export function documentLoader(source: DocumentSource): (id: string) => StoredDocument | undefined {
  const cache = new Map<string, StoredDocument | undefined>();
  return (id) => {
    if (!cache.has(id)) cache.set(id, source.getDocument(id));
    return cache.get(id);
  };
}

export interface AnswerSentence {
  text: string;
  /** Numbers (`n`) of the citations this sentence carries. */
  citations: number[];
  /**
   * True for text that only completes the sentence before it: the items of a
   * list the sentence introduces (…下列条件：), or what follows a sentence that
   * merely restates the question. Not counted among the one to three sentences.
   */
  continuation?: true;
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
  /** General-usage rarity of words; default jieba's tables (loaded once per process). */
  rarity?: TermRarity;
}

/** The kind of fact a question asks for, read from its wording. */
export type FactType = 'number' | 'date' | 'list';

interface Candidate {
  span: TextSpan;
  doc: StoredDocument;
  paragraph: Paragraph;
  /** Folded, whitespace-free sentence text that terms are looked up in. */
  haystack: string;
  fingerprint: TextFingerprint;
  hitRank: number;
  score: number;
  /** The question's distinctive terms this sentence's document (text or title) contains. */
  docTerms: Set<string>;
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
  const load = documentLoader(docs);
  const candidates: Candidate[] = [];
  const add = (doc: StoredDocument, paragraph: Paragraph, span: TextSpan, hitRank: number) => {
    const key = quoteKey({ doc, span, paragraph });
    if (seen.has(key) || span.text.length < MIN_SENTENCE_CHARS) return;
    seen.add(key);
    candidates.push({ span, doc, paragraph, haystack: comparable(span.text), fingerprint: fingerprint(span.text), hitRank, score: 0, docTerms: new Set() });
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
  return (answering.length > 0 ? answering : candidates).filter((c) => !isFiller(c.span.text));
}

/**
 * The set phrases of a reply letter (收悉, 现答复如下, 感谢您对…的关心和支持):
 * they repeat the proposal's title and topic, so they match a question well,
 * and they answer nothing. Never quoted as an answer.
 */
const FILLER = [
  /收悉/,
  /(答复|回复|函复|说明)如下/,
  /感谢.{0,40}(关心|关注|支持|理解|监督)/,
  /^(此复|特此(答复|函复|回复|说明))/,
  /^[（(]?联系(人|电话|方式)[:：]/,
  /欢迎.{0,12}(继续|再次|多提)/,
  /敬请.{0,8}(谅解|理解|指正)/,
  /^(谢谢|再次感谢|衷心感谢)/,
  // The covering line of a 印发/转发 notice (…已经市人民政府同意，现印发给你们，请认真贯彻执行) names the attachment, not its content.
  /现(将.{0,40})?(印发|转发)给你们/,
  /请(认真)?(遵照|贯彻)执行/,
];

export function isFiller(sentence: string): boolean {
  return FILLER.some((re) => re.test(sentence));
}

/** Read from the question's wording; the first match wins (什么时候 asks for a date even where 多少 appears too). */
export function factTypeOf(question: string): FactType | undefined {
  if (/何时|什么时候|什么时间|哪天|哪年|哪一年|几月|几号|哪一天|何日|日期|截止时间|时间节点/.test(question)) return 'date';
  if (/多少|几[个项种条名家所次年天倍成岁人万亿]|多大|多高|多长|多久|比例|比率|[^效]率|金额|数额|数量|人数|标准是|额度/.test(question)) return 'number';
  if (/哪些|哪几|什么条件|何种条件|条件是什么|条件有|包括什么|包括哪|内容是什么|要求是什么|有何要求|措施有/.test(question)) return 'list';
  return undefined;
}

const HAS_NUMBER = /\d|[%％‰]|百分之|[一二两三四五六七八九十百千万亿]+(个|项|家|所|名|人|元|万|亿|倍|次|条|批|部|辆|吨|天|年|月|成|岁)/;
const HAS_DATE = /(\d{4}|[〇○零一二三四五六七八九]{4})年|\d{1,2}月|\d{1,2}日|年底|年初|年内|年末|月底|月初|上半年|下半年/;
const HAS_LIST = new RegExp(`、[^、]+、|${ENUMERATES.source}|[${CLAUSE_STOPS}]|[${COLONS}]$`);

/** Whether a sentence carries the kind of fact asked for. */
export function carriesFact(sentence: string, type: FactType): boolean {
  return (type === 'number' ? HAS_NUMBER : type === 'date' ? HAS_DATE : HAS_LIST).test(sentence);
}

/**
 * Terms frequent among the candidates (吉林 in a Jilin reply) say little about
 * which sentence answers; rare ones (留吉率) say much. Weights are computed over
 * the candidate pool because that is the only collection at hand here.
 */
function termWeights(question: Iterable<string>, candidates: Candidate[], rarity: TermRarity): Map<string, number> {
  const weights = new Map<string, number>();
  const n = candidates.length;
  for (const term of question) {
    let df = 0;
    for (const c of candidates) if (c.haystack.includes(term)) df++;
    // A word no candidate contains (采取 in 采取了哪些措施) frames the question rather than naming its
    // subject; weighting it as the rarest word would sink every candidate's coverage.
    df = Math.max(df, 1);
    // Longer words are more specific (留吉率 against 留): a mild length factor on top of rarity.
    // General usage says what the pool cannot: 情况 and 采取 are everywhere, 吉林省 and 留吉率 name a subject.
    const general = rarity.isDistinctive(term) ? 1.5 : Math.min(1.5, Math.max(0.5, (rarity.idf(term) ?? rarity.medianIdf) / 8));
    weights.set(term, Math.log(1 + (n + 1) / (df + 0.5)) * Math.sqrt(Math.min(term.length, 4)) * general);
  }
  return weights;
}

/** Credit for a distinctive term the sentence's document names elsewhere (its title, the paragraph before). */
const DOCUMENT_CREDIT = 0.5;

function coverageOf(candidate: Candidate, weights: Map<string, number>, totalWeight: number): number {
  let matched = 0;
  for (const [term, w] of weights) {
    if (candidate.haystack.includes(term)) matched += w;
    else if (candidate.docTerms.has(term)) matched += w * DOCUMENT_CREDIT;
  }
  return totalWeight > 0 ? matched / totalWeight : 0;
}

/** Courtesy formulas of reply letters: they echo the proposal's topic and answer nothing. */
const COURTESY = /感谢|欢迎(继续|再次)|此复|特此(答复|函复|通知)|敬请|谢谢|关心和支持|联系人|联系电话/;
/** A sentence-final mark; a "sentence" without one is a title or heading line that slipped into a body paragraph. */
const ENDS_LIKE_SENTENCE = endsWithMark(SENTENCE_STOPS + CLAUSE_STOPS + ELLIPSIS + COLONS);
/** A sentence that is complete in itself: no trailing colon or ellipsis leaving it open. */
const CLOSED_SENTENCE = endsWithMark(SENTENCE_STOPS + CLAUSE_STOPS);

/** How precisely a citation can say where it stands: a heading path counts more than a page. */
function whereQuality(c: Candidate): number {
  return (c.paragraph.headingPath.length > 0 ? 2 : 0) + (c.paragraph.pages ? 1 : 0);
}

/** Added to a sentence that carries the kind of fact asked for (a number for 多少, a date for 何时). */
const FACT_BONUS = 0.12;

function score(candidate: Candidate, weights: Map<string, number>, totalWeight: number, factType: FactType | undefined): number {
  // Retrieval order breaks near-ties; very long sentences carry more chance matches, so they pay a little.
  const rankBonus = 0.04 / candidate.hitRank;
  const lengthPenalty = Math.max(0, candidate.span.text.length - 120) / 2000;
  const formPenalty = (COURTESY.test(candidate.span.text) ? 0.3 : 0) + (ENDS_LIKE_SENTENCE.test(candidate.span.text) ? 0 : 0.15);
  const factBonus = factType && carriesFact(candidate.span.text, factType) ? FACT_BONUS : 0;
  return coverageOf(candidate, weights, totalWeight) + rankBonus + factBonus - lengthPenalty - formPenalty;
}

function citationFor(n: number, c: Quoted): AnswerCitation {
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

/** A list brought after its …如下： sentence is cut here; the citation markers still lead to the rest. */
const LIST_CAP = 600;
const LIST_MAX_ITEMS = 12;
/** What may follow a sentence that only restates the question. */
const ECHO_CAP = 300;
const ECHO_MAX_CHARS = 60;
const ECHO_NOVELTY = 0.3;

interface Quoted {
  span: TextSpan;
  doc: StoredDocument;
  paragraph: Paragraph;
}

/** Identifies a sentence by where it starts in which document. */
function quoteKey(q: Quoted): string {
  return `${q.doc.id}\u0000${q.span.start}`;
}

/** The sentences after `c` in reading order within its section: the rest of its paragraph, then the following body paragraphs. */
function* followingInSection(c: Quoted): Generator<Quoted & { newParagraph: boolean }> {
  const paragraphs = c.doc.paragraphs;
  const at = paragraphs.indexOf(c.paragraph);
  if (at < 0) return;
  const section = c.paragraph.headingPath;
  for (let i = at; i < paragraphs.length; i++) {
    const p = paragraphs[i]!;
    if (i > at) {
      if (!ANSWERING_ROLES.has(p.role)) return;
      // A deeper heading path is still this section (第五条 under 第二章); a sibling or a parent is not.
      if (p.headingPath.length < section.length || section.some((h, k) => p.headingPath[k] !== h)) return;
    }
    let first = true;
    for (const span of splitSentences(c.doc.text.slice(p.start, p.end), p.start)) {
      if (i === at && span.start <= c.span.start) continue;
      yield { span, doc: c.doc, paragraph: p, newParagraph: i > at && first };
      first = false;
    }
  }
}

/** Share of a sentence's characters that the question's terms do not account for. */
function novelty(c: Candidate, weights: Map<string, number>): number {
  const covered = new Uint8Array(c.haystack.length);
  for (const term of weights.keys()) {
    for (let at = c.haystack.indexOf(term); at >= 0; at = c.haystack.indexOf(term, at + 1)) covered.fill(1, at, at + term.length);
  }
  const content = [...c.haystack].filter((ch) => /[\p{L}\p{N}]/u.test(ch)).length;
  const coveredCount = covered.reduce((a, b) => a + b, 0);
  return content > 0 ? Math.max(0, content - coveredCount) / content : 0;
}

/**
 * Text that completes a chosen sentence, verbatim from the same section: the
 * items of a list it introduces (…应当同时具备下列条件：), or, when it only
 * restates the question (（一）广西壮族自治区红十字会接收捐款账户信息。), what
 * follows it.
 */
function continuationOf(c: Candidate, weights: Map<string, number>): Quoted[] {
  const out: Quoted[] = [];
  if (/[：:]$/.test(c.span.text)) {
    let length = c.span.text.length;
    for (const next of followingInSection(c)) {
      if (out.length >= LIST_MAX_ITEMS || length + next.span.text.length > LIST_CAP || isFiller(next.span.text)) break;
      // The first paragraph after a colon is its list; later ones must open an item of their own.
      if (out.length > 0 && next.newParagraph && !LIST_ITEM.test(next.span.text)) break;
      out.push(next);
      length += next.span.text.length;
    }
    return out;
  }
  if (c.span.text.length <= ECHO_MAX_CHARS && novelty(c, weights) < ECHO_NOVELTY) {
    let added = 0;
    for (const next of followingInSection(c)) {
      if (added + next.span.text.length > ECHO_CAP || isFiller(next.span.text)) break;
      // Plain-text pages run headings and letterheads into the body; only a real sentence completes an echo.
      if (!CLOSED_SENTENCE.test(next.span.text) || next.span.text.length < 10) break;
      out.push(next);
      added += next.span.text.length;
      if (added >= 40 || out.length >= 2) break;
    }
  }
  return out;
}

/**
 * The places and organisations a question names (吉林省, 国务院), each with the
 * shorter names it contains (吉林省 → 吉林) that also name it. A name inside a
 * longer word of the question is no name there (交通部 in 交通部门).
 */
function namedSubjects(qTerms: Set<string>, rarity: TermRarity): Array<{ term: string; forms: string[] }> {
  const words = [...qTerms];
  const names = words.filter((t) => t.length >= 2 && rarity.isName(t));
  return names
    .filter((t) => !words.some((o) => o !== t && o.includes(t) && !rarity.isName(o)))
    .filter((t) => !names.some((o) => o !== t && o.includes(t)))
    .map((term) => ({ term, forms: names.filter((o) => term.includes(o)) }));
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
  const rarity = options.rarity ?? TermRarity.shared();

  const qTerms = new Set(
    options.questionWords && options.questionWords.length > 0
      ? options.questionWords.map(comparable).filter(Boolean)
      : questionTerms(question),
  );
  if (qTerms.size === 0) return { answer: null, citations: [], reason: '问题中没有可用于检索的词语' };
  if (hits.length === 0) return { answer: null, citations: [], reason: '知识库中没有找到与问题相关的段落' };

  const candidates = collectCandidates(hits, docs);
  if (candidates.length === 0) return { answer: null, citations: [], reason: '检索到的段落中没有可以作答的句子（只有标题、落款或客套语）' };

  // A question that names a place or an organisation (吉林) asks about that subject; a sentence about
  // another province that shares every other word (留省率 for 留吉率) would be quoted as if it answered.
  // Coined terms (留吉率) only weigh more: 疫情防控 is as unknown to general text and is no subject.
  const groups = namedSubjects(qTerms, rarity);
  if (groups.length > 0) {
    const docText = new Map<string, string>();
    for (const c of candidates) {
      let text = docText.get(c.doc.id);
      if (text === undefined) docText.set(c.doc.id, (text = comparable(`${c.doc.title ?? ''}\n${c.doc.text}`)));
      for (const g of groups) for (const form of g.forms) if (text.includes(form)) c.docTerms.add(form);
    }
    const missing = groups.filter((g) => !candidates.some((c) => g.forms.some((f) => c.docTerms.has(f))));
    if (missing.length > 0) {
      const named = missing.map((g) => `“${g.term}”`).join('、');
      return {
        answer: null,
        citations: [],
        reason: `知识库中没有关于${named}的内容：检索到的文件都没有提到${named}，其中的句子不能当作对这个问题的回答`,
      };
    }
  }

  const factType = factTypeOf(question);
  const weights = termWeights(qTerms, candidates, rarity);
  const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0);
  for (const c of candidates) c.score = score(c, weights, totalWeight, factType);
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
    const twin = chosen.findIndex((k) => k.span.text === c.span.text || nearDuplicate(k.fingerprint, c.fingerprint));
    if (twin >= 0) {
      if (c.span.text === chosen[twin]!.span.text && whereQuality(c) > whereQuality(chosen[twin]!)) chosen[twin] = c;
      continue;
    }
    if (chosen.length >= maxSentences) continue;
    if (c.score < best.score * relativeCutoff) continue;
    if (coverageOf(c, weights, totalWeight) < minCoverage || c.score < minCoverage) continue;
    chosen.push(c);
  }

  const used = new Set<string>();
  const quoted: Array<Quoted & { continuation: boolean }> = [];
  for (const c of chosen) {
    if (used.has(quoteKey(c))) continue;
    used.add(quoteKey(c));
    quoted.push({ ...c, continuation: false });
    for (const next of continuationOf(c, weights)) {
      if (used.has(quoteKey(next))) break;
      used.add(quoteKey(next));
      quoted.push({ ...next, continuation: true });
    }
  }

  const citations = quoted.map((q, i) => citationFor(i + 1, q));
  const sentences: AnswerSentence[] = citations.map((c, i) => ({ text: c.quote, citations: [c.n], ...(quoted[i]!.continuation ? { continuation: true as const } : {}) }));
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
