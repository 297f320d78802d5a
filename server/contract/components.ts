/**
 * Response shapes several routes share. The domain types they carry are
 * declared in kb/types.ts and search/; each schema here is tied to its domain
 * type by `sameShape`, so a field added, removed or retyped on either side
 * fails `tsc` at this file instead of drifting silently. Response objects are
 * strict: tests/e2e/contract.test.ts fails on a field the contract lacks.
 */
import { z } from 'zod';
import type {
  AnswerCitation,
  Citation,
  DocumentMetadata,
  DocumentSummary,
  KnowledgeBaseHealth,
  Paragraph,
  Place,
  SearchFilters,
  SearchHit,
  SearchResult,
} from '../../kb/types.ts';
import type { ExtractiveAnswer } from '../../search/answer.ts';
import { FACT_NAMES, type FactType } from '../../search/question.ts';
import type { GeneratedAnswer } from '../../search/generate.ts';
import type { SimilarResult } from '../../search/precedents.ts';
import { component } from './define.ts';
import { documentKind, retrievalMode } from './fields.ts';

/** True when A and B are the same type (not merely assignable). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Fails to compile unless the wire shape and the domain type are the same. */
export function sameShape<_Wire, _Domain>(_proof: Same<_Wire, _Domain>): void {}

const int = () => z.number().int();

export const errorBody = component(
  'Error',
  z.strictObject({
    error: z.strictObject({
      field: z.string().optional().meta({ description: '出错的字段（查询参数、请求体字段或 id、files、authorization）' }),
      message: z.string(),
    }),
  }),
);
export type ErrorBody = z.output<typeof errorBody>;

export const pageSpan = component(
  'PageSpan',
  z.tuple([int(), int()]).meta({ description: '[首页, 末页]，从 1 起（仅 PDF）' }),
);

export const citation = component(
  'Citation',
  z.strictObject({
    documentId: z.string(),
    title: z.string(),
    headingPath: z.array(z.string()),
    pages: pageSpan.optional(),
    start: int().meta({ description: '文档全文中的起始偏移（UTF-16，含）' }),
    end: int().meta({ description: '结束偏移（不含）' }),
  }),
);
sameShape<z.output<typeof citation>, Citation>(true);

export const answerCitation = component(
  'AnswerCitation',
  citation.extend({
    n: int(),
    quote: z.string().meta({ description: '等于文档全文 [start, end)' }),
    place: z.string().optional().meta({ description: '所引文件涉及的地方' }),
    year: int().optional().meta({ description: '所引文件涉及的年份' }),
    docNumber: z.string().optional(),
  }),
);
sameShape<z.output<typeof answerCitation>, AnswerCitation>(true);

export const searchHit = component(
  'SearchHit',
  z.strictObject({
    passageId: z.string(),
    text: z.string(),
    citation,
    kind: documentKind,
    issuer: z.string().optional(),
    date: z.string().optional(),
    score: z.number(),
    ranks: z.strictObject({ lexical: int().optional(), dense: int().optional() }).meta({ description: '各检索器给出的名次，从 1 起' }),
    highlights: z.array(z.tuple([int(), int()])).meta({ description: 'text 中命中词的 [start, end) 范围' }),
    lowConfidence: z.literal(true).optional().meta({ description: 'OCR 识别置信度低的段落，引用前请核对原件' }),
    alsoIn: z.array(z.string()).optional().meta({ description: '内容相同或几乎相同、已并入本条的其他文档' }),
  }),
);
sameShape<z.output<typeof searchHit>, SearchHit>(true);

export const searchFilters = component(
  'SearchFilters',
  z.strictObject({
    kind: z.array(documentKind).optional(),
    issuer: z.string().optional(),
    dateFrom: z.string().optional(),
    dateTo: z.string().optional(),
    pathPrefix: z.string().optional(),
  }),
);
sameShape<z.output<typeof searchFilters>, SearchFilters>(true);

/** What every retrieval reports beside its results. */
export const retrievalReport = {
  mode: retrievalMode,
  lexicalOnly: z.boolean(),
  notice: z.string().optional().meta({ description: '实际检索方式与请求不同的原因' }),
  tookMs: z.number(),
};

export const searchResult = z.strictObject({ hits: z.array(searchHit), ...retrievalReport });
sameShape<z.output<typeof searchResult>, SearchResult>(true);

export const extractiveAnswer = z.strictObject({
  text: z.string(),
  sentences: z.array(
    z.strictObject({
      text: z.string(),
      citations: z.array(int()),
      continuation: z.literal(true).optional().meta({ description: '只是补全上一句（列举的各项）' }),
    }),
  ),
  factType: z.enum(Object.keys(FACT_NAMES) as [FactType, ...FactType[]]).optional().meta({ description: '问题所问的事实类型' }),
  list: z.literal(true).optional().meta({ description: '列举式回答：每个来源段落一项' }),
  about: z.string().optional().meta({ description: '所引内容涉及的地方与年份（东川省 · 2025年）' }),
});
sameShape<z.output<typeof extractiveAnswer>, ExtractiveAnswer>(true);

