/**
 * Request fields shared by several routes, each declared once with its limit
 * and its message. Query strings arrive as strings (or string[] when a
 * parameter repeats, since the app uses Express's 'simple' query parser); JSON
 * bodies carry numbers and arrays. The same schemas accept both: a single
 * element list counts as its element, a digit string as its number.
 */
import { z } from 'zod';
import { DOCUMENT_KINDS, RETRIEVAL_MODES, type DocumentKind, type SearchFilters } from '../../kb/types.ts';
import { component } from './define.ts';

/** Request limits: what the validation enforces and what OpenAPI states, from here only. */
export const LIMITS = {
  queryChars: 1000,
  questionChars: 500,
  similarChars: 20_000,
  maxK: 100,
  maxAskK: 20,
  maxSimilarK: 50,
  maxPageSize: 200,
  /** Paragraphs one document read returns: a 5M-paragraph document was 458 MB in one response and froze the server. */
  maxParagraphs: 2000,
  /** Characters of paragraph text one document read returns at most (a page stops early rather than exceed it; one paragraph always comes). */
  maxParagraphChars: 1_000_000,
  maxOffset: 10_000_000,
  issuerChars: 100,
  prefixChars: 500,
  /** A verdict on an answer: what it judged is at most an answer's size (1–3 sentences, or a list of a few paragraphs' sentences). */
  feedbackAnswerChars: 4000,
  feedbackCitations: 20,
  feedbackQuoteChars: 2000,
  feedbackCorrectionChars: 2000,
  titleChars: 500,
  documentIdChars: 1000,
} as const;

/** Longest piece of a bad value repeated back in a message. */
const ECHO_CHARS = 40;
const echo = (value: unknown) => String(value).slice(0, ECHO_CHARS);

/** A repeated query parameter is a mistake (q=a&q=b), except for the list fields that say otherwise. */
function oneValue(value: unknown, ctx: z.RefinementCtx): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length > 1) {
    ctx.addIssue({ code: 'custom', message: '{field} 只能给一个值', input: value });
    return z.NEVER;
  }
  return value[0];
}

/** Absent, null, '' and [] all mean "not given" (a form submits empty inputs as ''). */
const isBlank = (value: unknown) => value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);

/** An object whose blank fields are dropped, so optional fields fall back to their defaults. */
export function fieldsOf<S extends z.ZodType>(schema: S, notAnObject: string) {
  return z.preprocess((value, ctx) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: notAnObject, input: value });
      return z.NEVER;
    }
    return Object.fromEntries(Object.entries(value).filter(([, v]) => !isBlank(v)));
  }, schema);
}

/** Required free text, trimmed, at most `maxChars` characters. */
export function requiredText(maxChars: number) {
  return z.preprocess(
    oneValue,
    z
      .string({ error: (issue) => (issue.input === undefined ? '缺少 {field}，或 {field} 为空' : '{field} 必须是字符串') })
      .trim()
      .min(1, { error: '缺少 {field}，或 {field} 为空' })
      .max(maxChars, { error: (issue) => `{field} 过长：${String(issue.input).length} 字，最多 ${maxChars} 字` }),
  );
}

/** Optional short text, trimmed, at most `maxChars` characters. */
export function optionalText(maxChars: number) {
  return z
    .preprocess(
      oneValue,
      z
        .string()
        .trim()
        .max(maxChars, { error: `{field} 过长，最多 ${maxChars} 字` }),
    )
    .optional();
}

/** An integer in [min, max], given as a number or as digits. */
export function integer(min: number, max: number) {
  const range = (issue: { input?: unknown }) => `{field} 必须在 ${min} 到 ${max} 之间，收到 ${echo(issue.input)}`;
  return z.preprocess(
    (value, ctx) => {
      const one = oneValue(value, ctx);
      if (typeof one === 'number' && Number.isInteger(one)) return one;
      const raw = typeof one === 'string' || typeof one === 'number' || typeof one === 'boolean' ? String(one) : JSON.stringify(one);
      if (!/^-?\d+$/.test(raw.trim())) {
        ctx.addIssue({ code: 'custom', message: `{field} 必须是整数，收到 "${echo(raw)}"`, input: one });
        return z.NEVER;
      }
      return Number(raw);
    },
    z
      .number()
      .int()
      .min(min, { error: range })
      .max(max, { error: range }),
  );
}

