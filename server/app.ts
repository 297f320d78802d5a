/**
 * The HTTP API and the static page, as an Express app built around one open
 * knowledge base. `createApp` does no I/O of its own at creation, so tests
 * run it on an ephemeral port against a knowledge base in a temp folder.
 *
 * Document ids are corpus-relative paths and JSONL ids contain '#', so every
 * route takes the id as ONE path segment encoded with encodeURIComponent
 * (`seed%2Freply.txt`, `replies%2Fm.jsonl%232549`); the page does the same.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import type { Config } from '../kb/config.ts';
import { sourceFileOf } from '../kb/document-id.ts';
import type { KnowledgeBase } from '../kb/kb.ts';
import type { DocumentPage } from '../kb/types.ts';
import { ask } from '../search/ask.ts';
import { findSimilar, findSimilarToDocument } from '../search/precedents.ts';
import { apiNotFound, errorMiddleware, HttpError, noSuchDocument, notFound } from './errors.ts';
import { failureLine } from '../ingest/errors.ts';
import { ingestFile } from '../ingest/ingest.ts';
import { llmSettings } from '../search/generate.ts';
import { openApiDocument, type RouteContract, type RouteResponse } from './contract/index.ts';
import { healthRoute, openApiRoute } from './contract/system.ts';
import { askRoute, searchRoute, similarRoute } from './contract/search.ts';
import { precedentRoutes } from './routes/precedents.ts';
import { feedbackRoutes, type FeedbackSource } from './routes/feedback.ts';
import {
  deleteDocumentRoute,
  documentFileRoute,
  documentRoute,
  documentSimilarRoute,
  listDocumentsRoute,
  uploadRoute,
  type UploadResult,
} from './contract/documents.ts';
import { expressPath, handle, type RouteHandler } from './handle.ts';
import { RequestScheduler } from './scheduler.ts';
import { LIMITS } from './contract/fields.ts';
import { search as searchKnowledgeBase } from '../search/retrieve.ts';

export const DEFAULT_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');

/** What the server needs from the knowledge base (the real `KnowledgeBase` in production). */
export type KnowledgeBaseApi = Pick<
  KnowledgeBase,
  | 'retrievalIndexes'
  | 'passageVectors'
  | 'knowsWord'
  | 'wordShare'
  | 'mayHoldText'
  | 'getDocument'
  | 'documentExcerpt'
  | 'documentText'
  | 'documentPage'
  | 'paragraphIndexAt'
  | 'listDocuments'
  | 'failures'
  | 'health'
  | 'write'
> &
  FeedbackSource;

export interface AppOptions {
  log?: (message: string) => void;
  webDir?: string;
  /** For tests of the generated-answer path. */
  fetchImpl?: typeof fetch;
}

/** Upload formats, by extension; JSONL needs field names and goes through `npm run ingest`. */
const UPLOAD_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.doc': 'application/msword',
  '.wps': 'application/vnd.ms-works',
  '.ofd': 'application/ofd',
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

/** A file name that is safe as one path segment: no separators, no control characters, no leading dot. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f<>:"|?*#%]/g, '_')
    .replace(/^\.+/, '_')
    .trim();
  const ext = path.extname(cleaned).toLowerCase();
  const stem = cutToBytes(cleaned.slice(0, cleaned.length - ext.length), MAX_FILE_NAME_BYTES - Buffer.byteLength(ext));
  return stem ? `${stem}${ext}` : `upload-${Date.now()}${ext}`;
}

/** Linux and macOS file systems take at most 255 bytes per name: 85 Chinese characters in UTF-8. */
const MAX_FILE_NAME_BYTES = 255;

/** The longest prefix of whole characters (grapheme clusters: an emoji with its modifiers stays whole) within `maxBytes` of UTF-8. */
export function cutToBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let result = '';
  let bytes = 0;
  for (const { segment } of new Intl.Segmenter('zh', { granularity: 'grapheme' }).segment(text)) {
    bytes += Buffer.byteLength(segment);
    if (bytes > maxBytes) break;
    result += segment;
  }
  return result;
}

/** The policy a stored web page is served under: its scripts never run, and it loads nothing from anywhere. */
export const STORED_HTML_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/**
 * Every JSON response passes through this: the server's own folders (the
 * model folder named in a lexical-only reason, the data folder in a library's
 * error message) are replaced by the variable that sets them.
 */
