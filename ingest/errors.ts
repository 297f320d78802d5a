/**
 * The one exception type the ingest stages throw for bad input. Its message is
 * a single line a user can act on: the file's name, then the cause in Chinese
 * with a short English gloss, e.g.
 * `坏.pdf：PDF 文件已损坏或不完整（truncated or damaged PDF）`.
 * The batch and the server turn it into a per-file error value; anything that
 * is not an IngestError there is a bug, not bad input.
 */
import path from 'node:path';

export class IngestError extends Error {
  /** The path as the caller gave it. */
  readonly file: string;
  /** The cause alone, without the file name (what a parse worker sends back). */
  readonly reason: string;
  /** The low-level error behind it, when there was one (kept for logs, never shown to users). */
  override readonly cause: unknown;

  constructor(file: string, reason: string, cause?: unknown) {
    super(`${path.basename(file)}：${reason}`);
    this.name = 'IngestError';
    this.file = file;
    this.reason = reason;
    this.cause = cause;
  }
}

/** An error's first line (a stack or a library's multi-line message is for logs), or the thrown value as text. */
export function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

/**
 * A failure as one line under its document id. The error already opens with
 * the file's base name (see IngestError); the id replaces it rather than
 * standing before it, so the line does not read `a/x.pdf: x.pdf：…`.
 */
export function failureLine(file: string, error: string): string {
  const prefix = `${path.basename(file)}：`;
  return `${file}：${error.startsWith(prefix) ? error.slice(prefix.length) : error}`;
}

export function isIngestError(error: unknown): error is IngestError {
  return error instanceof IngestError;
}