export const retrievalMode = component(
  'RetrievalMode',
  z.enum(RETRIEVAL_MODES).meta({ description: '检索方式；没有加载向量模型时 hybrid 与 dense 自动退回 lexical' }),
);

export const optionalMode = z.preprocess(oneValue, retrievalMode).optional();

export const documentKind = component('DocumentKind', z.enum(DOCUMENT_KINDS as readonly DocumentKind[] as [DocumentKind, ...DocumentKind[]]));

/** `kind` as "a,b", a repeated parameter, or a JSON array. */
const kinds = z
  .preprocess(
    (value, ctx) => {
      const list = (Array.isArray(value) ? value : [value]).flatMap((v: unknown) => {
        if (typeof v !== 'string') {
          ctx.addIssue({ code: 'custom', message: '{field} 必须是字符串或字符串数组', input: v });
          return [];
        }
        return v.split(',').map((s) => s.trim()).filter(Boolean);
      });
      return list.length > 0 ? list : undefined;
    },
    z.array(documentKind).optional(),
  )
  .optional()
  .meta({ description: '文档类型；查询串中用逗号分隔（proposal-reply,policy）' });

const ISO_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
const dateMessage = (issue: { input?: unknown }) => `{field} 必须是 YYYY、YYYY-MM 或 YYYY-MM-DD 格式的日期，收到 "${echo(issue.input)}"`;

const date = (description: string) =>
  z
    .preprocess(
      oneValue,
      z
        .string()
        .trim()
        .regex(ISO_DATE, { error: dateMessage, abort: true })
        .refine(
          (raw) => {
            const m = ISO_DATE.exec(raw)!;
            const month = m[2] ? Number(m[2]) : 1;
            const day = m[3] ? Number(m[3]) : 1;
            return month >= 1 && month <= 12 && day >= 1 && day <= 31;
          },
          { error: dateMessage },
        ),
    )
    .optional()
    .meta({ description });

/** Filter fields as a client names them, in a query string or in a body's `filters`. */
export const filterShape = {
  kind: kinds,
  issuer: optionalText(LIMITS.issuerChars).meta({ description: '发文/答复单位（子串匹配）' }),
  from: date('起始日期（含），YYYY、YYYY-MM 或 YYYY-MM-DD'),
  to: date('截止日期（含），YYYY、YYYY-MM 或 YYYY-MM-DD'),
  prefix: optionalText(LIMITS.prefixChars).meta({ description: '文档 id 前缀（语料中的子目录）' }),
  dateFrom: date('from 的别名'),
  dateTo: date('to 的别名'),
  pathPrefix: optionalText(LIMITS.prefixChars).meta({ description: 'prefix 的别名' }),
};

type FilterFields = {
  kind?: DocumentKind[] | undefined;
  issuer?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  prefix?: string | undefined;
  dateFrom?: string | undefined;
  dateTo?: string | undefined;
  pathPrefix?: string | undefined;
};

/** Wire names to the domain's SearchFilters; no filter at all is `undefined`. */
export function toSearchFilters(fields: FilterFields): SearchFilters | undefined {
  const dateFrom = fields.from ?? fields.dateFrom;
  const dateTo = fields.to ?? fields.dateTo;
  const pathPrefix = fields.prefix || fields.pathPrefix;
  const filters: SearchFilters = {
    ...(fields.kind ? { kind: fields.kind } : {}),
    ...(fields.issuer ? { issuer: fields.issuer } : {}),
    ...(dateFrom ? { dateFrom } : {}),
    ...(dateTo ? { dateTo } : {}),
    ...(pathPrefix ? { pathPrefix } : {}),
  };
  return Object.keys(filters).length > 0 ? filters : undefined;
}

/** `filters` in a JSON body: absent, or an object with the filter fields. */
export const bodyFilters = fieldsOf(z.object(filterShape), 'filters 必须是对象')
  .transform(toSearchFilters)
  .optional();

export const NOT_A_JSON_OBJECT = '请求体必须是 JSON 对象（Content-Type: application/json）';

/** A document id as one decoded path segment. */
export const documentIdParams = z.object({
  id: z.string().min(1).meta({
    description: '文档 id（语料相对路径，JSONL 记录为 `<file>#<record id>`），整体用 encodeURIComponent 编码为一个路径段',
  }),
});
