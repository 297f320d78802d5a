/**
 * Hybrid retrieval: a lexical list and a dense list, fused by weighted
 * reciprocal rank, near-identical passages collapsed, every hit cited.
 *
 * Filters are applied inside both retrievers (as an accept callback on
 * passage labels), not after them: a filtered query still gets k hits when k
 * matching passages exist. Everything a query touches per candidate is an
 * in-memory array lookup; SQLite is asked only for the few passages shown.
 */
import { foldText, highlightRanges, stripWhitespace } from '../kb/index/lexical/lexical.ts';
import type { FusionSettings, RetrievalIndexes, Searchable } from '../kb/kb.ts';
import type { PassageRow } from '../kb/store/store.ts';
import { fingerprint, nearDuplicate, type TextFingerprint } from '../kb/text/near-duplicates.ts';
import type { PassagePart, RetrievalMode, SearchHit, SearchQuery, SearchResult } from '../kb/types.ts';
import { factTypeOf, type FactType } from './question.ts';
import { placeForms, preferScope, questionScope, type NamingScope, type QuestionScope } from './scope.ts';
import { questionVector } from './semantic.ts';

export const DEFAULT_K = 10;
export const MAX_K = 100;

interface Candidate {
  label: number;
  score: number;
  ranks: { lexical?: number; dense?: number };
}

/**
 * Weighted reciprocal-rank fusion: score = Σ weight / (rrfK + rank). Ranks
 * rather than raw scores, because BM25 and cosine live on unrelated scales.
 */
export function fuseRankings(
  lists: { lexical?: number[]; dense?: number[] },
  weights: { lexical: number; dense: number },
  rrfK: number,
): Candidate[] {
  const byLabel = new Map<number, Candidate>();
  for (const retriever of ['lexical', 'dense'] as const) {
    const list = lists[retriever];
    if (!list) continue;
    list.forEach((label, index) => {
      const rank = index + 1;
      let candidate = byLabel.get(label);
      if (!candidate) {
        candidate = { label, score: 0, ranks: {} };
        byLabel.set(label, candidate);
      }
      candidate.ranks[retriever] = rank;
      candidate.score += weights[retriever] / (rrfK + rank);
    });
  }
  return [...byLabel.values()].sort(
    (a, b) => b.score - a.score || Math.min(a.ranks.lexical ?? Infinity, a.ranks.dense ?? Infinity) - Math.min(b.ranks.lexical ?? Infinity, b.ranks.dense ?? Infinity),
  );
}

function clampK(k: number | undefined): number {
  if (k === undefined || !Number.isFinite(k)) return DEFAULT_K;
  return Math.max(1, Math.min(MAX_K, Math.floor(k)));
}

/**
 * Search a knowledge base (or anything that hands out its retrieval indexes). `fusion` overrides the
 * configured fusion constants for this query (the tuning bench compares settings on one open store).
 * `queryVector` is the dense query when the caller already has one (the precedent finder's stored
 * passage vectors of a document): no text is embedded then.
 */
export function search(kb: Searchable, query: SearchQuery, fusion?: Partial<FusionSettings>, queryVector?: Float32Array): Promise<SearchResult> {
  return retrieve({ ...kb.retrievalIndexes(), ...fusion }, query, queryVector);
}

