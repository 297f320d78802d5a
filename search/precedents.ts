/**
 * The precedent finder: given a new proposal (or a stored document), which
 * earlier documents answered something like it, and where. The query is cut
 * into parts (sentences, short ones merged), each part is retrieved on its
 * own, and documents are ranked by how consistently they rank high across the
 * parts — a reply that addresses most points of a proposal beats one that
 * shares a single striking phrase. Each precedent comes with aligned pairs:
 * a part of the query beside the paragraph of the precedent most like it.
 */
import type {
  Citation,
  DocumentKind,
  DocumentPage,
  Paragraph,
  RetrievalMode,
  SearchFilters,
  SearchHit,
  DocumentExcerpt,
} from '../kb/types.ts';
import { excerptText, type Searchable } from '../kb/kb.ts';
import { documentLoader, type DocumentSource } from './answer.ts';
import { search } from './retrieve.ts';
import { dice, splitSentences, termsOf, type TextSpan } from '../kb/text/sentences.ts';
import { fingerprint, nearDuplicate, type TextFingerprint } from '../kb/text/near-duplicates.ts';
import { HAN_CLASS } from '../kb/text/text.ts';
import { answersNothing, substantiveSentences } from '../kb/text/courtesy.ts';
import { matchEnumerator } from '../kb/text/numbering.ts';
import { outlineProposal, type ProposalOutline, type Suggestion } from './suggestions.ts';
import { ownPassages, SimilarityScorer, type VectorSource } from './similarity.ts';

/** A knowledge base as the precedent finder reads it: searchable, its documents, and (with a model) their passage vectors. */
export interface SearchSource extends DocumentSource, Searchable, Partial<VectorSource> {
  /** Share of the passages that hold `word` (0..1): KnowledgeBase.wordShare. */
  wordShare(word: string): number;
}

export interface QueryPart extends TextSpan {
  index: number;
}

export interface AlignedPair {
  /** The part of the query. */
  query: QueryPart;
  /** The precedent's paragraph most like it. */
  match: {
    text: string;
    paragraphIndex: number;
    citation: Citation;
    /** Rank of this precedent in the part's own retrieval, 1-based. */
    rank: number;
    /** Term overlap (Dice over character bigrams) of the part and the paragraph, 0..1. */
    overlap: number;
  };
}

export interface SimilarDocument {
  documentId: string;
  title: string;
  kind: DocumentKind;
  issuer?: string;
  date?: string;
  /**
   * 0..1: the mean over query parts of (c+1)/(c+rank) (0 where not retrieved),
   * averaged with the same measure for the whole text; 1 = ranked first everywhere.
   */
  score: number;
  /**
   * 0..1, absolute: the calibrated probability that this document answers the same problem as the
   * query (search/similarity.ts). Present when the embedding model has a fitted curve.
   */
  similarity?: number;
  /** How many query parts retrieved this document. */
  matchedParts: number;
  /** Other documents holding the same text (the PDF and DOCX of one reply): one precedent, not several. */
  alsoIn?: string[];
  pairs: AlignedPair[];
}

export interface SimilarResult {
  parts: QueryPart[];
  documents: SimilarDocument[];
  mode: RetrievalMode;
  lexicalOnly: boolean;
  notice?: string;
  tookMs: number;
}

export interface SimilarOptions {
  /** Documents to return. Default 10. */
  k?: number;
  /** Passages retrieved per query part. Default 30. */
  perPartK?: number;
  mode?: RetrievalMode;
  filters?: SearchFilters;
  /** Leave this document out (the one the query came from). */
  excludeDocumentId?: string;
  /** Query parts at most; longer texts get adjacent sentences merged. Default 40. */
  maxParts?: number;
  /** Part retrievals at most; more parts are retrieved in groups of neighbours. Default MAX_PART_RETRIEVALS. */
  maxRetrievals?: number;
  /** Pairs shown per document at most. Default 12. */
  maxPairs?: number;
}

/** Sentences shorter than this say too little alone (称谓, 此致) and are merged with the next. */
const MIN_PART_CHARS = 12;
/** Rank damping: small so that first places dominate, unlike retrieval fusion where depth matters. */
const RANK_DAMPING = 4;
/** A sentence with none of these (a row of dashes, a lone bracket) says nothing to retrieve with. */
const CONTENT_CHARACTER = new RegExp(`[${HAN_CLASS}A-Za-z0-9]`, 'u');

/** Cut a query into parts, keeping offsets into `text`. */
export function splitQuery(text: string, maxParts = 40): QueryPart[] {
  const sentences = splitSentences(text).filter((s) => CONTENT_CHARACTER.test(s.text));
  const merged: TextSpan[] = [];
  let pending: TextSpan | undefined;
  for (const s of sentences) {
    const joined: TextSpan = pending ? { text: text.slice(pending.start, s.end), start: pending.start, end: s.end } : s;
    if (joined.text.length < MIN_PART_CHARS) pending = joined;
    else {
      merged.push(joined);
      pending = undefined;
    }
  }
  if (pending) {
    const last = merged.pop();
    merged.push(last ? { text: text.slice(last.start, pending.end), start: last.start, end: pending.end } : pending);
  }
  // Too many parts: merge neighbours evenly so the whole text is still covered.
  let parts = merged;
  while (parts.length > maxParts) {
    const next: TextSpan[] = [];
    for (let i = 0; i < parts.length; i += 2) {
      const a = parts[i]!;
      const b = parts[i + 1];
      next.push(b ? { text: text.slice(a.start, b.end), start: a.start, end: b.end } : a);
    }
    parts = next;
  }
  return parts.map((p, index) => ({ ...p, index }));
}

