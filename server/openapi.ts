/**
 * The OpenAPI 3 description of the HTTP API, served at /api/openapi.json.
 * tests/api.test.ts checks that every route the app registers appears here.
 */
import { DOCUMENT_KINDS } from '../kb/types.ts';

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: '文档 id（语料相对路径，JSONL 记录为 `<file>#<record id>`），整体用 encodeURIComponent 编码为一个路径段',
  schema: { type: 'string' },
  example: 'seed%2F%E7%AD%94%E5%A4%8D.txt',
};

const filterParams = [
  { name: 'kind', in: 'query', description: '文档类型，逗号分隔', schema: { type: 'string', example: 'proposal-reply,policy' } },
  { name: 'issuer', in: 'query', description: '发文/答复单位（子串匹配）', schema: { type: 'string' } },
  { name: 'from', in: 'query', description: '起始日期（含），YYYY、YYYY-MM 或 YYYY-MM-DD', schema: { type: 'string' } },
  { name: 'to', in: 'query', description: '截止日期（含）', schema: { type: 'string' } },
  { name: 'prefix', in: 'query', description: '文档 id 前缀（语料中的子目录）', schema: { type: 'string' } },
];

const modeParam = {
  name: 'mode',
  in: 'query',
  schema: { type: 'string', enum: ['hybrid', 'lexical', 'dense'] },
  description: '检索方式；没有加载向量模型时自动退回 lexical',
};

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? '错误', content: json(ref('Error')) }]));
const ERROR_TEXT: Record<number, string> = {
  400: '请求参数错误（error.field 指出字段）',
  401: '缺少或错误的管理员令牌',
  403: '服务器未设置 KB_ADMIN_TOKEN',
  404: '没有这个文档',
  413: '文件或请求体过大',
  415: '不支持的文件类型',
  422: '文件无法入库',
};

const filtersSchema = {
  type: 'object',
  properties: {
    kind: { type: 'array', items: ref('DocumentKind') },
    issuer: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    prefix: { type: 'string' },
  },
};

/** A proposal's text with the search options: the body of every precedent route. */
const proposalBody = (extra: Record<string, unknown>) => ({
  required: true,
  content: json({
    type: 'object',
    required: ['text'],
    properties: {
      text: { type: 'string', maxLength: 20000 },
      k: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
      mode: { type: 'string', enum: ['hybrid', 'lexical', 'dense'] },
      ...extra,
      filters: filtersSchema,
    },
  }),
});
const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const repliesOnly = { type: 'boolean', default: true, description: '只在提案、建议和留言答复中查找（filters.kind 给出时以其为准）' };