export async function retrieve(context: RetrievalIndexes, query: SearchQuery, queryVector?: Float32Array): Promise<SearchResult> {
  const started = performance.now();
  const k = clampK(query.k);
  const asked: RetrievalMode = query.mode ?? 'hybrid';
  let mode = asked;
  let notice: string | undefined;
  if (mode !== 'lexical' && !context.dense) {
    mode = 'lexical';
    notice = `只使用关键词检索（lexical-only）：${context.lexicalOnlyReason ?? '没有可用的嵌入模型 (no embedding model loaded)'}`;
  }
  const text = query.text.trim();
  if (!text) return { hits: [], mode, lexicalOnly: !context.dense, ...(notice ? { notice } : {}), tookMs: performance.now() - started };

  const filtered = context.acceptFor(query.filters);
  // A record's citizen message holds the question, never the answer: outside the precedent finder it takes no
  // place in either list. Measured against mapping a message hit onto its reply's best passage (its place in the
  // fused list given to the reply), on the evaluation corpus with the 4,671 message passages, hybrid R@5 / R@10 /
  // MRR@10: kept as passages (before) NCPQA 0.880 / 0.903 / 0.732, paraphrase 0.619 / 0.643 / 0.422; skipped
  // 0.878 / 0.903 / 0.731 and 0.643 / 0.667 / 0.488; mapped 0.880 / 0.903 / 0.732 and 0.619 / 0.643 / 0.481.
  const partOf = context.partOf;
  const skipMessages = partOf && !query.withMessages && (context.partCounts?.message ?? 0) > 0;
  const accept = skipMessages ? (label: number) => partOf(label) !== 'message' && (filtered?.(label) ?? true) : filtered;
  const scope = questionScope(text);
  // Deeper lists than k: fusion needs overlap, and collapsing duplicates eats some.
  const depth = Math.max(context.fusionDepth, k * 4);
  const lists: { lexical?: number[]; dense?: number[] } = {};
  const ownScores = new Map<number, number>();
  let lexicalHits: Array<{ key: number; score: number }> = [];
  if (mode !== 'dense') {
    lexicalHits = context.lexical.search(text, depth, accept);
    lists.lexical = lexicalHits.map((h) => h.key);
    if (mode === 'lexical') for (const h of lexicalHits) ownScores.set(h.key, h.score);
  }
  if (mode !== 'lexical' && context.dense) {
    let vector = queryVector;
    try {
      vector ??= await questionVector(context.dense.embedder, text);
    } catch (error) {
      // A remote embedding server can be down while the lexical index is fine: hybrid degrades, dense has nothing to give.
      if (mode === 'dense') throw error;
      notice = `向量检索暂不可用，本次只用关键词检索 (dense retrieval failed; these are lexical results)：${error instanceof Error ? error.message : String(error)}`;
      mode = 'lexical';
      for (const h of lexicalHits) ownScores.set(h.key, h.score);
    }
    if (vector) {
      const hits = context.dense.search(vector, depth, accept);
      lists.dense = hits.map((h) => h.label);
      if (mode === 'dense') for (const h of hits) ownScores.set(h.label, h.score);
    }
  }
  // The rows missingRareWords and namingScope read are among those the hit loop shows: each is read from the store once per query.
  const read = new Map<number, PassageRow>();
  let weightDense = context.weightDense;
  if (lists.dense && context.denseForMissingWords && lexicalHits.length > 0) {
    weightDense *= 1 + context.denseForMissingWords * missingRareWords(text, lexicalHits, context, read);
  }
  const fusedOnly = fuseRankings(lists, { lexical: context.weightLexical, dense: weightDense }, context.rrfK);
  const scoped = context.scopeOf ? preferScope(fusedOnly, scope, context.scopeOf, namingScope(context, scope, fusedOnly, accept, read)) : fusedOnly;
  const factType = factTypeOf(text);
  const asksSignOff = factType !== undefined && SIGN_OFF_FACTS.has(factType);
  const fused =
    partOf && (context.partCounts?.signOff ?? 0) > 0 && !asksSignOff
      ? demoteSignOff(scoped, partOf, factType === undefined ? SIGN_OFF_FACTOR_NO_FACT : SIGN_OFF_FACTOR)
      : scoped;

  // A passage whose text (or nearly: kb/text/near-duplicates.ts) a better one already has is folded into it:
  // the same text in two renditions is one hit, shown with alsoIn. Compared on the texts themselves.
  // A passage that continues a better hit of its document (nothing but white space between them) joins it:
  // one hit spanning both (NEIGHBOUR_WINDOW says how far down the list a neighbour is looked for).
  const cards: Card[] = [];
  const kept: Array<{ fingerprint: TextFingerprint; card: Card }> = [];
  const keptByText = new Map<string, Card>();
  const joining = query.joinNeighbours !== false;
  const window = joining ? Math.max(k, NEIGHBOUR_WINDOW) : k;
  const chunk = Math.max(k * 2, 20);
  for (let from = 0; from < fused.length && cards.length < window; from += chunk) {
    const slice = fused.slice(from, from + chunk);
    readRows(context, slice.map((c) => c.label), read);
    for (const candidate of slice) {
      if (cards.length >= window) break;
      const row = read.get(candidate.label);
      if (!row) continue; // removed between the index lookup and now
      const print = fingerprint(row.passage.text);
      const part = partOf?.(candidate.label);
      const continued = joining && cards.find((card) => card.passages === 1 && card.part === part && joinNeighbour(card.hit, row, context));
      if (continued) {
        continued.passages++;
        kept.push({ fingerprint: print, card: continued });
        continue;
      }
      const twin = keptByText.get(print.key) ?? kept.find((other) => nearDuplicate(other.fingerprint, print))?.card;
      if (twin) {
        noteDuplicate(twin.hit, row);
        continue;
      }
      const hit = toHit(row, candidate, mode === 'hybrid' ? candidate.score : (ownScores.get(candidate.label) ?? candidate.score));
      const card: Card = { hit, passages: 1, part };
      cards.push(card);
      kept.push({ fingerprint: print, card });
      keptByText.set(print.key, card);
    }
  }
  const hits = cards.slice(0, k).map((card) => card.hit);
  for (const hit of hits) hit.highlights = highlightRanges(text, hit.text, context.tokenizer);
  const result: SearchResult = { hits, mode, lexicalOnly: !context.dense, tookMs: performance.now() - started };
  if (notice) result.notice = notice;
  return result;
}

