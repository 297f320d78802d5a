/**
 * The drafter's routes: precedents per suggestion of a proposal (pasted, or
 * uploaded as DOCX/PDF), the comparison table as a Word file, and a first
 * draft of the reply in Word.
 */
import path from 'node:path';
import express, { type Response } from 'express';
import multer from 'multer';
import type { Config } from '../../kb/config.ts';
import { REPLY_KINDS, type SearchFilters } from '../../kb/types.ts';
import { parseBytes } from '../../ingest/parse.ts';
import { isIngestError } from '../../ingest/errors.ts';
import { findPrecedents, type PrecedentsResult, type SearchSource } from '../../search/precedents.ts';
import { buildDraft } from '../../search/draft.ts';
import { comparisonDocx, draftDocx } from '../../search/draft-docx.ts';
import { HttpError, badRequest, route } from '../errors.ts';
import { bodyFilters, jsonObject, LIMITS, optionalInt, optionalMode, requiredText } from '../params.ts';

const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
/** Proposals arrive as Word or PDF files; their text is read, never indexed. */
const PROPOSAL_FILE_TYPES = ['.docx', '.pdf', '.txt'];


/** `repliesOnly` (default true, as on the page) narrows to the kinds that answer someone, unless filters name kinds. */
function precedentFilters(body: Record<string, unknown>): SearchFilters | undefined {
  const filters = bodyFilters(body.filters);
  if (body.repliesOnly !== undefined && typeof body.repliesOnly !== 'boolean') throw badRequest('repliesOnly', 'repliesOnly 必须是 true 或 false');
  const repliesOnly = body.repliesOnly ?? true;
  if (!repliesOnly || filters?.kind) return filters;
  return { ...filters, kind: [...REPLY_KINDS] };
}

async function precedentsFor(kb: SearchSource, body: Record<string, unknown>): Promise<PrecedentsResult> {
  const text = requiredText(body.text, 'text', LIMITS.similarChars);
  const k = optionalInt(body.k, 'k', 1, LIMITS.maxSimilarK) ?? 10;
  const mode = optionalMode(body.mode);
  const filters = precedentFilters(body);
  return findPrecedents(kb, text, { k, ...(mode ? { mode } : {}), ...(filters ? { filters } : {}) });
}


function sendDocx(res: Response, bytes: Uint8Array, fileName: string): void {
  res.type(DOCX_TYPE);
  res.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(fileName)}`);
  res.send(Buffer.from(bytes));
}

export function precedentRoutes(kb: SearchSource, config: Config): express.Router {
  const router = express.Router();
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: config.uploadMaxBytes, files: 1, fields: 10 },
    defParamCharset: 'utf8',
  });

  router.post(
    '/api/precedents',
    route(async (req, res) => {
      res.json(await precedentsFor(kb, jsonObject(req.body)));
    }),
  );

  router.post(
    '/api/proposals/text',
    upload.single('file'),
    route(async (req, res) => {
      const file = req.file;
      if (!file) throw badRequest('file', '没有收到文件：请用 multipart/form-data 上传，字段名 file');
      const ext = path.extname(file.originalname).toLowerCase();
      if (!PROPOSAL_FILE_TYPES.includes(ext)) {
        throw new HttpError(415, `不支持的提案文件类型${ext ? ` ${ext}` : '（没有扩展名）'}；支持 ${PROPOSAL_FILE_TYPES.join(' ')}`, 'file');
      }
      try {
        const parsed = await parseBytes(new Uint8Array(file.buffer), file.originalname, { passageMaxChars: config.passageMaxChars });
        res.json({ file: file.originalname, title: parsed.title, text: parsed.paragraphs.map((p) => p.text).join('\n'), warnings: parsed.warnings });
      } catch (error) {
        if (isIngestError(error)) throw new HttpError(422, `${file.originalname}：${error.message}`, 'file');
        throw error;
      }
    }),
  );

  router.post(
    '/api/precedents/export',
    route(async (req, res) => {
      const result = await precedentsFor(kb, jsonObject(req.body));
      sendDocx(res, await comparisonDocx(result), '先例对照表.docx');
    }),
  );

  router.post(
    '/api/draft',
    route(async (req, res) => {
      const result = await precedentsFor(kb, jsonObject(req.body));
      const draft = buildDraft(result, kb);
      sendDocx(res, await draftDocx(draft), `${draft.fileStem}.docx`);
    }),
  );

  return router;
}