export const generatedAnswer = z
  .union([
    z.strictObject({
      model: z.string(),
      text: z.string(),
      sentences: z.array(z.strictObject({ text: z.string(), citations: z.array(int()), uncited: z.boolean() })),
      citations: z.array(answerCitation),
      invalidCitations: z.array(int()),
      uncitedSentences: int(),
    }),
    z.strictObject({ model: z.string(), error: z.string() }),
  ])
  .meta({ description: '仅在配置了 KB_LLM_URL/KB_LLM_MODEL 时出现；uncited 标出没有引文支持的句子' });
sameShape<z.output<typeof generatedAnswer>, GeneratedAnswer>(true);

const queryPart = z.strictObject({ index: int(), text: z.string(), start: int(), end: int() });

/** How a ranked earlier document is named in the precedent finders' results. */
export const rankedDocumentFields = {
  documentId: z.string(),
  title: z.string(),
  kind: documentKind,
  issuer: z.string().optional(),
  date: z.string().optional(),
  alsoIn: z.array(z.string()).optional(),
};

export const similarResult = z.strictObject({
  parts: z.array(queryPart),
  documents: z.array(
    z.strictObject({
      ...rankedDocumentFields,
      score: z.number().meta({ description: '0–1：各句检索名次的平均得分，1 表示每一句都排第一（相对分，仅用于排序）' }),
      similarity: z.number().optional().meta({ description: '0–1：经校准的“同一问题”概率（嵌入模型余弦经逻辑曲线映射），同一数值在任何查询中含义相同；无模型时没有' }),
      matchedParts: int(),
      pairs: z.array(
        z.strictObject({
          query: queryPart,
          match: z.strictObject({
            text: z.string(),
            paragraphIndex: int(),
            citation,
            rank: int(),
            overlap: z.number(),
          }),
        }),
      ),
    }),
  ),
  ...retrievalReport,
});
sameShape<z.output<typeof similarResult>, SimilarResult>(true);

export const place = component(
  'Place',
  z.strictObject({
    name: z.string().meta({ description: '全国，或行政区划名称' }),
    code: z.string().optional().meta({ description: 'GB/T 2260 代码' }),
    level: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
    province: z.string().optional(),
    city: z.string().optional(),
  }),
);
sameShape<z.output<typeof place>, Place>(true);

export const documentMetadata = z.strictObject({
  docNumber: z.string().optional(),
  session: z.string().optional(),
  proposalNumber: int().optional(),
  proposer: z.string().optional(),
  proposalTitle: z.string().optional(),
  issuer: z.string().optional(),
  date: z.string().optional(),
  cc: z.array(z.string()).optional(),
  addressee: z.string().optional(),
  contact: z.string().optional(),
  place: place.optional(),
  year: int().optional(),
});
sameShape<z.output<typeof documentMetadata>, DocumentMetadata>(true);

export const documentSummary = component(
  'DocumentSummary',
  z.strictObject({
    id: z.string(),
    title: z.string(),
    kind: documentKind,
    format: z.enum(['pdf', 'docx', 'doc', 'ofd', 'image', 'html', 'txt', 'md', 'jsonl']),
    metadata: documentMetadata,
    paragraphCount: int(),
    passageCount: int(),
    pageCount: int().optional(),
    needsOcr: z.boolean(),
    ocr: z.strictObject({ pages: int(), confidence: z.number().min(0).max(1) }).optional()
      .meta({ description: 'OCR 识别的页数与平均字符置信度' }),
    warnings: z.array(z.string()),
    indexedAt: z.string(),
  }),
);
sameShape<z.output<typeof documentSummary>, DocumentSummary>(true);

export const paragraph = z.strictObject({
  index: int(),
  text: z.string(),
  role: z.enum(['title', 'docNumber', 'addressee', 'heading', 'body', 'closing', 'signature', 'date', 'contact', 'cc', 'note', 'table-header', 'table-row', 'message'])
    .meta({ description: "table-header：表格的列标题行；table-row：表格的一行，单元格以 ' | ' 分隔、各带列标题（列标题：内容）；message：该答复所答的群众来信原文（可检索，不作为答案引用）" }),
  headingPath: z.array(z.string()),
  headingLevel: int().optional(),
  pages: pageSpan.optional(),
  start: int(),
  end: int(),
  confidence: z.number().min(0).max(1).optional().meta({ description: 'OCR 识别的段落：平均字符置信度（0–1）' }),
  lowConfidence: z.literal(true).optional().meta({ description: 'OCR 置信度低' }),
});
sameShape<z.output<typeof paragraph>, Paragraph>(true);

export const knowledgeBaseHealth = {
  documents: int(),
  kinds: z.record(documentKind, int()).meta({ description: '各类型的文档数（每种类型都列出，含 0）' }),
  passages: int(),
  model: z.strictObject({ id: z.string(), dimension: int() }).optional(),
  mode: z.enum(['hybrid', 'lexical-only']),
  lexicalOnlyReason: z.string().optional(),
  modelStatus: z
    .strictObject({
      state: z.enum(['obtaining', 'loading', 'embedding', 'ready', 'unavailable']),
      model: z.string(),
      message: z.string(),
      step: z.string().optional(),
      progress: z.number().min(0).max(1).optional(),
    })
    .optional()
    .meta({ description: '`npm start` 在后台获取语义模型时的进度（获取、加载、生成向量、就绪或不可用）' }),
  index: z.strictObject({ vectors: int(), state: z.enum(['ready', 'rebuilt', 'absent']) }),
};
sameShape<z.output<z.ZodObject<typeof knowledgeBaseHealth>>, KnowledgeBaseHealth>(true);
