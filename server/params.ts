/**
 * Reading request parameters into domain values. Every reader either returns
 * a valid value or throws a 400 naming the field and what was wrong, so route
 * handlers never see a half-valid request.
 */
import { DOCUMENT_KINDS, type DocumentKind, type RetrievalMode, type SearchFilters } from '../kb/types.ts';
import { badRequest } from './errors.ts';

export const LIMITS = {
  queryChars: 1000,
  questionChars: 500,
  similarChars: 20_000,
  maxK: 100,
  maxAskK: 20,
  maxSimilarK: 50,
  maxPageSize: 200,
} as const;

const MODES: readonly RetrievalMode[] = ['hybrid', 'lexical', 'dense'];

/** Query-string values arrive as string, string[] or nested objects; only one string is meaningful. */
function single(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    if (value.length > 1) throw badRequest(field, `${field} 只能给一个值`);
    return single(value[0], field);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw badRequest(field, `${field} 必须是字符串`);
  return value;
}

export function requiredText(value: unknown, field: string, maxChars: number): string {
  if (value !== undefined && typeof value !== 'string' && !Array.isArray(value)) throw badRequest(field, `${field} 必须是字符串`);
  const text = single(value, field)?.trim();
  if (!text) throw badRequest(field, `缺少 ${field}，或 ${field} 为空`);
  if (text.length > maxChars) throw badRequest(field, `${field} 过长：${text.length} 字，最多 ${maxChars} 字`);
  return text;
}

export function optionalInt(value: unknown, field: string, min: number, max: number): number | undefined {
  const raw = single(value, field);
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw badRequest(field, `${field} 必须是整数，收到 "${raw.slice(0, 40)}"`);
  const n = Number(raw);
  if (n < min || n > max) throw badRequest(field, `${field} 必须在 ${min} 到 ${max} 之间，收到 ${raw.slice(0, 40)}`);
  return n;
}

export function optionalMode(value: unknown, field = 'mode'): RetrievalMode | undefined {
  const raw = single(value, field);
  if (raw === undefined || raw === '') return undefined;
  if (!(MODES as readonly string[]).includes(raw)) throw badRequest(field, `${field} 只能是 ${MODES.join('、')} 之一`);
  return raw as RetrievalMode;
}

/** `kind` as "a,b", a repeated parameter, or a JSON array. */
export function optionalKinds(value: unknown, field = 'kind'): DocumentKind[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const list = (Array.isArray(value) ? value : [value]).flatMap((v) => {
    if (typeof v !== 'string') throw badRequest(field, `${field} 必须是字符串或字符串数组`);
    return v.split(',').map((s) => s.trim()).filter(Boolean);
  });
  for (const kind of list) {
    if (!(DOCUMENT_KINDS as readonly string[]).includes(kind))
      throw badRequest(field, `未知的文档类型 "${kind.slice(0, 40)}"，可选：${DOCUMENT_KINDS.join('、')}`);
  }
  return list.length > 0 ? (list as DocumentKind[]) : undefined;
}

const ISO_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

export function optionalDate(value: unknown, field: string): string | undefined {
  const raw = single(value, field)?.trim();
  if (!raw) return undefined;
  const m = ISO_DATE.exec(raw);
  const month = m?.[2] ? Number(m[2]) : 1;
  const day = m?.[3] ? Number(m[3]) : 1;
  if (!m || month < 1 || month > 12 || day < 1 || day > 31)
    throw badRequest(field, `${field} 必须是 YYYY、YYYY-MM 或 YYYY-MM-DD 格式的日期，收到 "${raw.slice(0, 40)}"`);
  return raw;
}

export function optionalString(value: unknown, field: string, maxChars: number): string | undefined {
  const raw = single(value, field)?.trim();
  if (!raw) return undefined;
  if (raw.length > maxChars) throw badRequest(field, `${field} 过长，最多 ${maxChars} 字`);
  return raw;
}

/**
 * Filters from a query string (kind, issuer, from, to, prefix) or from a JSON
 * object with the same names (dateFrom/dateTo also accepted there).
 */
export function readFilters(source: Record<string, unknown>, prefix = ''): SearchFilters | undefined {
  const name = (field: string) => `${prefix}${field}`;
  const kind = optionalKinds(source.kind, name('kind'));
  const issuer = optionalString(source.issuer, name('issuer'), 100);
  const dateFrom = optionalDate(source.from ?? source.dateFrom, name('from'));
  const dateTo = optionalDate(source.to ?? source.dateTo, name('to'));
  const pathPrefix = optionalString(source.prefix ?? source.pathPrefix, name('prefix'), 500);
  const filters: SearchFilters = {
    ...(kind ? { kind } : {}),
    ...(issuer ? { issuer } : {}),
    ...(dateFrom ? { dateFrom } : {}),
    ...(dateTo ? { dateTo } : {}),
    ...(pathPrefix ? { pathPrefix } : {}),
  };
  return Object.keys(filters).length > 0 ? filters : undefined;
}

/** `filters` in a JSON body: absent, or an object. */
export function bodyFilters(value: unknown): SearchFilters | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('filters', 'filters 必须是对象');
  return readFilters(value as Record<string, unknown>, 'filters.');
}

/** A JSON body must be an object; anything else (a bare string, an array, nothing) is named as such. */
export function jsonObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('body', '请求体必须是 JSON 对象（Content-Type: application/json）');
  return body as Record<string, unknown>;
}
