/** Contracts of the drafter's routes: precedents per suggestion of a proposal, and reading a proposal file. */
import { z } from 'zod';
import type { PrecedentsResult } from '../../search/precedents.ts';
import { citation, rankedDocumentFields, retrievalReport, sameShape } from './components.ts';
import { component, defineRoute } from './define.ts';
import { bodyFilters, documentIdParams, documentKind, fieldsOf, filterShape, integer, LIMITS, NOT_A_JSON_OBJECT, optionalMode, requiredText, toSearchFilters } from './fields.ts';

const int = () => z.number().int();
const textSpan = { text: z.string(), start: int(), end: int() };
const span = z.strictObject(textSpan);

const suggestion = z.strictObject({
  ...textSpan,
  index: int().meta({ description: '第几条建议，从 0 起' }),
  label: z.string().optional().meta({ description: '提案中的编号（一、（二）3.）；无编号的段落没有' }),
});

const precedentExcerpt = z.strictObject({
  documentId: z.string(),
  title: z.string(),
  kind: documentKind,
  text: z.string().meta({ description: '原文摘录：答复正文同一段中的连续句子' }),
  sentences: z.array(span),
  paragraphIndex: int(),
  citation,
  coverage: z.number().meta({ description: '0–1：建议的实词（字二元组）在该段中出现的比例，只取决于两段文字' }),
  similarity: z.number().optional().meta({ description: '0–1：经校准的概率，该段回答的是这条建议的问题（嵌入模型余弦经逻辑曲线映射）；无模型时没有' }),
});

const precedentsResult = z.strictObject({
  outline: z.strictObject({
    title: span.optional(),
    preamble: span.optional(),
    suggestions: z.array(suggestion),
    numbered: z.boolean().meta({ description: '按编号切分（否则每段一条）' }),
  }),
  bySuggestion: z.array(z.strictObject({ suggestion, precedents: z.array(precedentExcerpt) })),
  replies: z.array(
    z.strictObject({
      ...rankedDocumentFields,
      covered: int().meta({ description: '覆盖的建议条数' }),
      score: z.number().meta({ description: '0–1：各条建议最佳摘录覆盖率的平均值' }),
      similarity: z.number().optional().meta({ description: '0–1：各条建议“本答复回答了该问题”的校准概率的平均值；无模型时没有' }),
      excerpts: z.array(precedentExcerpt.nullable()).meta({ description: '按建议顺序，本答复中最接近的摘录或 null' }),
    }),
  ),
  coveredAt: z.number().meta({ description: '覆盖率达到此值即算覆盖' }),
  ...retrievalReport,
});
sameShape<z.output<typeof precedentsResult>, PrecedentsResult>(true);

const PROPOSAL =
  '关于加强城区防洪排涝能力建设的建议\n近年来汛期暴雨频发，老城区多处路段积水严重。\n一、加快排水管网改造，提高泵站抽排能力。\n二、对易涝点逐一排查整治。\n三、建立积水预警机制，及时发布预警。';

/** A proposal and how to search for its precedents: the body of the precedent, export and draft routes. */
const proposalFields = z.object({
  text: requiredText(LIMITS.similarChars),
  k: integer(1, LIMITS.maxSimilarK).default(10),
  mode: optionalMode,
  repliesOnly: z
    .boolean({ error: '{field} 必须是 true 或 false' })
    .default(true)
    .meta({ description: '只在提案、建议和留言答复中查找（filters.kind 给出时以其为准）' }),
  filters: bodyFilters,
});
const proposalRequest = fieldsOf(proposalFields, NOT_A_JSON_OBJECT);

export const precedentsRoute = defineRoute({
  method: 'post',
  path: '/api/precedents',
  work: 'heavy',
  summary:
    '逐条建议查找先例：把提案按编号（无编号时按段）分成各条建议，每条给出既往答复中最接近的段落（覆盖率为绝对值），并按覆盖的建议条数对答复排序',
  body: proposalRequest,
  response: component('PrecedentsResult', precedentsResult),
  responseDescription: '各条建议的先例与答复排序',
  errors: [400, 413],
  examples: [{ summary: '一份分条的建议', body: { text: PROPOSAL, k: 5 } }],
});

export const PROPOSAL_FILE_TYPES = ['.docx', '.pdf', '.txt'];

