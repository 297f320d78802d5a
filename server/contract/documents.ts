/** Contracts of the document routes: list, read, original file, similar documents, upload, delete. */
import { z } from 'zod';
import { documentSummary, paragraph, similarResult } from './components.ts';
import { component, defineRoute } from './define.ts';
import { documentIdParams, fieldsOf, filterShape, integer, LIMITS, optionalMode, toSearchFilters } from './fields.ts';

/** A sample-corpus document the examples read. */
const SAMPLE_ID = '对市人大十七届四次会议第0093号建议的答复-城区防洪排涝.txt';
/** The document the upload example adds and the delete example removes. */
export const UPLOAD_EXAMPLE = { file: 'contract-example.txt', id: 'uploads/contract-example.txt' } as const;

export const listDocumentsRoute = defineRoute({
  method: 'get',
  path: '/api/documents',
  summary: '文档列表（筛选、分页）',
  query: fieldsOf(
    z.object({
      offset: integer(0, LIMITS.maxOffset).default(0),
      limit: integer(1, LIMITS.maxPageSize).default(20),
      ...filterShape,
    }),
    '{field} 无效',
  ).transform(({ offset, limit, ...filters }) => ({ offset, limit, filters: toSearchFilters(filters) })),
  response: z.strictObject({
    offset: z.number().int(),
    limit: z.number().int(),
    total: z.number().int(),
    documents: z.array(documentSummary),
    failures: z.array(z.strictObject({ id: z.string(), error: z.string(), failedAt: z.string() })).optional()
      .meta({ description: '未能入库的文件及原因（只随不带筛选的第一页返回）' }),
  }),
  responseDescription: '一页文档',
  errors: [400],
  examples: [{ summary: '第一页的三个答复', query: { limit: '3', kind: 'proposal-reply,suggestion-reply' } }],
});

export const documentRoute = defineRoute({
  method: 'get',
  path: '/api/documents/{id}',
  summary: `文档元数据与段落（标题路径、页码、偏移）；段落分页，每次最多 ${LIMITS.maxParagraphs} 段、${LIMITS.maxParagraphChars} 字`,
  params: documentIdParams,
  query: fieldsOf(
    z.object({
      paragraphOffset: integer(0, LIMITS.maxOffset).default(0),
      paragraphLimit: integer(1, LIMITS.maxParagraphs).default(LIMITS.maxParagraphs),
      paragraph: integer(0, LIMITS.maxOffset).optional()
        .meta({ description: '返回包含第 paragraph 段（从 0 起）的那一页（页首为 paragraphLimit 的整数倍），代替 paragraphOffset' }),
      at: integer(0, LIMITS.maxOffset * 100).optional()
        .meta({ description: '返回包含正文偏移 at 处字符的段落所在的那一页（引文的 start），代替 paragraphOffset' }),
    }),
    '{field} 无效',
  ),
  response: component(
    'Document',
    documentSummary.extend({
      hasFile: z.boolean().meta({ description: '原始文件可以从 /file 取得' }),
      paragraphs: z.array(paragraph).meta({
        description: `从 paragraphOffset 起最多 paragraphLimit 段（上限 ${LIMITS.maxParagraphs}）；段落文字累计超过 ${LIMITS.maxParagraphChars} 字时提前结束（至少一段），下一页从 paragraphOffset + paragraphs.length 起`,
      }),
      paragraphOffset: z.number().int(),
      paragraphTotal: z.number().int().meta({ description: '文档的段落总数' }),
    }),
  ),
  responseDescription: '文档',
  errors: [404],
  examples: [{ summary: '样例答复', params: { id: SAMPLE_ID } }],
});

export const documentFileRoute = defineRoute({
  method: 'get',
  path: '/api/documents/{id}/file',
  summary: '原始文件（按类型返回 Content-Type；JSONL 记录返回其文本）',
  params: documentIdParams,
  responseDescription: '文件内容',
  errors: [404],
  examples: [{ summary: '样例答复的原文', params: { id: SAMPLE_ID } }],
});

export const documentSimilarRoute = defineRoute({
  method: 'get',
  path: '/api/documents/{id}/similar',
  work: 'heavy',
  summary: `与某一已入库文档相似的其他文档（先例）；以文档正文的前 ${LIMITS.similarChars} 字为查询`,
  params: documentIdParams,
  query: fieldsOf(
    z.object({ k: integer(1, LIMITS.maxSimilarK).default(10), mode: optionalMode, ...filterShape }),
    '{field} 无效',
  ).transform(({ k, mode, ...filters }) => ({ k, mode, filters: toSearchFilters(filters) })),
  response: similarResult.extend({ documentId: z.string() }),
  responseDescription: '相似文档',
  errors: [400, 404],
  examples: [{ summary: '与样例答复相似的文档', params: { id: SAMPLE_ID }, query: { k: '3' } }],
});

export const uploadResult = component(
  'UploadResult',
  z.strictObject({
    file: z.string().meta({ description: '上传时的文件名' }),
    status: z.enum(['added', 'updated', 'unchanged', 'failed', 'rejected']),
    documentId: z.string().optional(),
    document: documentSummary.optional(),
    error: z.string().optional(),
  }),
);
export type UploadResult = z.output<typeof uploadResult>;

export const uploadRoute = defineRoute({
  method: 'post',
  path: '/api/documents',
  summary: '上传一个或多个文件并入库（需要 Authorization: Bearer KB_ADMIN_TOKEN）',
  admin: true,
  rawRequestBody: {
    required: true,
    content: {
      'multipart/form-data': {
        schema: { type: 'object', properties: { files: { type: 'array', items: { type: 'string', format: 'binary' } } } },
      },
    },
  },
  response: z.strictObject({ results: z.array(uploadResult) }),
  responseDescription: '逐个文件的结果（至少一个成功）；全部失败时为 415/422，错误体另带 results',
  errors: [400, 401, 403, 413, 415, 422],
  examples: [
    {
      summary: `上传 ${UPLOAD_EXAMPLE.file}（表单字段 files）`,
      files: [{ field: 'files', name: UPLOAD_EXAMPLE.file, text: '关于合同示例的答复\n\n一、总体情况\n\n本文件只用于检验上传接口的示例请求，内容为虚构。\n' }],
    },
  ],
});

export const deleteDocumentRoute = defineRoute({
  method: 'delete',
  path: '/api/documents/{id}',
  summary: '从知识库删除文档（需要管理员令牌）',
  admin: true,
  params: documentIdParams,
  response: z.strictObject({ removed: z.string() }),
  responseDescription: '已删除',
  errors: [401, 403, 404],
  examples: [{ summary: '删除上传的示例文件', params: { id: UPLOAD_EXAMPLE.id } }],
});

export const documentRoutes = [listDocumentsRoute, documentRoute, documentFileRoute, documentSimilarRoute, uploadRoute, deleteDocumentRoute];