/** A word in fewer than this share of passages (or, in a small knowledge base, this many) is one of the question's rare words. */
const RARE_WORD_SHARE = 0.003;
const RARE_WORD_PASSAGES = 3;
/** The first lexical hits whose text (with title and headings) is checked for the rare words. */
const CHECKED_LEXICAL_HITS = 3;

/**
 * The share (by rarity, −ln share) of the question's rare words that none of the first lexical hits holds:
 * near 1 when the question is worded away from the text the lexical list found (升降梯 for 电梯), near 0
 * when the lexical list found the question's own words.
 */
function missingRareWords(text: string, lexicalHits: Array<{ key: number }>, context: RetrievalIndexes, read: Map<number, PassageRow>): number {
  const rare = context.tokenizer
    .queryTerms(text)
    .words.map((word) => ({ word, share: context.lexical.wordShare(word) }))
    .filter((w) => w.word.length >= 2 && w.share > 0 && (w.share < RARE_WORD_SHARE || w.share * context.lexical.size <= RARE_WORD_PASSAGES));
  if (rare.length === 0) return 0;
  const rows = readRows(context, lexicalHits.slice(0, CHECKED_LEXICAL_HITS).map((h) => h.key), read);
  const held = rows.map((row) => foldText(stripWhitespace(row.title + row.passage.headingPath.join('') + row.passage.text)));
  let total = 0;
  let missing = 0;
  for (const { word, share } of rare) {
    const weight = -Math.log(share);
    total += weight;
    if (!held.some((t) => t.includes(word))) missing += weight;
  }
  return missing / total;
}

