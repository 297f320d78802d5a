/**
 * The drafter's routes: precedents per suggestion of a proposal (pasted, or
 * uploaded as DOCX/PDF), the comparison table as a Word file, and a first
 * draft of the reply in Word. Their contracts are in server/contract/precedents.ts.
 */
import path from 'node:path';
import express, { type RequestHandler, type Response } from 'express';
import multer from 'multer';
import type { Config } from '../../kb/config.ts';
import { REPLY_KINDS, type SearchFilters } from '../../kb/types.ts';
import { parseBytes } from '../../ingest/parse.ts';
import { isIngestError } from '../../ingest/errors.ts';
import { findPrecedents, findPrecedentsForDocument, type PagedDocumentSource, type SearchSource } from '../../search/precedents.ts';
import { HttpError, badRequest, noSuchDocument } from '../errors.ts';
import { LIMITS } from '../contract/fields.ts';
import type { RouteContract, RouteInput } from '../contract/define.ts';
import { documentPrecedentsRoute, draftRoute, precedentsExportRoute, precedentsRoute, PROPOSAL_FILE_TYPES, proposalTextRoute } from '../contract/precedents.ts';
import { buildDraft } from '../../search/draft.ts';
import { comparisonDocx, draftDocx } from '../../search/draft-docx.ts';
import { comparisonXlsx } from '../../search/comparison.ts';
import { rewriteDraft } from '../../search/draft-rewrite.ts';
import { llmSettings } from '../../search/generate.ts';
import { expressPath, handle, type RouteHandler } from '../handle.ts';
import type { RequestScheduler } from '../scheduler.ts';

/** `repliesOnly` (default true, as on the page) narrows to the kinds that answer someone, unless filters name kinds. */
function precedentFilters(filters: SearchFilters | undefined, repliesOnly: boolean): SearchFilters | undefined {
  if (!repliesOnly || filters?.kind) return filters;
  return { ...filters, kind: [...REPLY_KINDS] };
}

const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function sendFile(res: Response, bytes: Uint8Array, type: string, fileName: string): void {
  res.type(type);
  res.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(fileName)}`);
  res.send(Buffer.from(bytes));
}

export function precedentRoutes(
  kb: SearchSource & PagedDocumentSource,
  config: Config,
  scheduler: RequestScheduler,
  options: { fetchImpl?: typeof fetch } = {},
): express.Router {
  const router = express.Router();
  const llm = llmSettings(config);
  const serve = <C extends RouteContract>(contract: C, handler: RouteHandler<C>, ...middleware: RequestHandler[]) => {
    router[contract.method](expressPath(contract), ...middleware, handle(contract, handler, scheduler));
  };
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: config.uploadMaxBytes, files: 1, fields: 10 },
    defParamCharset: 'utf8',
  });

  const precedentsFor = ({ text, k, mode, repliesOnly, filters }: RouteInput<typeof precedentsRoute>['body']) => {
    const narrowed = precedentFilters(filters, repliesOnly);
    return findPrecedents(kb, text, { k, ...(mode ? { mode } : {}), ...(narrowed ? { filters: narrowed } : {}) });
  };

  serve(precedentsRoute, ({ body }) => precedentsFor(body));

  serve(documentPrecedentsRoute, async ({ params: { id }, query: { k, mode, repliesOnly, filters } }) => {
    const narrowed = precedentFilters(filters, repliesOnly);
    const result = await findPrecedentsForDocument(kb, id, {
      k,
      maxQueryChars: LIMITS.similarChars,
      ...(mode ? { mode } : {}),
      ...(narrowed ? { filters: narrowed } : {}),
    });
    if (!result) throw noSuchDocument(id);
    return { documentId: id, ...result };
  });

  serve(precedentsExportRoute, async ({ body: { format, ...request } }, _req, res) => {
    const result = await precedentsFor(request);
    if (format === 'xlsx') sendFile(res, await comparisonXlsx(result), XLSX_TYPE, '先例对照表.xlsx');
    else sendFile(res, await comparisonDocx(result), DOCX_TYPE, '先例对照表.docx');
  });

  serve(draftRoute, async ({ body: { rewrite, ...request } }, _req, res) => {
    let draft = buildDraft(await precedentsFor(request), kb);
    if (rewrite && llm) draft = await rewriteDraft(llm, draft, options.fetchImpl);
    sendFile(res, await draftDocx(draft), DOCX_TYPE, `${draft.fileStem}.docx`);
  });

  serve(
    proposalTextRoute,
    async (_input, req) => {
      const file = req.file;
      if (!file) throw badRequest('file', '没有收到文件：请用 multipart/form-data 上传，字段名 file');
      const ext = path.extname(file.originalname).toLowerCase();
      if (!PROPOSAL_FILE_TYPES.includes(ext)) {
        throw new HttpError(415, `不支持的提案文件类型${ext ? ` ${ext}` : '（没有扩展名）'}；支持 ${PROPOSAL_FILE_TYPES.join(' ')}`, 'file');
      }
      try {
        const parsed = await parseBytes(new Uint8Array(file.buffer), file.originalname, { passageMaxChars: config.passageMaxChars });
        return { file: file.originalname, title: parsed.title, text: parsed.paragraphs.map((p) => p.text).join('\n'), warnings: parsed.warnings };
      } catch (error) {
        if (isIngestError(error)) throw new HttpError(422, `${file.originalname}：${error.message}`, 'file');
        throw error;
      }
    },
    upload.single('file'),
  );

  return router;
}
