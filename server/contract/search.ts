/** Contracts of the retrieval routes: search, ask (extractive answer), similar (precedent finder). */
import { z } from 'zod';
import { answerCitation, extractiveAnswer, generatedAnswer, retrievalReport, searchFilters, searchHit, similarResult } from './components.ts';
import { ASK_DEFAULT_K } from '../../search/ask.ts';
import { component, defineRoute } from './define.ts';
import { bodyFilters, fieldsOf, filterShape, integer, LIMITS, NOT_A_JSON_OBJECT, optionalMode, requiredText, toSearchFilters } from './fields.ts';

export const searchRoute = defineRoute({
  method: 'get',
  path: '/api/search',
  summary: '检索段落，附引文、命中词高亮范围与各检索器名次',
  query: fieldsOf(
    z.object({
      q: requiredText(LIMITS.queryChars).meta({ description: '查询文本；"…" 或 “…” 中的短语精确匹配' }),
      k: integer(1, LIMITS.maxK).default(10),
      mode: optionalMode,
      ...filterShape,
    }),
    '{field} 无效',
  ).transform(({ q, k, mode, ...filters }) => ({ q, k, mode, filters: toSearchFilters(filters) })),
  response: component('SearchResult', z.strictObject({
    query: z.string(),
    k: z.number().int(),
    filters: searchFilters.optional(),
    hits: z.array(searchHit),
    ...retrievalReport,
  })),
  responseDescription: '检索结果',
  errors: [400],
  examples: [
    { summary: '关键词检索', query: { q: '城区内涝 排水管网', k: '5' } },
    { summary: '按类型筛选', query: { q: '幼儿园', kind: 'policy', mode: 'lexical' } },
  ],
});

const askBody = fieldsOf(
  z.object({
    question: requiredText(LIMITS.questionChars),
    k: integer(1, LIMITS.maxAskK).default(ASK_DEFAULT_K).meta({ description: '检索的段落数' }),
    mode: optionalMode,
    filters: bodyFilters,
  }),
  NOT_A_JSON_OBJECT,
);

export const askRoute = defineRoute({
  method: 'post',
  path: '/api/ask',
  work: 'heavy',
  summary: '抽取式问答：从最相关段落中原文摘取 1–3 句，每句带引文；引文在返回前与原文校验',
  body: askBody,
  response: component('AskResult', z.strictObject({
    question: z.string(),
    answer: extractiveAnswer.nullable(),
    reason: z.string().optional().meta({ description: 'answer 为 null 时说明原因' }),
    citations: z.array(answerCitation),
    verified: z.literal(true),
    generated: generatedAnswer.optional(),
    hits: z.array(searchHit),
    ...retrievalReport,
  })),
  responseDescription: '回答（answer 为 null 时 reason 说明原因）',
  errors: [400, 413],
  examples: [
    { summary: '有答案的问题', body: { question: '城区内涝治理采取了哪些措施？' } },
    { summary: '带筛选', body: { question: '普惠性民办幼儿园怎么认定？', k: 5, filters: { kind: ['policy'] } } },
  ],
});

export const similarRoute = defineRoute({
  method: 'post',
  path: '/api/similar',
  work: 'heavy',
  summary: '查找先例答复：与一份新提案最相似的既有文档，附逐句对齐的段落',
  body: fieldsOf(
    z.object({
      text: requiredText(LIMITS.similarChars),
      k: integer(1, LIMITS.maxSimilarK).default(10),
      mode: optionalMode,
      filters: bodyFilters,
    }),
    NOT_A_JSON_OBJECT,
  ),
  response: component('SimilarResult', similarResult),
  responseDescription: '相似文档',
  errors: [400, 413],
  examples: [
    {
      summary: '一份新建议',
      body: { text: '关于加强城区防洪排涝能力建设的建议。建议加快雨污分流和排水管网改造，提高泵站抽排能力。', k: 5 },
    },
  ],
});

export const searchRoutes = [searchRoute, askRoute, similarRoute];