export const proposalTextRoute = defineRoute({
  method: 'post',
  path: '/api/proposals/text',
  work: 'heavy',
  summary: `读出上传的提案文件（${PROPOSAL_FILE_TYPES.join('、')}）的文本，供逐条查找先例；文件不入库`,
  rawRequestBody: {
    required: true,
    content: { 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } } },
  },
  response: z.strictObject({ file: z.string(), title: z.string(), text: z.string(), warnings: z.array(z.string()) }),
  responseDescription: '提案文本',
  errors: [400, 413, 415, 422],
  examples: [{ summary: '一份 TXT 提案（表单字段 file）', files: [{ field: 'file', name: '提案.txt', text: PROPOSAL }] }],
});

export const EXPORT_FORMATS = ['docx', 'xlsx'] as const;

export const precedentsExportRoute = defineRoute({
  method: 'post',
  path: '/api/precedents/export',
  work: 'heavy',
  summary: '先例对照表（建议 | 先例段落 | 出处 | 覆盖率）导出为 Word（docx）或 Excel（xlsx）文件',
  body: fieldsOf(
    proposalFields.extend({
      format: z.enum(EXPORT_FORMATS).default('docx').meta({ description: 'docx：Word 表格；xlsx：Excel 表，每个先例一行，覆盖率为数值' }),
    }),
    NOT_A_JSON_OBJECT,
  ),
  responseDescription: 'DOCX 或 XLSX 文件（Content-Disposition: attachment）',
  errors: [400, 413],
  examples: [
    { summary: '一份分条的建议的对照表（Word）', body: { text: PROPOSAL } },
    { summary: '同一对照表（Excel）', body: { text: PROPOSAL, format: 'xlsx' } },
  ],
});

const draftRequest = fieldsOf(
  proposalFields.extend({
    rewrite: z
      .boolean({ error: '{field} 必须是 true 或 false' })
      .default(false)
      .meta({ description: '服务器设置了 KB_LLM_URL 时，由大模型据先例改写各节（保留出处标注，无出处的句子标黄）；否则忽略，初稿为纯摘录' }),
  }),
  NOT_A_JSON_OBJECT,
);

export const draftRoute = defineRoute({
  method: 'post',
  path: '/api/draft',
  work: 'heavy',
  summary:
    '生成答复初稿（Word）：公文版式（标题、文号与称谓占位、仿宋三号正文、“— N —”页码、落款占位），每条建议一节，填入最接近的先例段落并以脚注注明出处；纯摘录，不生成新文字',
  body: draftRequest,
  responseDescription: 'DOCX 文件（Content-Disposition: attachment）',
  errors: [400, 413],
  examples: [{ summary: '一份分条的建议的答复初稿', body: { text: PROPOSAL } }],
});

/** A query-string flag: 1/true or 0/false. */
const queryFlag = (fallback: boolean) =>
  z.preprocess(
    (value) => (value === '1' || value === 'true' ? true : value === '0' || value === 'false' ? false : value),
    z.boolean({ error: '{field} 只能是 1 或 0（true 或 false）' }),
  ).default(fallback);

export const documentPrecedentsRoute = defineRoute({
  method: 'get',
  path: '/api/documents/{id}/precedents',
  work: 'heavy',
  summary: `与某一已入库文档相似的先例，逐条查找：以文档正文（前 ${LIMITS.similarChars} 字，按编号分条，答复则按其各节）为提案，文档本身不计`,
  params: documentIdParams,
  query: fieldsOf(
    z.object({
      k: integer(1, LIMITS.maxSimilarK).default(10),
      mode: optionalMode,
      repliesOnly: queryFlag(true).meta({ description: '只在提案、建议和留言答复中查找（kind 给出时以其为准）' }),
      ...filterShape,
    }),
    '{field} 无效',
  ).transform(({ k, mode, repliesOnly, ...filters }) => ({ k, mode, repliesOnly, filters: toSearchFilters(filters) })),
  response: precedentsResult.extend({ documentId: z.string() }),
  responseDescription: '各条（各节）的先例与答复排序',
  errors: [400, 404],
  examples: [{ summary: '与样例答复相似的先例', params: { id: '对市人大十七届四次会议第0093号建议的答复-城区防洪排涝.txt' }, query: { k: '3', repliesOnly: '0' } }],
});

export const precedentRoutes = [precedentsRoute, proposalTextRoute, precedentsExportRoute, draftRoute, documentPrecedentsRoute];
