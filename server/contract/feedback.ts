/** Contracts of the readers' feedback routes: a verdict on an answer, and the export of all verdicts as JSONL. */
import { z } from 'zod';
import { FEEDBACK_VERDICTS, type AnswerFeedback } from '../../kb/types.ts';
import { pageSpan, sameShape } from './components.ts';
import { defineRoute } from './define.ts';
import { LIMITS, NOT_A_JSON_OBJECT, optionalText, requiredText, retrievalMode } from './fields.ts';

const int = () => z.number().int();

/** A bounded string that may be empty (a quote is never trimmed: it must equal the document's text). */
const boundedText = (maxChars: number) => z.string().max(maxChars, { error: `{field} 过长，最多 ${maxChars} 字` });

const feedbackCitation = z.strictObject({
  documentId: z.string().min(1).max(LIMITS.documentIdChars),
  title: boundedText(LIMITS.titleChars),
  start: int().min(0),
  end: int().min(0),
  quote: boundedText(LIMITS.feedbackQuoteChars).meta({ description: '必须等于文档全文 [start, end)，服务器逐字核对' }),
  pages: pageSpan.optional(),
});

const feedbackFields = z.strictObject({
  question: requiredText(LIMITS.questionChars),
  answer: boundedText(LIMITS.feedbackAnswerChars).nullable().meta({ description: '被评价的回答全文；没有作答时为 null' }),
  citations: z.array(feedbackCitation).max(LIMITS.feedbackCitations, { error: `{field} 最多 ${LIMITS.feedbackCitations} 条` }).default([]),
  verdict: z.enum(FEEDBACK_VERDICTS).meta({ description: 'up：回答正确；down：回答有误或本应作答' }),
  correction: optionalText(LIMITS.feedbackCorrectionChars).meta({ description: '正确的回答或其出处（可选）' }),
  mode: retrievalMode,
}, { error: (issue) => (issue.code === 'unrecognized_keys' ? `请求体有不认识的字段：${issue.keys.join('、')}` : undefined) });

const feedbackRequest = z.preprocess((value, ctx) => {
    // null is a meaningful answer here ("no answer was given"), so blank fields are not dropped as elsewhere.
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: NOT_A_JSON_OBJECT, input: value });
      return z.NEVER;
    }
    return value;
  }, feedbackFields);
type FeedbackBody = z.output<typeof feedbackFields>;
sameShape<FeedbackBody, Omit<AnswerFeedback, 'model'>>(true);

export const feedbackRoute = defineRoute({
  method: 'post',
  path: '/api/feedback',
  summary: `对一个回答的评价（👍/👎）与可选的更正，存入知识库供评测使用；引文须与原文一致。每个客户端地址每分钟的提交数与存储总数有上限（KB_FEEDBACK_PER_MINUTE、KB_FEEDBACK_MAX）`,
  body: feedbackRequest,
  response: z.strictObject({ id: int(), time: z.string() }),
  responseDescription: '已保存',
  errors: [400, 413, 429],
  examples: [
    {
      summary: '👎 与更正：知识库没有作答，但本应作答',
      body: { question: '普惠性民办幼儿园怎么认定？', answer: null, citations: [], verdict: 'down', correction: '见《普惠性民办幼儿园认定管理办法》第二章', mode: 'lexical' },
    },
  ],
});

export const feedbackExportRoute = defineRoute({
  method: 'get',
  path: '/api/feedback',
  summary: '导出全部评价为 JSONL（每行：question、answer、citations、verdict、correction、time、mode、model；👍 且有引文的行另带 file），需要管理员令牌',
  admin: true,
  responseDescription: 'application/x-ndjson，每行一条评价，最早的在前',
  errors: [401, 403],
  examples: [{ summary: '全部评价' }],
});

export const feedbackRoutes = [feedbackRoute, feedbackExportRoute];