export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'PolicyKB API',
    version: '0.1.0',
    description:
      '政策文件与建议提案答复知识库：检索、带引文的抽取式问答、先例答复查找、文档浏览与上传。所有错误均为 `{error: {field?, message}}`。',
  },
  paths: {
    '/api/health': {
      get: {
        summary: '知识库状态：文档与段落数、模型、检索模式（hybrid 或 lexical-only）、索引状态',
        responses: { '200': { description: '状态', content: json(ref('Health')) } },
      },
    },
    '/api/openapi.json': {
      get: { summary: '本文档', responses: { '200': { description: 'OpenAPI 3 文档' } } },
    },
    '/api/search': {
      get: {
        summary: '检索段落，附引文、命中词高亮范围与各检索器名次',
        parameters: [
          { name: 'q', in: 'query', required: true, schema: { type: 'string', maxLength: 1000 } },
          { name: 'k', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 10 } },
          modeParam,
          ...filterParams,
        ],
        responses: { '200': { description: '检索结果', content: json(ref('SearchResult')) }, ...errors(400) },
      },
    },
    '/api/ask': {
      post: {
        summary: '抽取式问答：从最相关段落中原文摘取 1–3 句，每句带引文；引文在返回前与原文校验',
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['question'],
            properties: {
              question: { type: 'string', maxLength: 500, example: '吉林省高校毕业生留吉率是多少？' },
              k: { type: 'integer', minimum: 1, maximum: 20, default: 8 },
              mode: { type: 'string', enum: ['hybrid', 'lexical', 'dense'] },
              filters: filtersSchema,
            },
          }),
        },
        responses: { '200': { description: '回答（answer 为 null 时 reason 说明原因）', content: json(ref('AskResult')) }, ...errors(400, 413) },
      },
    },
    '/api/similar': {
      post: {
        summary: '查找先例答复：与一份新提案最相似的既有文档，附逐句对齐的段落',
        requestBody: proposalBody({}),
        responses: { '200': { description: '相似文档', content: json(ref('SimilarResult')) }, ...errors(400, 413) },
      },
    },
    '/api/precedents': {
      post: {
        summary: '逐条建议查找先例：把提案按编号（无编号时按段）分成各条建议，每条给出既往答复中最接近的段落（覆盖率为绝对值），并按覆盖的建议条数对答复排序',
        requestBody: proposalBody({ repliesOnly }),
        responses: { '200': { description: '各条建议的先例与答复排序', content: json({ type: 'object' }) }, ...errors(400, 413) },
      },
    },
    '/api/precedents/export': {
      post: {
        summary: '先例对照表（建议 | 先例段落 | 出处 | 覆盖率）导出为 Word 文件',
        requestBody: proposalBody({ repliesOnly }),
        responses: { '200': { description: 'DOCX 文件', content: { [DOCX_TYPE]: { schema: { type: 'string', format: 'binary' } } } }, ...errors(400, 413) },
      },
    },
    '/api/draft': {
      post: {
        summary: '生成答复初稿（Word）：公文版式，每条建议一节，填入最接近的先例段落并以脚注注明出处；纯摘录，不生成新文字',
        requestBody: proposalBody({ repliesOnly }),
        responses: { '200': { description: 'DOCX 文件', content: { [DOCX_TYPE]: { schema: { type: 'string', format: 'binary' } } } }, ...errors(400, 413) },
      },
    },
    '/api/proposals/text': {
      post: {
        summary: '读出上传的提案文件（DOCX、PDF、TXT）的文本，供逐条查找先例；文件不入库',
        requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } } } },
        responses: { '200': { description: '提案文本', content: json({ type: 'object', properties: { file: { type: 'string' }, title: { type: 'string' }, text: { type: 'string' } } }) }, ...errors(400, 413, 415, 422) },
      },
    },
    '/api/documents': {
      get: {
        summary: '文档列表（筛选、分页）',
        parameters: [
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 20 } },
          ...filterParams,
        ],
        responses: {
          '200': {
            description: '一页文档',
            content: json({
              type: 'object',
              properties: {
                total: { type: 'integer' },
                offset: { type: 'integer' },
                limit: { type: 'integer' },
                documents: { type: 'array', items: ref('DocumentSummary') },
              },
            }),
          },
          ...errors(400),
        },
      },
      post: {
        summary: '上传一个或多个文件并入库（需要 Authorization: Bearer KB_ADMIN_TOKEN）',
        security: [{ bearer: [] }],
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: { type: 'object', properties: { files: { type: 'array', items: { type: 'string', format: 'binary' } } } },
            },
          },
        },
        responses: {
          '200': {
            description: '逐个文件的结果（至少一个成功）',
            content: json({ type: 'object', properties: { results: { type: 'array', items: ref('UploadResult') } } }),
          },
          ...errors(400, 401, 403, 413, 415, 422),
        },
      },
    },
    '/api/documents/{id}': {
      get: {
        summary: '文档元数据与段落（标题路径、页码、偏移）',
        parameters: [idParam],
        responses: { '200': { description: '文档', content: json(ref('Document')) }, ...errors(404) },
      },
      delete: {
        summary: '从知识库删除文档（需要管理员令牌）',
        security: [{ bearer: [] }],
        parameters: [idParam],
        responses: {
          '200': { description: '已删除', content: json({ type: 'object', properties: { removed: { type: 'string' } } }) },
          ...errors(401, 403, 404),
        },
      },
    },
    '/api/documents/{id}/file': {
      get: {
        summary: '原始文件（按类型返回 Content-Type；JSONL 记录返回其文本）',
        parameters: [idParam],
        responses: { '200': { description: '文件内容' }, ...errors(404) },
      },
    },
    '/api/documents/{id}/similar': {
      get: {
        summary: '与某一已入库文档相似的其他文档（先例）',
        parameters: [idParam, { name: 'k', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 50, default: 10 } }, modeParam, ...filterParams],
        responses: { '200': { description: '相似文档', content: json(ref('SimilarResult')) }, ...errors(400, 404) },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['message'], properties: { field: { type: 'string' }, message: { type: 'string' } } } },
      },
      DocumentKind: { type: 'string', enum: [...DOCUMENT_KINDS] },
      PageSpan: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2, description: '[首页, 末页]，从 1 起' },
      Citation: {
        type: 'object',
        required: ['documentId', 'title', 'headingPath', 'start', 'end'],
        properties: {
          documentId: { type: 'string' },
          title: { type: 'string' },
          headingPath: { type: 'array', items: { type: 'string' } },
          pages: ref('PageSpan'),
          start: { type: 'integer', description: '文档全文中的起始偏移（UTF-16，含）' },
          end: { type: 'integer', description: '结束偏移（不含）' },
        },
      },
      AnswerCitation: {
        allOf: [
          ref('Citation'),
          { type: 'object', required: ['n', 'quote'], properties: { n: { type: 'integer' }, quote: { type: 'string', description: '等于文档全文 [start, end)' } } },
        ],
      },
      SearchHit: {
        type: 'object',
        properties: {
          passageId: { type: 'string' },
          text: { type: 'string' },
          citation: ref('Citation'),
          kind: ref('DocumentKind'),
          issuer: { type: 'string' },
          date: { type: 'string' },
          score: { type: 'number' },
          ranks: { type: 'object', properties: { lexical: { type: 'integer' }, dense: { type: 'integer' } } },
          highlights: { type: 'array', items: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2 } },
        },
      },
      SearchResult: {
        type: 'object',
        properties: {
          query: { type: 'string' },
          k: { type: 'integer' },
          hits: { type: 'array', items: ref('SearchHit') },
          mode: { type: 'string', enum: ['hybrid', 'lexical', 'dense'] },
          lexicalOnly: { type: 'boolean' },
          notice: { type: 'string' },
          tookMs: { type: 'number' },
        },
      },
      AskResult: {
        type: 'object',
        properties: {
          question: { type: 'string' },
          answer: {
            nullable: true,
            type: 'object',
            properties: {
              text: { type: 'string' },
              sentences: {
                type: 'array',
                items: { type: 'object', properties: { text: { type: 'string' }, citations: { type: 'array', items: { type: 'integer' } } } },
              },
            },
          },
          reason: { type: 'string' },
          citations: { type: 'array', items: ref('AnswerCitation') },
          verified: { type: 'boolean' },
          generated: {
            type: 'object',
            description: '仅在配置了 KB_LLM_URL/KB_LLM_MODEL 时出现；uncited 标出没有引文支持的句子',
            properties: {
              model: { type: 'string' },
              text: { type: 'string' },
              error: { type: 'string' },
              sentences: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { text: { type: 'string' }, citations: { type: 'array', items: { type: 'integer' } }, uncited: { type: 'boolean' } },
                },
              },
              citations: { type: 'array', items: ref('AnswerCitation') },
              invalidCitations: { type: 'array', items: { type: 'integer' } },
              uncitedSentences: { type: 'integer' },
            },
          },
          hits: { type: 'array', items: ref('SearchHit') },
          mode: { type: 'string' },
          lexicalOnly: { type: 'boolean' },
          tookMs: { type: 'number' },
        },
      },
      SimilarResult: {
        type: 'object',
        properties: {
          parts: {
            type: 'array',
            items: { type: 'object', properties: { index: { type: 'integer' }, text: { type: 'string' }, start: { type: 'integer' }, end: { type: 'integer' } } },
          },
          documents: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                documentId: { type: 'string' },
                title: { type: 'string' },
                kind: ref('DocumentKind'),
                issuer: { type: 'string' },
                date: { type: 'string' },
                score: { type: 'number', description: '0–1：各句检索名次的平均得分，1 表示每一句都排第一' },
                matchedParts: { type: 'integer' },
                pairs: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      query: { type: 'object', properties: { index: { type: 'integer' }, text: { type: 'string' } } },
                      match: {
                        type: 'object',
                        properties: {
                          text: { type: 'string' },
                          paragraphIndex: { type: 'integer' },
                          citation: ref('Citation'),
                          rank: { type: 'integer' },
                          overlap: { type: 'number' },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          mode: { type: 'string' },
          lexicalOnly: { type: 'boolean' },
          tookMs: { type: 'number' },
        },
      },
      DocumentSummary: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          title: { type: 'string' },
          kind: ref('DocumentKind'),
          format: { type: 'string', enum: ['pdf', 'docx', 'html', 'txt', 'md', 'jsonl'] },
          metadata: { type: 'object', additionalProperties: true },
          paragraphCount: { type: 'integer' },
          passageCount: { type: 'integer' },
          pageCount: { type: 'integer' },
          needsOcr: { type: 'boolean' },
          warnings: { type: 'array', items: { type: 'string' } },
          indexedAt: { type: 'string' },
        },
      },
      Document: {
        allOf: [
          ref('DocumentSummary'),
          {
            type: 'object',
            properties: {
              hasFile: { type: 'boolean' },
              paragraphs: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    index: { type: 'integer' },
                    text: { type: 'string' },
                    role: { type: 'string' },
                    headingPath: { type: 'array', items: { type: 'string' } },
                    headingLevel: { type: 'integer' },
                    pages: ref('PageSpan'),
                    start: { type: 'integer' },
                    end: { type: 'integer' },
                  },
                },
              },
            },
          },
        ],
      },
      UploadResult: {
        type: 'object',
        properties: {
          file: { type: 'string' },
          status: { type: 'string', enum: ['added', 'updated', 'unchanged', 'failed', 'rejected'] },
          documentId: { type: 'string' },
          document: ref('DocumentSummary'),
          error: { type: 'string' },
        },
      },
      Health: {
        type: 'object',
        properties: {
          status: { type: 'string' },
          documents: { type: 'integer' },
          kinds: { type: 'object', description: '各类型的文档数', additionalProperties: { type: 'integer' } },
          passages: { type: 'integer' },
          model: { type: 'object', properties: { id: { type: 'string' }, dimension: { type: 'integer' } } },
          mode: { type: 'string', enum: ['hybrid', 'lexical-only'] },
          lexicalOnlyReason: { type: 'string' },
          index: { type: 'object', properties: { vectors: { type: 'integer' }, state: { type: 'string', enum: ['ready', 'rebuilt', 'absent'] } } },
          llm: { type: 'object', properties: { configured: { type: 'boolean' }, model: { type: 'string' } } },
          uploads: { type: 'object', properties: { enabled: { type: 'boolean' }, maxBytes: { type: 'integer' }, types: { type: 'array', items: { type: 'string' } } } },
        },
      },
    },
  },
} as const;
