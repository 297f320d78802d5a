/**
 * A named place and year as ranking evidence. 北京 in a question strongly
 * prefers Beijing's documents over Jinan's that repeat the topic's words more
 * often; it filters nothing, so a national policy (or a document of no known
 * place) still answers when no local one does. The same for a year: 2024年
 * prefers documents of 2024 over those of other years.
 *
 * It reorders the fused candidates by multiplying their fusion score, so it
 * needs nothing but the in-memory place and year of each passage's document.
 */
import { questionPlaces, questionYears, within, type Place } from '../kb/places.ts';

export interface QuestionScope {
  places: Place[];
  years: number[];
}

/**
 * Only the years a question writes out rank documents. 今年 and 去年 are the asker's year of the document
 * they have in mind (a 2024 work report's 今年 is 2024), not today's: read against today they demoted that
 * report ×0.8. Measured with `npm run tune-lexical` on every set (22,392 passages), relative years read
 * against today → ignored: hybrid R@5 long-document held-out 0.600 → 0.640, long-document tuning 0.800 →
 * 0.840, lexical MRR@10 held-out paraphrase 0.344 → 0.349, long-document held-out 2 0.595 → 0.603; no
 * figure of any set lower in either mode.
 */
export function questionScope(question: string): QuestionScope {
  return { places: questionPlaces(question), years: questionYears(question, null) };
}

export interface ScopeFactors {
  /** The document is of the place asked or lies within it (海淀区 for 北京). */
  samePlace: number;
  /** The document is of a larger place containing it (山东省 for 济南): it covers the place, less specifically. */
  enclosingPlace: number;
  /** Another place's document (济南 for 北京). */
  otherPlace: number;
  /** The document is of the year asked. */
  sameYear: number;
  /** The document is of another year. */
  otherYear: number;
}

/**
 * Measured with `npm run tune-answers` on NCPQA, bench/paraphrase.jsonl, bench/scoped.jsonl and
 * bench/unanswerable.jsonl at once (17,573 passages). Hybrid, none → these place factors: scoped Recall@5
 * 0.881 → 0.905 and wrong-place top-1 8 → 2, NCPQA Recall@5 0.783 → 0.812, paraphrase 0.643 → 0.690;
 * 2 / 1.3 / 0.35: scoped 0.929 and 1, NCPQA 0.807, more false answers (48.4% against 43.8% then);
 * 1.3 / 1.1 / 0.7: scoped 0.905 and 3. Lexical, none → these: scoped 0.881 → 0.905 and 6 → 3, NCPQA
 * 0.860 → 0.848. The year factors alone: scoped 0.881 → 0.905, paraphrase 0.643 → 0.619 (去年 read
 * against today, not against the report's year).
 */
export const SCOPE_FACTORS: ScopeFactors = { samePlace: 1.5, enclosingPlace: 1.2, otherPlace: 0.5, sameYear: 1.3, otherYear: 0.8 };

/** The forms a place goes by in text: its name and short form (山东省, 山东). */
export function placeForms(place: Place): string[] {
  const short = place.name.replace(/(壮族|回族|维吾尔)?(自治区|特别行政区|省|市|地区|盟)$/, '');
  return short.length >= 2 && short !== place.name ? [place.name, short] : [place.name];
}

type DocumentScope = { place?: Place; year?: number } | undefined;

/** The candidates whose own text names a place asked, or a year asked. */
export interface NamingScope {
  places?: ReadonlySet<number>;
  years?: ReadonlySet<number>;
}

/**
 * The factor a document's place and year earn against the question's scope; 1 when nothing is known or
 * asked. A passage of another place's document that names the place asked (a Jiangsu company's donation
 * to 湖北) is not another place's answer and keeps its score. A passage that names the year asked is of
 * that year, whatever its document's date (a 2025 reply's 我市于2024年修订出台… answers a question about 2024).
 */
export function scopeFactor(scope: QuestionScope, document: DocumentScope, factors: ScopeFactors = SCOPE_FACTORS, namesPlaceAsked = false, namesYearAsked = false): number {
  let factor = 1;
  const place = document?.place;
  if (scope.places.length > 0 && place && place.level > 0) {
    if (scope.places.some((q) => within(place, q))) factor *= factors.samePlace;
    else if (scope.places.some((q) => within(q, place))) factor *= factors.enclosingPlace;
    else if (!namesPlaceAsked) factor *= factors.otherPlace;
  }
  const year = document?.year;
  if (scope.years.length > 0) {
    if ((year !== undefined && scope.years.includes(year)) || namesYearAsked) factor *= factors.sameYear;
    else if (year !== undefined) factor *= factors.otherYear;
  }
  return factor;
}

/** `candidates` (fused, best first) reordered by their score times their document's scope factor. */
export function preferScope<T extends { label: number; score: number }>(
  candidates: T[],
  scope: QuestionScope,
  scopeOf: (label: number) => DocumentScope,
  naming: NamingScope = {},
  factors: ScopeFactors = SCOPE_FACTORS,
): T[] {
  if (scope.places.length === 0 && scope.years.length === 0) return candidates;
  const weighed = candidates.map((c, i) => ({
    c,
    i,
    score: c.score * scopeFactor(scope, scopeOf(c.label), factors, naming.places?.has(c.label) ?? false, naming.years?.has(c.label) ?? false),
  }));
  weighed.sort((a, b) => b.score - a.score || a.i - b.i);
  return weighed.map((w) => ({ ...w.c, score: w.score }));
}