interface Accumulator {
  /** The document the first hit is in: the one shown, its renditions in `alsoIn`. */
  documentId: string;
  hit: SearchHit;
  rankScores: number;
  wholeScore: number;
  /** Query parts whose retrieval (their own, or their group's) found this document. */
  matchedParts: number;
  /** What each group's retrieval found of it: aligned into pairs only if the document is shown. */
  found: Array<{ group: PartGroup; hit: SearchHit; rank: number }>;
  alsoIn: Set<string>;
}

/**
 * Share of the score from retrieving with the whole text at once. Short
 * citizen messages are one thought, and the whole-text ranking alone finds
 * their precedent first more often (19/21 against 14/21 per-part only on
 * bench/precedents.jsonl); long proposals gain from the per-part view.
 */
const WHOLE_TEXT_WEIGHT = 0.5;
/** Two documents whose openings of this length are near-duplicates are renditions of one. */
const RENDITION_SAMPLE_CHARS = 3000;
/** The whole-text query is cut here: a longer one only adds noise terms to BM25. */
const WHOLE_TEXT_CHARS = 1000;
/**
 * Retrievals per request besides the whole-text one: a text of more parts is retrieved in this many
 * groups of neighbouring parts, and each part is aligned against what its group found. One retrieval
 * per part (up to 40) made `/api/documents/:id/similar` of a law's 20,000-character opening cost
 * 3.1 CPU-s (p50; 7.9 s the worst of 6) on the 104,639-passage load knowledge base — 54% query
 * embeddings, 15% BM25 — against 0.05 s for a search, and its requests held the load check's
 * clients past their 20 s timeout. Texts of at most this many parts (citizens' messages, short
 * proposals: bench/precedents.jsonl) are retrieved part by part as before.
 */
export const MAX_PART_RETRIEVALS = 6;
/**
 * A group of several parts is searched lexically by its key words, not its text: BM25 over a group's
 * 3,000 characters (some 1,600 words and bigrams) was 38% of the main thread's time under the load check
 * (50 clients, 104,639 passages: 25 of 67 busy seconds, nearly all of it these queries) and kept the
 * event loop saturated. Key words: tf × log(1 / share of passages holding the word), words the
 * knowledge base lacks left out (they match nothing).
 */
const GROUP_KEY_WORDS = 32;

