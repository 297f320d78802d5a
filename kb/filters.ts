/**
 * What a search or list filter means for one document: the one definition
 * both the knowledge base's label filter and its document list apply.
 */
import type { DocumentKind, SearchFilters } from './types.ts';

/** What filters read about a document. */
export interface DocumentFacts {
  id: string;
  kind: DocumentKind;
  issuer: string | null;
  date: string | null;
}

/** Does a document's ISO date fall in an inclusive range given as YYYY, YYYY-MM or YYYY-MM-DD? */
export function dateInRange(date: string | null, from: string | undefined, to: string | undefined): boolean {
  if (!from && !to) return true;
  if (!date) return false;
  // Comparing the date's prefix of the bound's length makes "2024" as an upper bound include 2024-12-31.
  if (from && date.slice(0, from.length) < from) return false;
  if (to && date.slice(0, to.length) > to) return false;
  return true;
}

export function documentMatches(doc: DocumentFacts, filters: SearchFilters): boolean {
  if (filters.kind && filters.kind.length > 0 && !filters.kind.includes(doc.kind)) return false;
  if (filters.issuer && !(doc.issuer ?? '').includes(filters.issuer)) return false;
  if (filters.pathPrefix && !doc.id.startsWith(filters.pathPrefix)) return false;
  return dateInRange(doc.date, filters.dateFrom, filters.dateTo);
}

export function hasFilters(filters: SearchFilters | undefined): filters is SearchFilters {
  if (!filters) return false;
  return Boolean((filters.kind && filters.kind.length > 0) || filters.issuer || filters.pathPrefix || filters.dateFrom || filters.dateTo);
}