/** Fact types a sign-off passage (signature, date, contact and cc lines) answers: who replied, when, whom to call. */
const SIGN_OFF_FACTS: ReadonlySet<FactType> = new Set<FactType>(['unit', 'date', 'contact']);
/**
 * A sign-off passage's fused score is multiplied by this for a question that asks some other fact (有什么补贴,
 * 多少钱). It is short and names the issuer's place, so BM25 ranks it high on a place name alone
 * ("东川省对购买新能源汽车有什么补贴？" had four unrelated replies' sign-offs in its top 5); demoted rather than
 * dropped. Hybrid R@5 / R@10 / MRR@10 on the evaluation corpus (22,390 passages, PARSER_VERSION 9): × 1 NCPQA
 * 0.878 / 0.903 / 0.731, paraphrase 0.643 / 0.667 / 0.488, scoped 0.952 / 1.000 / 0.730; × 0.5 0.878 / 0.906 /
 * 0.734, 0.643 / 0.667 / 0.489, 0.952 / 1.000 / 0.734; × 0.25 0.878 / 0.907 / 0.734, 0.643 / 0.667 / 0.489,
 * 0.952 / 1.000 / 0.734. At × 0.5 the sample corpus's example (hybrid, e5) still has one unrelated reply's
 * sign-off in its top 10; at × 0.25 none (tests/e2e/e5-search.test.ts).
 */
const SIGN_OFF_FACTOR = 0.25;
/**
 * A question that asks no fact (a bare unit name, 东川省医疗保障局) may be looking for the sign-off itself:
 * × 0.25 pushed it out of the top 10 on the sample corpus (lexical), × 0.5 keeps it there.
 */
const SIGN_OFF_FACTOR_NO_FACT = 0.5;

/** `candidates` (best first) with sign-off passages' scores multiplied by `factor`, the order otherwise kept. */
function demoteSignOff<T extends { label: number; score: number }>(candidates: T[], partOf: (label: number) => PassagePart, factor: number): T[] {
  const weighed = candidates.map((c, i) => ({ c, i, score: partOf(c.label) === 'signOff' ? c.score * factor : c.score }));
  weighed.sort((a, b) => b.score - a.score || a.i - b.i);
  return weighed.map((w) => ({ ...w.c, score: w.score }));
}

/**
 * Passages that name a place the question asks about (by its name or short form): the lexical index's own postings.
 * The candidate rows read for the years asked are left in `read` for the caller.
 */
function namingScope(
  context: RetrievalIndexes,
  scope: QuestionScope,
  candidates: Array<{ label: number }>,
  accept: ((label: number) => boolean) | undefined,
  read: Map<number, PassageRow>,
): NamingScope {
  const places = new Set<number>();
  for (const place of scope.places) {
    for (const form of placeForms(place)) for (const hit of context.lexical.search(form, PLACE_POSTINGS, accept)) places.add(hit.key);
  }
  // Years are read in the candidates' own text (a lexical search for 2024年 would match every 年); a
  // candidate whose document is of the year asked has its boost already, so only the others are read.
  const years = new Set<number>();
  const otherYear = candidates.filter((c) => {
    const year = context.scopeOf?.(c.label)?.year;
    return year === undefined || !scope.years.includes(year);
  });
  if (scope.years.length > 0 && otherYear.length > 0) {
    const labels = otherYear.map((c) => c.label);
    readRows(context, labels, read);
    for (const label of labels) {
      const row = read.get(label);
      if (row && scope.years.some((year) => row.passage.text.includes(`${year}年`))) years.add(label);
    }
  }
  return { places, years };
}
/** The rows of `labels` that the store still holds, in order; rows not in `read` yet are read from the store and added to it. */
function readRows(context: RetrievalIndexes, labels: number[], read: Map<number, PassageRow>): PassageRow[] {
  const unread = labels.filter((label) => !read.has(label));
  if (unread.length > 0) for (const [label, row] of context.passages(unread)) read.set(label, row);
  return labels.flatMap((label) => read.get(label) ?? []);
}

/** Enough passages naming a place or year to cover any fused list (depth ≤ 4 × MAX_K per retriever). */
const PLACE_POSTINGS = 1000;

function noteDuplicate(kept: SearchHit, row: PassageRow): void {
  if (row.documentId === kept.citation.documentId) return;
  const also = (kept.alsoIn ??= []);
  if (!also.includes(row.documentId)) also.push(row.documentId);
}

/** A hit being assembled: how many passages it spans (one, or two once a neighbour joined it) and their part. */
interface Card {
  hit: SearchHit;
  passages: number;
  part: PassagePart | undefined;
}