export function serverPathRedactor(config: Pick<Config, 'dataDir' | 'modelDir' | 'corpusDir'>): (key: string, value: unknown) => unknown {
  const folders = ([
    [config.modelDir, 'KB_MODEL_DIR'],
    [config.dataDir, 'KB_DATA_DIR'],
    [config.corpusDir, 'KB_CORPUS_DIR'],
    [process.cwd(), '.'],
  ] as Array<[string, string]>).sort((a, b) => b[0].length - a[0].length);
  return (_key, value) => {
    if (typeof value !== 'string' || !value.includes(path.sep)) return value;
    let result = value;
    for (const [folder, name] of folders) if (result.includes(folder)) result = result.split(folder).join(name);
    return result;
  };
}

/** Where multer writes uploads while they arrive and are parsed. */
function incomingUploadsDir(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'uploads', '.incoming');
}

/** At start nothing is being uploaded: temporary files there were left by a crash or a kill mid-upload. */
export function removeAbandonedUploads(config: Pick<Config, 'dataDir'>): number {
  const dir = incomingUploadsDir(config);
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  for (const name of names) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  return names.length;
}

function documentView(doc: DocumentPage): RouteResponse<typeof documentRoute> {
  const { sourcePath, ...rest } = doc;
  return { ...rest, hasFile: doc.format === 'jsonl' || (sourcePath !== undefined && fs.existsSync(sourcePath)) };
}

/**
 * Node closes an idle keep-alive connection after 5 s by default; a client (undici's fetch, a proxy)
 * that reuses the socket at that moment gets ECONNRESET. Seen in the API tests on a loaded machine,
 * where two requests of one test were more than 5 s apart. Clients time out idle sockets well before
 * a minute, so the server must keep them open longer than that.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Listens on host:port with the keep-alive timing every PolicyKB server uses. */
export function listen(app: express.Express, port: number, host: string, onListening?: () => void): Server {
  const server = app.listen(port, host, onListening);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  return server;
}

