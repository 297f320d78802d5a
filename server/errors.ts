/**
 * Errors as the client sees them: `{error: {field?, message}}` with a fitting
 * status. One middleware turns everything thrown in a route into that shape;
 * stacks go to the server log only, never into a response.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import multer from 'multer';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const badRequest = (field: string, message: string) => new HttpError(400, message, field);
export const notFound = (message: string) => new HttpError(404, message);
export const noSuchDocument = (id: string) => notFound(`没有 id 为 "${id.slice(0, 200)}" 的文档`);

export interface ErrorBody {
  error: { field?: string; message: string };
}

function body(message: string, field?: string): ErrorBody {
  return { error: field ? { field, message } : { message } };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KB`;
  return `${bytes} 字节`;
}

/** Errors the parsers (express.json, multer) raise, mapped to what the client did wrong. */
function fromLibraryError(err: unknown, maxUploadBytes: number): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof multer.MulterError) {
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return new HttpError(413, `上传的文件超过单个文件上限 ${formatBytes(maxUploadBytes)}`, 'files');
      case 'LIMIT_FILE_COUNT':
        return new HttpError(400, '一次上传的文件过多', 'files');
      default:
        return new HttpError(400, `上传请求无效：${err.message}`, err.field ?? 'files');
    }
  }
  const e = err as { type?: string; status?: number; message?: string; limit?: number } | null;
  if (e && typeof e === 'object') {
    if (e.type === 'entity.parse.failed') return new HttpError(400, '请求体不是合法的 JSON', 'body');
    if (e.type === 'entity.too.large')
      return new HttpError(413, `请求体过大${typeof e.limit === 'number' ? `（上限 ${formatBytes(e.limit)}）` : ''}`, 'body');
    // Express's router cannot decode a path parameter such as %E0%A4%A (a cut UTF-8 escape).
    if (e.message?.startsWith('Failed to decode param'))
      return new HttpError(400, '路径中的文档 id 不是合法的 URL 编码（请用 encodeURIComponent 编码）', 'id');
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return new HttpError(415, '不支持的请求编码', 'body');
    if (e.message === 'Unexpected end of form' || e.message === 'Malformed part header' || e.message?.startsWith('Multipart:'))
      return new HttpError(400, `上传请求格式错误：${e.message}`, 'files');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new HttpError(e.status, '请求无效');
  }
  return undefined;
}

export function errorMiddleware(options: { log: (message: string) => void; maxUploadBytes: number }): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = fromLibraryError(err, options.maxUploadBytes);
    if (res.headersSent) {
      options.log(`error after response started on ${req.method} ${req.originalUrl}: ${(err as Error)?.stack ?? String(err)}`);
      res.end();
      return;
    }
    if (known) {
      if (known.status === 401) res.set('WWW-Authenticate', 'Bearer');
      res.status(known.status).json(body(known.message, known.field));
      return;
    }
    options.log(`internal error on ${req.method} ${req.originalUrl}: ${(err as Error)?.stack ?? String(err)}`);
    res.status(500).json(body('服务器内部错误，详情见服务器日志'));
  };
}

export const apiNotFound: RequestHandler = (req, res) => {
  // originalUrl: under app.use('/api') req.path has lost the /api the client sent.
  const requested = req.originalUrl.split('?')[0]!;
  // Only a /documents/… path is likely an id whose / or # was not encoded.
  const hint = /^\/api\/documents\/./.test(requested) ? '（文档 id 须用 encodeURIComponent 编码，含 / 与 #）' : '';
  res.status(404).json(body(`没有这个接口：${req.method} ${requested}${hint}`));
};