/**
 * The hits a neighbouring passage may join, from the top: a passage continuing one of the first NEIGHBOUR_WINDOW
 * hits of its document joins it, whatever k is (up to NEIGHBOUR_WINDOW), so the first hits do not depend on k.
 * A hit spans at most two passages. Why: 25 of the 69 NCPQA answers missed at 5 lay in no single passage (cut
 * by a passage boundary: 17 of them by one), and many questions matched one passage while the next held the
 * answer. R@1 / R@5 / R@10 / MRR@10 on the evaluation corpus (22,392 passages, PARSER_VERSION 13), separate →
 * joined within the first 20: NCPQA hybrid 0.653 / 0.895 / 0.921 / 0.755 → 0.737 / 0.935 / 0.953 / 0.822
 * (strict, copies not counted: 0.631 / 0.857 / 0.884 / 0.726 → 0.708 / 0.891 / 0.909 / 0.786), lexical
 * 0.632 / 0.872 / 0.916 / 0.738 → 0.725 / 0.906 / 0.942 / 0.806; every other set, hybrid and lexical, equal or
 * higher (README "Semantic search measured"). Within the first 10 instead: NCPQA hybrid 0.734 / 0.927 / 0.945 /
 * 0.818 and lower on the held-out sets (held-out answerable R@5 0.800 against 0.850, held-out paraphrase 0.757
 * against 0.784, long-document tuning 0.840 against 0.880). What it costs: NCPQA hybrid top-5 hits are 228 → 359
 * characters long on average, 61% of them joined (within the first 10: 330, 48%); a lexical query costs ~2 CPU-ms
 * more (2.8–3.2 → 4.9–5.3 per NCPQA question: twice the candidates read and compared), highlights being marked
 * only on the hits returned.
 */
const NEIGHBOUR_WINDOW = 20;
/** Farther apart than this, two passages have a heading or other text between them: never neighbours. */
const NEIGHBOUR_GAP_CHARS = 40;

/**
 * Extend `hit` over `row` when `row` is the passage before or after it in the same document, with nothing but
 * white space between them (an overlap is fine); false, and `hit` unchanged, otherwise.
 */
function joinNeighbour(hit: SearchHit, row: PassageRow, context: RetrievalIndexes): boolean {
  const { citation } = hit;
  const { passage } = row;
  if (row.documentId !== citation.documentId) return false;
  const [first, second] = passage.start < citation.start ? [passage, citation] : [citation, passage];
  if (second.start > first.end + NEIGHBOUR_GAP_CHARS || second.end <= first.end || second.start <= first.start) return false;
  const start = first.start;
  const end = second.end;
  const text = context.documentText(row.documentId, { start, end });
  if (text === undefined || text.slice(first.end - start, second.start - start).trim() !== '') return false;
  if (passage.start < citation.start) citation.headingPath = passage.headingPath;
  citation.start = start;
  citation.end = end;
  if (passage.pages) citation.pages = citation.pages ? [Math.min(citation.pages[0], passage.pages[0]), Math.max(citation.pages[1], passage.pages[1])] : passage.pages;
  if (passage.lowConfidence) hit.lowConfidence = true;
  hit.text = text;
  return true;
}

function toHit(row: PassageRow, candidate: Candidate, score: number): SearchHit {
  const { passage } = row;
  const hit: SearchHit = {
    passageId: passage.id,
    text: passage.text,
    citation: {
      documentId: row.documentId,
      title: row.title,
      headingPath: passage.headingPath,
      start: passage.start,
      end: passage.end,
    },
    kind: row.kind,
    score,
    ranks: candidate.ranks,
    highlights: [], // marked once the hits are final (retrieve)
  };
  if (passage.pages) hit.citation.pages = passage.pages;
  if (row.issuer) hit.issuer = row.issuer;
  if (row.date) hit.date = row.date;
  if (passage.lowConfidence) hit.lowConfidence = true;
  return hit;
}