export function createApp(kb: KnowledgeBaseApi, config: Config, options: AppOptions = {}): express.Express {
  const log = options.log ?? (() => {});
  const webDir = options.webDir ?? DEFAULT_WEB_DIR;
  const uploadsDir = path.join(config.dataDir, 'uploads');
  const incomingDir = incomingUploadsDir(config);
  const llm = llmSettings(config);
  const scheduler = new RequestScheduler(config.heavyRequests);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('json replacer', serverPathRedactor(config));

  app.use((req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    // Document text is untrusted: even if some of it slipped into markup, no inline script may run.
    if (!req.path.endsWith('/file')) {
      res.set(
        'Content-Security-Policy',
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
      );
    }
    next();
  });
  app.use('/api', express.json({ limit: '1mb' }));

  const requireAdmin = (req: Request, _res: Response, next: NextFunction) => {
    if (!config.adminToken) {
      next(new HttpError(403, '服务器未设置 KB_ADMIN_TOKEN，上传与删除功能已停用', 'authorization'));
      return;
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) {
      next(new HttpError(401, '需要管理员令牌：Authorization: Bearer <KB_ADMIN_TOKEN>', 'authorization'));
      return;
    }
    const given = crypto.createHash('sha256').update(match[1]!.trim()).digest();
    const expected = crypto.createHash('sha256').update(config.adminToken).digest();
    if (!crypto.timingSafeEqual(given, expected)) {
      next(new HttpError(401, '管理员令牌不正确', 'authorization'));
      return;
    }
    next();
  };

  const upload = multer({
    storage: multer.diskStorage({
      destination: (_req, _file, cb) => {
        fs.mkdir(incomingDir, { recursive: true }, (err) => cb(err, incomingDir));
      },
      filename: (_req, _file, cb) => cb(null, `${Date.now()}-${crypto.randomBytes(6).toString('hex')}`),
    }),
    limits: { fileSize: config.uploadMaxBytes, files: 20, fields: 20, parts: 40 },
    // Browsers send UTF-8 file names without saying so; busboy's default would turn 提案 into mojibake.
    defParamCharset: 'utf8',
  });

  /** Registers a contract's route; admin routes get the token check first. */
  const serve = <C extends RouteContract>(contract: C, handler: RouteHandler<C>, ...middleware: RequestHandler[]) => {
    app[contract.method](expressPath(contract), ...(contract.admin ? [requireAdmin] : []), ...middleware, handle(contract, handler, scheduler));
  };

  /** A document's summary and source path without any of its paragraphs. */
  const summaryOr404 = (id: string): DocumentPage => {
    const doc = kb.documentPage(id, { offset: 0, limit: 0, maxChars: 0 });
    if (!doc) throw noSuchDocument(id);
    return doc;
  };

  serve(healthRoute, () => ({
    status: 'ok' as const,
    ...kb.health(),
    llm: llm ? { configured: true, model: llm.model } : { configured: false },
    uploads: { enabled: Boolean(config.adminToken), maxBytes: config.uploadMaxBytes, types: Object.keys(UPLOAD_TYPES) },
  }));

  serve(openApiRoute, () => openApiDocument);

  serve(searchRoute, async ({ query: { q: text, k, mode, filters } }) => {
    const result = await searchKnowledgeBase(kb, { text, k, ...(mode ? { mode } : {}), ...(filters ? { filters } : {}) });
    return { query: text, k, ...(filters ? { filters } : {}), ...result };
  });

  serve(askRoute, async ({ body: { question, k, mode, filters } }) => {
    const started = performance.now();
    const asked = await ask(kb, { question, k, ...(mode ? { mode } : {}), ...(filters ? { filters } : {}) }, { ...(llm ? { llm } : {}), ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}) });
    if (asked.citationProblems.length > 0) log(`answer citations failed verification for "${question}": ${asked.citationProblems.join('; ')}`);
    const { answer, retrieval } = asked;
    return {
      question,
      answer: answer.answer,
      ...(answer.reason ? { reason: answer.reason } : {}),
      citations: answer.citations,
      verified: true as const,
      ...(asked.generated ? { generated: asked.generated } : {}),
      hits: retrieval.hits,
      mode: retrieval.mode,
      lexicalOnly: retrieval.lexicalOnly,
      ...(retrieval.notice ? { notice: retrieval.notice } : {}),
      tookMs: Math.round(performance.now() - started),
    };
  });

  serve(similarRoute, ({ body: { text, k, mode, filters } }) =>
    findSimilar(kb, text, { k, ...(mode ? { mode } : {}), ...(filters ? { filters } : {}) }),
  );

  serve(listDocumentsRoute, ({ query: { offset, limit, filters } }) => {
    const page = kb.listDocuments({ offset, limit, ...(filters ? { filters } : {}) });
    // Failed files match no kind or place filter; they come with the first page of the unfiltered list.
    const failures = offset === 0 && !filters ? kb.failures() : [];
    return { offset, limit, ...page, ...(failures.length > 0 ? { failures } : {}) };
  });

  // Uploads are ingested one at a time: two uploads of the same file name must not interleave.
  let uploadQueue: Promise<unknown> = Promise.resolve();
  const ingestUpload = (file: Express.Multer.File): Promise<UploadResult> => {
    const run = async (): Promise<UploadResult> => {
      const name = safeFileName(file.originalname);
      const ext = path.extname(name).toLowerCase();
      if (!(ext in UPLOAD_TYPES)) {
        await fs.promises.rm(file.path, { force: true });
        return {
          file: file.originalname,
          status: 'rejected',
          error: `不支持的文件类型${ext ? ` ${ext}` : '（没有扩展名）'}；支持 ${Object.keys(UPLOAD_TYPES).join(' ')}`,
        };
      }
      const dest = path.join(uploadsDir, name);
      const documentId = `uploads/${name}`;
      // Parsed from the temporary file; the stored original is replaced only once its new version is indexed,
      // so a failed re-upload leaves both the indexed document and its file as they were.
      try {
        // The file moves into place in the writer's turn: a delete or another ingest of this name cannot
        // run between indexing and the move (and leave a file without its document, or the reverse).
        const result = await ingestFile(kb, file.path, documentId, {
          storedAt: dest,
          onIndexed: async (status) => {
            if (status === 'unchanged' && fs.existsSync(dest)) await fs.promises.rm(file.path, { force: true });
            else await fs.promises.rename(file.path, dest);
          },
        });
        if (result.status === 'failed') return { file: file.originalname, documentId, status: 'failed', error: result.error };
        return { file: file.originalname, documentId, status: result.status, document: result.document };
      } catch (err) {
        log(`upload ingest of ${documentId} threw: ${(err as Error).stack ?? String(err)}`);
        return { file: file.originalname, documentId, status: 'failed', error: `入库失败：${(err as Error).message}` };
      } finally {
        await fs.promises.rm(file.path, { force: true });
      }
    };
    const next = uploadQueue.then(run, run);
    uploadQueue = next.catch(() => undefined);
    return next;
  };

  serve(
    uploadRoute,
    async (_input, req, res) => {
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      if (files.length === 0) throw new HttpError(400, '没有收到文件：请用 multipart/form-data 上传，字段名 files', 'files');
      const results: UploadResult[] = [];
      for (const file of files) results.push(await ingestUpload(file));
      const ok = results.filter((r) => r.status !== 'failed' && r.status !== 'rejected').length;
      const status = ok > 0 ? 200 : results.every((r) => r.status === 'rejected') ? 415 : 422;
      if (status !== 200) {
        const first = results[0]!;
        res.status(status).json({ error: { field: 'files', message: failureLine(first.file, first.error ?? '失败') }, results });
        return;
      }
      return { results };
    },
    upload.any(),
  );

  serve(documentRoute, ({ params: { id }, query: { paragraphOffset, paragraphLimit, paragraph, at } }) => {
    // A citation deep in a long document opens the page that holds it.
    const target = paragraph ?? (at !== undefined ? kb.paragraphIndexAt(id, at) : undefined);
    const offset = target !== undefined ? target - (target % paragraphLimit) : paragraphOffset;
    const doc = kb.documentPage(id, { offset, limit: paragraphLimit, maxChars: LIMITS.maxParagraphChars });
    if (!doc) throw noSuchDocument(id);
    return documentView(doc);
  });

  serve(documentSimilarRoute, async ({ params: { id }, query: { k, mode, filters } }) => {
    const result = await findSimilarToDocument(kb, id, { k, maxQueryChars: LIMITS.similarChars, ...(mode ? { mode } : {}), ...(filters ? { filters } : {}) });
    if (!result) throw noSuchDocument(id);
    return { documentId: id, ...result };
  });

  serve(documentFileRoute, async ({ params: { id } }, _req, res) => {
    const doc = summaryOr404(id);
    const fileName = path.basename(sourceFileOf(doc.id));
    if (doc.format === 'jsonl') {
      // One record of a large JSONL file: its text is the original as far as a reader cares.
      res.type('text/plain; charset=utf-8');
      res.set('Content-Disposition', `inline; filename*=UTF-8''${encodeURIComponent(`${fileName}.txt`)}`);
      res.send(kb.getDocument(id)?.text ?? '');
      return;
    }
    if (!doc.sourcePath || !fs.existsSync(doc.sourcePath)) throw notFound(`文档 "${doc.id}" 的原始文件已不存在`);
    const ext = path.extname(doc.sourcePath).toLowerCase();
    res.type(UPLOAD_TYPES[ext] ?? 'application/octet-stream');
    res.set('Content-Disposition', `inline; filename*=UTF-8''${encodeURIComponent(fileName)}`);
    // A stored web page must not run its scripts under this server's origin.
    // …nor load anything from the network (a tracking image, a remote stylesheet): inline styles and data: images only.
    if (ext === '.html' || ext === '.htm') res.set('Content-Security-Policy', STORED_HTML_POLICY);
    await new Promise<void>((resolve, reject) => {
      res.sendFile(doc.sourcePath!, { dotfiles: 'allow', headers: {} }, (err) => (err ? reject(err) : resolve()));
    });
  });

  serve(deleteDocumentRoute, async ({ params: { id } }) => {
    const doc = summaryOr404(id);
    // An uploaded original lives only in the uploads folder; keep no orphan there. Removed in the writer's
    // turn, so an upload of the same name cannot land its new file in between and lose it.
    const removed = await kb.write(async (writer) => {
      if (!writer.remove(id)) return false;
      if (doc.sourcePath && path.dirname(path.resolve(doc.sourcePath)) === path.resolve(uploadsDir)) {
        await fs.promises.rm(doc.sourcePath, { force: true });
      }
      return true;
    });
    if (!removed) throw noSuchDocument(id);
    return { removed: id };
  });

  app.use(precedentRoutes(kb, config, scheduler, options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}));
  app.use(feedbackRoutes(kb, config, requireAdmin, scheduler));
  app.use('/api', apiNotFound);
  app.use(express.static(webDir, { index: 'index.html', dotfiles: 'ignore' }));
  app.use(errorMiddleware({ log, maxUploadBytes: config.uploadMaxBytes }));
  return app;
}