function keyWords(text: string, words: (text: string) => string[], share: (word: string) => number): string {
  const counts = new Map<string, number>();
  for (const word of words(text)) if (word.length >= 2 && !/^\d+$/.test(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts]
    .map(([word, n]) => ({ word, share: share(word), n }))
    .filter((w) => w.share > 0)
    .map((w) => ({ word: w.word, weight: w.n * Math.log(1 / w.share) }))
    .sort((a, b) => b.weight - a.weight || (a.word < b.word ? -1 : 1))
    .slice(0, GROUP_KEY_WORDS)
    .map((w) => w.word)
    .join(' ');
}

/** Quotation marks in a proposal are prose (“人才回乡”计划), not the search syntax for an exact phrase. */
const asQueryText = (text: string) => text.replace(/["“”「」『』]/g, ' ').trim();

/** Neighbouring parts retrieved together: one span of the text. */
interface PartGroup extends TextSpan {
  parts: QueryPart[];
}

/** `parts` in at most `count` groups of neighbours, as even as they divide. */
export function groupParts(text: string, parts: QueryPart[], count: number): PartGroup[] {
  const size = Math.ceil(parts.length / Math.max(1, count));
  const groups: PartGroup[] = [];
  for (let i = 0; i < parts.length; i += size) {
    const members = parts.slice(i, i + size);
    const start = members[0]!.start;
    const end = members.at(-1)!.end;
    groups.push({ text: text.slice(start, end), start, end, parts: members });
  }
  return groups;
}

/**
 * Dense queries that need no model call: a stored document's own passage vectors for a span of
 * the query text (its opening), or undefined to embed the span's text as a query.
 */
export type StoredQueryVectors = (span: TextSpan) => Float32Array | undefined;
/** A part of a group is paired with a hit when its overlap with it is at least this share of the group's best part's. */
const GROUP_PAIR_SHARE = 0.5;

function bestParagraph(
  doc: DocumentExcerpt,
  hit: SearchHit,
  partTerms: Set<string>,
  termsOfParagraph: (paragraph: Paragraph) => Set<string>,
): { paragraph: Paragraph; overlap: number } | undefined {
  let best: { paragraph: Paragraph; overlap: number } | undefined;
  const within = doc.paragraphs.filter((p) => p.end > hit.citation.start && p.start < hit.citation.end && p.role !== 'message');
  // A hit on a record's citizen message found the reply to it: the pair shows the reply's paragraph most like the part.
  const candidates = within.length > 0 ? within : doc.paragraphs.filter((p) => p.role === 'body');
  for (const paragraph of candidates) {
    const overlap = dice(partTerms, termsOfParagraph(paragraph));
    if (!best || overlap > best.overlap) best = { paragraph, overlap };
  }
  return best;
}

function citationOf(doc: DocumentExcerpt, p: Paragraph): Citation {
  return {
    documentId: doc.id,
    title: doc.title,
    headingPath: p.headingPath,
    ...(p.pages ? { pages: p.pages } : {}),
    start: p.start,
    end: p.end,
  };
}

/**
 * A reply that only forwards, refers or acknowledges (kb/text/courtesy.ts answersNothing) is no
 * precedent: both finders rank it after every reply that says something. A record's citizen message
 * is not the reply's text; an excerpt of a long document (not whole) always says something.
 */
function answersNothingAsPrecedent(doc: DocumentExcerpt): boolean {
  return doc.whole && answersNothing(doc.paragraphs.filter((p) => p.role !== 'message').map((p) => p.text).join('\n'));
}

/** Rank earlier documents by similarity to `text`, with aligned passages. */
export async function findSimilar(
  kb: SearchSource,
  text: string,
  options: SimilarOptions = {},
  storedVectors?: StoredQueryVectors,
): Promise<SimilarResult> {
  const started = performance.now();
  const k = options.k ?? 10;
  const perPartK = options.perPartK ?? 30;
  const parts = splitQuery(text, options.maxParts ?? 40);
  const byDocument = new Map<string, Accumulator>();
  let mode: RetrievalMode = options.mode ?? 'hybrid';
  let lexicalOnly = false;
  let notice: string | undefined;
  const getDoc = documentLoader(kb);
  // Every part's retrieval lands on the same few precedents: their paragraphs' terms are cut once.
  const paragraphTerms = new Map<Paragraph, Set<string>>();
  const termsOfParagraph = (paragraph: Paragraph) => {
    let terms = paragraphTerms.get(paragraph);
    if (!terms) paragraphTerms.set(paragraph, (terms = termsOf(paragraph.text)));
    return terms;
  };

  // Renditions of one document (txt, PDF, DOCX of the same reply) collapse into one
  // hit with `alsoIn`; they are grouped here so they share one score.
  const groupOf = new Map<string, Accumulator>();
  const accumulatorFor = (hit: SearchHit): Accumulator => {
    const ids = [hit.citation.documentId, ...(hit.alsoIn ?? [])];
    let acc = ids.map((id) => groupOf.get(id)).find((a) => a !== undefined);
    if (!acc) {
      acc = { documentId: hit.citation.documentId, hit, rankScores: 0, wholeScore: 0, matchedParts: 0, found: [], alsoIn: new Set() };
      byDocument.set(acc.documentId, acc);
    }
    for (const id of ids) {
      groupOf.set(id, acc);
      if (id !== acc.documentId) acc.alsoIn.add(id);
    }
    return acc;
  };
  const excluded = (hit: SearchHit) =>
    options.excludeDocumentId !== undefined &&
    (hit.citation.documentId === options.excludeDocumentId || (hit.alsoIn ?? []).includes(options.excludeDocumentId));
  const retrieve = async (query: string, k: number, vector?: Float32Array) => {
    const result = await search(
      kb,
      {
        text: asQueryText(query),
        withMessages: true,
        k,
        ...(options.mode ? { mode: options.mode } : {}),
        ...(options.filters ? { filters: options.filters } : {}),
      },
      undefined,
      vector,
    );
    mode = result.mode;
    lexicalOnly ||= result.lexicalOnly;
    notice ??= result.notice;
    return result.hits;
  };

  /**
   * The documents a retrieval found, best first, each group of renditions once, with its 1-based rank.
   * No document is read here: only the shown ones are, at the end (reading every hit's document cost
   * 14% of the main thread under the load check, for ~100 documents a request of which 10 are shown).
   */
  function* rankedDocuments(hits: SearchHit[]): Generator<{ hit: SearchHit; acc: Accumulator; rank: number }> {
    const seen = new Set<Accumulator>();
    for (const hit of hits) {
      if (excluded(hit)) continue;
      const acc = accumulatorFor(hit);
      if (seen.has(acc)) continue;
      seen.add(acc);
      yield { hit, acc, rank: seen.size };
    }
  }

  const groups = groupParts(text, parts, options.maxRetrievals ?? MAX_PART_RETRIEVALS);
  // The groups' dense queries: the stored document's own vectors, else one model call for all of them
  // (a lone part is left to retrieval, which shares its vector with other requests asking the same).
  const dense = options.mode === 'lexical' ? undefined : kb.retrievalIndexes().dense;
  const groupVectors: Array<Float32Array | undefined> = groups.map((g) => (dense ? storedVectors?.(g) : undefined));
  const toEmbed = groups.map((g, i) => (groupVectors[i] ? undefined : asQueryText(g.text))).filter((t): t is string => t !== undefined && t.length > 0);
  if (dense && groups.length > 1 && toEmbed.length > 0) {
    try {
      const embedded = await dense.embedder.embedQueries(toEmbed);
      groups.forEach((g, i) => {
        if (!groupVectors[i] && asQueryText(g.text).length > 0) groupVectors[i] = embedded.shift();
      });
    } catch {
      // Retrieval embeds (or degrades to lexical, saying so) on its own.
    }
  }

  // Sequential on purpose: the embedder and the store are shared with every other request.
  if (parts.length > 1) {
    for (const { acc, rank } of rankedDocuments(await retrieve(text.slice(0, WHOLE_TEXT_CHARS), perPartK * 2))) {
      acc.wholeScore = (RANK_DAMPING + 1) / (RANK_DAMPING + rank);
    }
  }
  const { tokenizer } = kb.retrievalIndexes();
  for (const [g, group] of groups.entries()) {
    const query = group.parts.length > 1 ? keyWords(group.text, (t) => tokenizer.words(t), (w) => kb.wordShare(w)) : group.text;
    for (const { hit, acc, rank } of rankedDocuments(await retrieve(query, perPartK, groupVectors[g]))) {
      // Every part of the group is ranked as its group was.
      acc.rankScores += (group.parts.length * (RANK_DAMPING + 1)) / (RANK_DAMPING + rank);
      acc.matchedParts += group.parts.length;
      acc.found.push({ group, hit, rank });
    }
  }
  const termsOfPart = new Map<QueryPart, Set<string>>();
  /** Each retrieval's hit in `doc` beside the paragraph of it most like each part of the group; the parts this hit is about. */
  const pairsOf = (acc: Accumulator): AlignedPair[] => {
    const pairs: AlignedPair[] = [];
    for (const { group, hit, rank } of acc.found) {
      const doc = getDoc(hit.citation.documentId, hit.citation);
      if (!doc) continue;
      const aligned = group.parts.map((part) => {
        if (!termsOfPart.has(part)) termsOfPart.set(part, termsOf(part.text));
        return { part, best: bestParagraph(doc, hit, termsOfPart.get(part)!, termsOfParagraph) };
      });
      const bestOverlap = Math.max(...aligned.map((a) => a.best?.overlap ?? -1));
      for (const { part, best } of aligned) {
        if (!best || best.overlap < bestOverlap * GROUP_PAIR_SHARE) continue;
        pairs.push({
          query: part,
          match: {
            text: best.paragraph.text,
            paragraphIndex: best.paragraph.index,
            citation: citationOf(doc, best.paragraph),
            rank,
            overlap: Math.round(best.overlap * 1000) / 1000,
          },
        });
      }
    }
    return pairs;
  };

  const scoreOf = (acc: Accumulator) => {
    const partScore = acc.rankScores / Math.max(1, parts.length);
    return parts.length > 1 ? WHOLE_TEXT_WEIGHT * acc.wholeScore + (1 - WHOLE_TEXT_WEIGHT) * partScore : partScore;
  };
  const maxPairs = options.maxPairs ?? 12;
  // Renditions the retriever did not fold together (a PDF's text cut into other passages than
  // the DOCX's) are still one precedent: merge documents whose texts are near-identical.
  const ranked = [...byDocument.values()].sort((a, b) => scoreOf(b) - scoreOf(a) || b.matchedParts - a.matchedParts);
  const kept: Array<{ acc: Accumulator; doc: DocumentExcerpt; sample: TextFingerprint }> = [];
  // Documents are read only now, for the ones that may be shown: a reply that answers nothing goes after
  // every one that says something (as if sorted last), read as its turn comes.
  const answeringNothing: Array<{ acc: Accumulator; doc: DocumentExcerpt }> = [];
  const inOrder = function* (): Generator<{ acc: Accumulator; doc: DocumentExcerpt }> {
    for (const acc of ranked) {
      const doc = getDoc(acc.documentId, acc.hit.citation);
      if (!doc) continue; // removed since it was retrieved
      if (answersNothingAsPrecedent(doc)) answeringNothing.push({ acc, doc });
      else yield { acc, doc };
    }
    yield* answeringNothing;
  };
  for (const { acc, doc } of inOrder()) {
    if (kept.length >= k) break;
    const opening = doc.whole ? doc.text.slice(0, RENDITION_SAMPLE_CHARS) : (kb.documentText(doc.id, { start: 0, end: RENDITION_SAMPLE_CHARS }) ?? '');
    const sample = fingerprint(opening);
    const twin = kept.find((other) => nearDuplicate(other.sample, sample));
    if (twin) {
      twin.acc.alsoIn.add(doc.id);
      for (const id of acc.alsoIn) if (id !== twin.doc.id) twin.acc.alsoIn.add(id);
      continue;
    }
    kept.push({ acc, doc, sample });
  }
  const scorer = SimilarityScorer.for(kb);
  const wholeQuery = scorer ? await scorer.query(asQueryText(text.slice(0, WHOLE_TEXT_CHARS))) : undefined;
  const similarityOf = (doc: DocumentExcerpt) => {
    const cosine = scorer && wholeQuery ? scorer.bestCosine(wholeQuery, doc.id, ownPassages(doc)) : undefined;
    return cosine === undefined ? {} : { similarity: scorer!.probability(cosine) };
  };
  const documents: SimilarDocument[] = kept.map(({ acc, doc }) => {
    // Keep the strongest pairs, then show them in the order of the query.
    const pairs = pairsOf(acc)
      .sort((a, b) => a.match.rank - b.match.rank || b.match.overlap - a.match.overlap)
      .slice(0, maxPairs)
      .sort((a, b) => a.query.index - b.query.index);
    return {
      documentId: doc.id,
      title: doc.title,
      kind: doc.kind,
      ...(acc.hit.issuer ? { issuer: acc.hit.issuer } : doc.metadata.issuer ? { issuer: doc.metadata.issuer } : {}),
      ...(acc.hit.date ? { date: acc.hit.date } : doc.metadata.date ? { date: doc.metadata.date } : {}),
      score: Math.round(scoreOf(acc) * 1000) / 1000,
      ...similarityOf(doc),
      matchedParts: acc.matchedParts,
      ...(acc.alsoIn.size > 0 ? { alsoIn: [...acc.alsoIn] } : {}),
      pairs,
    };
  });

  return {
    parts,
    documents,
    mode,
    lexicalOnly,
    ...(notice ? { notice } : {}),
    tookMs: Math.round(performance.now() - started),
  };
}

/** Roles that carry what a document is about; addressee lines, signatures and contacts would match every letter. */
const CONTENT_ROLES = new Set(['title', 'heading', 'body']);

/** Reads a document a page of paragraphs at a time (KnowledgeBase.documentPage). */
export interface PagedDocumentSource {
  documentPage(id: string, page: { offset: number; limit: number; maxChars: number }): DocumentPage | undefined;
}

/** Paragraphs read per page while collecting a document's opening: enough for most documents in one read. */
const OPENING_PAGE_PARAGRAPHS = 200;

/** A stored document's opening as a query: the text, and where each of its lines stands in the document. */
interface DocumentQuery {
  text: string;
  /** Per line (one paragraph): its offset in `text` and its span in the document's text. */
  lines: Array<{ at: number; start: number; end: number }>;
}

/**
 * A stored document as a query: its content paragraphs, one a line (so its numbering still splits it),
 * at most `maxQueryChars`; undefined when there is no such document. Only the opening is read, a page
 * at a time: a 65k-passage document as one query froze the server for 26 s and answered 49 MB.
 */
function documentQuery(kb: PagedDocumentSource, documentId: string, maxQueryChars = Infinity): DocumentQuery | undefined {
  const content: Paragraph[] = [];
  const any: Paragraph[] = [];
  let contentChars = 0;
  let anyChars = 0;
  for (let offset = 0; contentChars < maxQueryChars; ) {
    const page = kb.documentPage(documentId, { offset, limit: OPENING_PAGE_PARAGRAPHS, maxChars: Math.min(maxQueryChars, Number.MAX_SAFE_INTEGER) });
    if (!page) return undefined;
    for (const p of page.paragraphs) {
      if (CONTENT_ROLES.has(p.role)) {
        content.push(p);
        contentChars += p.text.length + 1;
      }
      if (anyChars < maxQueryChars) {
        any.push(p);
        anyChars += p.text.length + 1;
      }
    }
    offset += page.paragraphs.length;
    if (page.paragraphs.length === 0 || offset >= page.paragraphTotal) break;
  }
  const lines: DocumentQuery['lines'] = [];
  let at = 0;
  for (const p of content.length > 0 ? content : any) {
    if (at >= maxQueryChars) break;
    lines.push({ at, start: p.start, end: p.end });
    at += p.text.length + 1;
  }
  return { text: (content.length > 0 ? content : any).map((p) => p.text).join('\n').slice(0, maxQueryChars), lines };
}

export function documentQueryText(kb: PagedDocumentSource, documentId: string, maxQueryChars = Infinity): string | undefined {
  return documentQuery(kb, documentId, maxQueryChars)?.text;
}

/**
 * The dense query for a span of a stored document's query text: the mean of the document's stored
 * vectors of the passages under those lines (a passage is as like its neighbours' precedents as a
 * query of its text is), so no model runs. Undefined without stored vectors.
 */
function storedVectorsOf(kb: Partial<VectorSource>, documentId: string, query: DocumentQuery): StoredQueryVectors | undefined {
  if (typeof kb.passageVectors !== 'function') return undefined;
  const passageVectors = kb.passageVectors.bind(kb);
  return (span) => {
    const lines = query.lines.filter((line, i) => line.at < span.end && (query.lines[i + 1]?.at ?? Infinity) > span.start);
    if (lines.length === 0) return undefined;
    const vectors = passageVectors(documentId, { start: Math.min(...lines.map((l) => l.start)), end: Math.max(...lines.map((l) => l.end)) });
    if (vectors.length === 0) return undefined;
    const mean = new Float32Array(vectors[0]!.vector.length);
    for (const { vector } of vectors) for (let i = 0; i < mean.length; i++) mean[i]! += vector[i]!;
    let norm = 0;
    for (let i = 0; i < mean.length; i++) norm += mean[i]! * mean[i]!;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < mean.length; i++) mean[i]! /= norm;
    return mean;
  };
}

/** Whole-text precedents for a stored document: its content is the query; the document itself is left out. */
export async function findSimilarToDocument(
  kb: SearchSource & PagedDocumentSource,
  documentId: string,
  options: SimilarOptions & { maxQueryChars?: number } = {},
): Promise<SimilarResult | undefined> {
  const { maxQueryChars, ...similar } = options;
  const query = documentQuery(kb, documentId, maxQueryChars);
  if (!query) return undefined;
  return findSimilar(kb, query.text, { ...similar, excludeDocumentId: documentId }, storedVectorsOf(kb, documentId, query));
}

/**
 * Precedents per suggestion for a stored document (a proposal, or a reply whose numbered sections
 * then play the suggestions): the document itself, and its other renditions, are left out.
 */
export async function findPrecedentsForDocument(
  kb: SearchSource & PagedDocumentSource,
  documentId: string,
  options: Omit<PrecedentsOptions, 'excludeDocumentId'> & { maxQueryChars?: number } = {},
): Promise<PrecedentsResult | undefined> {
  const { maxQueryChars, ...precedents } = options;
  const text = documentQueryText(kb, documentId, maxQueryChars);
  return text === undefined ? undefined : findPrecedents(kb, text, { ...precedents, excludeDocumentId: documentId });
}

// ---------------------------------------------------------------------------
// Precedents per suggestion: what a drafter needs to answer a proposal point by point.

export interface PrecedentExcerpt {
  documentId: string;
  title: string;
  kind: DocumentKind;
  /** Verbatim `doc.text.slice(citation.start, citation.end)`: consecutive sentences of one body paragraph, courtesy cut off. */
  text: string;
  /** The quoted sentences, offsets into the document's text. */
  sentences: TextSpan[];
  paragraphIndex: number;
  citation: Citation;
  /**
   * Share of the suggestion's content terms (character bigrams, generic
   * proposal words left out) that the excerpt's paragraph contains, 0..1.
   * Absolute: it depends only on the two texts, not on what else was retrieved.
   */
  coverage: number;
  /**
   * 0..1, absolute: the calibrated probability (search/similarity.ts) that the quoted paragraph
   * answers the suggestion, from the model's cosine of the suggestion and the paragraph's passages.
   * Present when the embedding model has a fitted curve.
   */
  similarity?: number;
}

export interface SuggestionPrecedents {
  suggestion: Suggestion;
  /** Best first, at most one excerpt per document. */
  precedents: PrecedentExcerpt[];
}

export interface PrecedentReply {
  documentId: string;
  title: string;
  kind: DocumentKind;
  issuer?: string;
  date?: string;
  alsoIn?: string[];
  /** How many suggestions this reply covers (best excerpt's coverage ≥ COVERED_AT). */
  covered: number;
  /** Mean over all suggestions of the best excerpt's coverage in this reply, 0..1. */
  score: number;
  /**
   * Mean over all suggestions of the calibrated probability (search/similarity.ts) that this reply
   * answers the suggestion, from its best passage; 0..1, absolute. Present when the model has a fitted curve.
   */
  similarity?: number;
  /** Per suggestion (in the proposal's order) the best excerpt of this reply, or null. */
  excerpts: Array<PrecedentExcerpt | null>;
}

export interface PrecedentsResult {
  outline: ProposalOutline;
  bySuggestion: SuggestionPrecedents[];
  replies: PrecedentReply[];
  /** The coverage from which a suggestion counts as covered. */
  coveredAt: number;
  mode: RetrievalMode;
  lexicalOnly: boolean;
  notice?: string;
  tookMs: number;
}

export interface PrecedentsOptions {
  /** Replies to return. Default 10. */
  k?: number;
  /** Excerpts per suggestion. Default 5. */
  perSuggestion?: number;
  /** Passages retrieved per suggestion. Default 30. */
  perSuggestionK?: number;
  mode?: RetrievalMode;
  filters?: SearchFilters;
  /** Leave this document out (the stored document the query came from), with its other renditions. */
  excludeDocumentId?: string;
}

/**
 * Words every proposal and reply uses (建议, 加强, 进一步, 我省): their bigrams
 * are left out of a suggestion's content terms, so coverage counts what the
 * suggestion is about.
 */
const GENERIC_WORDS = [
  '建议', '关于', '加强', '进一步', '推进', '推动', '完善', '工作', '提高', '加大', '力度', '相关', '有关', '部门',
  '我省', '我市', '全省', '全市', '我区', '问题', '开展', '建立', '健全', '促进', '落实', '政府', '方面', '情况',
  '措施', '机制', '体系', '积极', '切实', '不断', '各级', '实施', '做好', '的',
];
const GENERIC_TERMS = new Set(GENERIC_WORDS.flatMap((word) => [...termsOf(word)]));
/**
 * From this coverage on a suggestion counts as answered by a reply. On the seed
 * proposal (the seed reply's five headings as suggestions), the answering
 * section's paragraph covers 0.42–0.86 of its suggestion, other sections of the
 * same reply at most 0.36 (see tests/precedents.test.ts).
 */
export const COVERED_AT = 0.4;
/** An excerpt longer than this is cut to its best run of sentences: a drafter adapts a paragraph, not a page. */
const EXCERPT_MAX_CHARS = 320;
/** A body paragraph this short without a full stop is a sub-heading in all but name. */
const BARE_HEADING_CHARS = 24;

export function contentTerms(text: string): Set<string> {
  const terms = termsOf(text);
  for (const term of GENERIC_TERMS) terms.delete(term);
  return terms;
}

/** A heading, or a run-in heading ("1.人才公寓和保障性租赁住房。"), says what follows, not what was done. */
function isBareHeading(text: string): boolean {
  const numbered = matchEnumerator(text) !== undefined;
  if (text.length <= BARE_HEADING_CHARS) return numbered || !/[。；;！!？?]/.test(text);
  return numbered && !/[。；;！!？?，,]/.test(text);
}

interface SentenceTerms {
  span: TextSpan;
  terms: Set<string>;
}

/** The paragraphs of a document a precedent may quote: body text, never headings, courtesy or the closing block. */
interface QuotableParagraph {
  paragraph: Paragraph;
  sentences: SentenceTerms[];
  headingTerms: Set<string>;
}

function quotableParagraphs(doc: DocumentExcerpt): QuotableParagraph[] {
  const out: QuotableParagraph[] = [];
  for (const paragraph of doc.paragraphs) {
    if (paragraph.role !== 'body' || isBareHeading(paragraph.text)) continue;
    const sentences = substantiveSentences(paragraph.text, paragraph.start)
      .filter((span) => !isBareHeading(span.text))
      .map((span) => ({ span, terms: termsOf(span.text) }));
    if (sentences.length > 0) out.push({ paragraph, sentences, headingTerms: termsOf(paragraph.headingPath.join('\n')) });
  }
  return out;
}

/** The run of consecutive sentences of one paragraph covering most of `wanted`, within EXCERPT_MAX_CHARS. */
function bestRun(sentences: SentenceTerms[], wanted: Set<string>): { first: number; last: number; covered: number } | undefined {
  let best: { first: number; last: number; covered: number; chars: number } | undefined;
  for (let first = 0; first < sentences.length; first++) {
    const union = new Set<string>();
    for (let last = first; last < sentences.length; last++) {
      const chars = sentences[last]!.span.end - sentences[first]!.span.start;
      if (last > first && chars > EXCERPT_MAX_CHARS) break;
      for (const term of sentences[last]!.terms) if (wanted.has(term)) union.add(term);
      // Ties go to the longer run: a drafter adapts the whole passage, not its one matching sentence.
      if (!best || union.size > best.covered || (union.size === best.covered && chars > best.chars)) {
        best = { first, last, covered: union.size, chars };
      }
    }
  }
  return best;
}

/** For each suggestion of a proposal, the best precedent excerpts; and the replies ranked by how many suggestions they answer. */
export async function findPrecedents(kb: SearchSource, text: string, options: PrecedentsOptions = {}): Promise<PrecedentsResult> {
  const started = performance.now();
  const outline = outlineProposal(text);
  const perSuggestionK = options.perSuggestionK ?? 30;
  const getDoc = documentLoader(kb);
  let mode: RetrievalMode = options.mode ?? 'hybrid';
  let lexicalOnly = false;
  let notice: string | undefined;

  // Candidate replies: what retrieval finds for any suggestion. Every candidate is then
  // read against every suggestion, so one reply can serve several.
  const candidates = new Map<string, DocumentExcerpt>();
  const renditionOf = new Map<string, string>();
  const alsoIn = new Map<string, Set<string>>();
  /** Per suggestion, each candidate's 1-based rank among the distinct replies retrieval found for it. */
  const retrievalRanks = outline.suggestions.map(() => new Map<string, number>());
  for (const [index, suggestion] of outline.suggestions.entries()) {
    const result = await search(kb, {
      text: asQueryText(suggestion.text),
      withMessages: true,
      k: perSuggestionK,
      ...(options.mode ? { mode: options.mode } : {}),
      ...(options.filters ? { filters: options.filters } : {}),
    });
    mode = result.mode;
    lexicalOnly ||= result.lexicalOnly;
    notice ??= result.notice;
    for (const hit of result.hits) {
      const ids = [hit.citation.documentId, ...(hit.alsoIn ?? [])];
      if (options.excludeDocumentId !== undefined && ids.includes(options.excludeDocumentId)) continue;
      const known = ids.map((id) => renditionOf.get(id)).find((id) => id !== undefined);
      const canonical = known ?? hit.citation.documentId;
      for (const id of ids) {
        renditionOf.set(id, canonical);
        if (id !== canonical) {
          if (!alsoIn.has(canonical)) alsoIn.set(canonical, new Set());
          alsoIn.get(canonical)!.add(id);
        }
      }
      if (!candidates.has(canonical)) {
        // A rendition holds the same text at about the same place.
        const doc = getDoc(canonical, hit.citation);
        if (doc) candidates.set(canonical, doc);
      }
      const ranks = retrievalRanks[index]!;
      if (candidates.has(canonical) && !ranks.has(canonical)) ranks.set(canonical, ranks.size + 1);
    }
  }

  // The numbering (三、) is no content, whether or not the proposal was cut at it.
  const wanted = outline.suggestions.map((s) => contentTerms(s.text.slice(matchEnumerator(s.text)?.label.length ?? 0)));
  const scorer = candidates.size > 0 ? SimilarityScorer.for(kb) : undefined;
  const suggestionVectors: Float32Array[] = [];
  // One at a time, like the retrievals above: the embedder is shared with every other request.
  if (scorer) for (const s of outline.suggestions) suggestionVectors.push(await scorer.query(asQueryText(s.text)));
  const bySuggestion: SuggestionPrecedents[] = outline.suggestions.map((suggestion) => ({ suggestion, precedents: [] }));
  const replies: PrecedentReply[] = [];
  /**
   * Among replies covering as many suggestions, the order blends mean coverage with how high retrieval
   * ranked the reply for each suggestion: coverage alone favours long replies that happen to contain
   * the words. On bench/precedents.jsonl (82 one-suggestion messages, lexical) coverage alone gave
   * R@5 0.646, MRR@10 0.533; the blend 0.768, 0.698 (findSimilar: 0.768, 0.700).
   */
  const orderOf = new Map<PrecedentReply, number>();
  const answeringNothing = new Set<PrecedentReply>();
  for (const doc of candidates.values()) {
    const nothing = answersNothingAsPrecedent(doc);
    const paragraphs = quotableParagraphs(doc);
    const excerptSimilarity = (suggestion: number, paragraph: Paragraph) => {
      const cosine = scorer?.bestCosine(suggestionVectors[suggestion]!, doc.id, ownPassages(doc), paragraph);
      return cosine === undefined ? {} : { similarity: scorer!.probability(cosine) };
    };
    const replyCosines = scorer ? suggestionVectors.map((q) => scorer.bestCosine(q, doc.id, ownPassages(doc))) : [];
    const excerpts = wanted.map((terms, i): PrecedentExcerpt | null => {
      if (terms.size === 0) return null;
      // The paragraph is the unit a precedent is judged by (a reply's answer to one point is
      // one paragraph); its quoted excerpt is the paragraph's best run of sentences.
      let best: { paragraph: Paragraph; sentences: SentenceTerms[]; covered: number; underHeading: number } | undefined;
      for (const { paragraph, sentences, headingTerms } of paragraphs) {
        const covered = new Set<string>();
        for (const sentence of sentences) for (const term of sentence.terms) if (terms.has(term)) covered.add(term);
        if (covered.size === 0) continue;
        // A reply's section heading restates the suggestion it answers: the tie-breaker between paragraphs that cover as much.
        let underHeading = 0;
        for (const term of terms) if (headingTerms.has(term)) underHeading++;
        if (!best || covered.size > best.covered || (covered.size === best.covered && underHeading > best.underHeading)) {
          best = { paragraph, sentences, covered: covered.size, underHeading };
        }
      }
      if (!best) return null;
      const run = bestRun(best.sentences, terms)!;
      const quoted = best.sentences.slice(run.first, run.last + 1).map((s) => s.span);
      const start = quoted[0]!.start;
      const end = quoted.at(-1)!.end;
      return {
        documentId: doc.id,
        title: doc.title,
        kind: doc.kind,
        text: excerptText(doc, start, end),
        sentences: quoted,
        paragraphIndex: best.paragraph.index,
        citation: { ...citationOf(doc, best.paragraph), start, end },
        coverage: Math.round((best.covered / terms.size) * 1000) / 1000,
        ...excerptSimilarity(i, best.paragraph),
      };
    });
    // "已转县教育局核查、办复" is nothing to adapt: such a reply is listed, never quoted per suggestion.
    if (!nothing) excerpts.forEach((excerpt, i) => excerpt && bySuggestion[i]!.precedents.push(excerpt));
    const coverages = excerpts.map((e) => e?.coverage ?? 0);
    const others = alsoIn.get(doc.id);
    const agreement = retrievalRanks.reduce((sum, ranks) => {
      const rank = ranks.get(doc.id);
      return sum + (rank ? (RANK_DAMPING + 1) / (RANK_DAMPING + rank) : 0);
    }, 0) / Math.max(1, retrievalRanks.length);
    const reply: PrecedentReply = {
      documentId: doc.id,
      title: doc.title,
      kind: doc.kind,
      ...(doc.metadata.issuer ? { issuer: doc.metadata.issuer } : {}),
      ...(doc.metadata.date ? { date: doc.metadata.date } : {}),
      ...(others && others.size > 0 ? { alsoIn: [...others] } : {}),
      covered: coverages.filter((c) => c >= COVERED_AT).length,
      score: Math.round((coverages.reduce((a, b) => a + b, 0) / Math.max(1, coverages.length)) * 1000) / 1000,
      ...(scorer && replyCosines.every((c) => c !== undefined)
        ? { similarity: Math.round((replyCosines.reduce((sum, c) => sum + scorer.probability(c), 0) / Math.max(1, replyCosines.length)) * 1000) / 1000 }
        : {}),
      excerpts,
    };
    replies.push(reply);
    if (nothing) answeringNothing.add(reply);
    orderOf.set(reply, (reply.score + agreement) / 2);
  }
  const perSuggestion = options.perSuggestion ?? 5;
  for (const entry of bySuggestion) {
    entry.precedents.sort((a, b) => b.coverage - a.coverage || a.text.length - b.text.length);
    entry.precedents = entry.precedents.slice(0, perSuggestion);
  }
  const last = (reply: PrecedentReply) => (answeringNothing.has(reply) ? 1 : 0);
  replies.sort((a, b) => last(a) - last(b) || b.covered - a.covered || orderOf.get(b)! - orderOf.get(a)!);
  return {
    outline,
    bySuggestion,
    replies: replies.slice(0, options.k ?? 10),
    coveredAt: COVERED_AT,
    mode,
    lexicalOnly,
    ...(notice ? { notice } : {}),
    tookMs: Math.round(performance.now() - started),
  };
}
