/**
 * The parse worker's entry: one file's bytes in, a ParsedDocument or a typed
 * failure out, over the IPC channel of its process. It knows nothing about
 * the pool; anything slow or heavy that belongs to parsing one file (OCR
 * included) belongs behind this entry.
 */
import { firstLine, IngestError } from './errors.ts';
import { configuredOcr } from './extract/ocr/pool.ts';
import { loadPdfJs } from './extract/pdf.ts';
import { parseBytes } from './parse.ts';
import type { ParseReply, ParseRequestMessage } from './parse-pool.ts';

function failure(request: ParseRequestMessage, error: unknown): ParseReply {
  const file = request.displayPath ?? request.file;
  if (error instanceof IngestError) return { ok: false, ingest: true, file, reason: error.reason };
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return { ok: false, ingest: true, file, reason: '结构嵌套过深，解析时栈溢出（stack overflow）' };
  }
  return { ok: false, ingest: false, file, reason: firstLine(error) };
}

const send = (reply: ParseReply) => process.send!(reply);

process.on('message', (request: ParseRequestMessage) => {
  const ocr = configuredOcr(request);
  parseBytes(request.bytes, request.file, {
    passageMaxChars: request.passageMaxChars,
    limits: request.limits,
    ...(ocr ? { ocr } : {}),
    onPage: () => send({ page: true }),
    onWork: () => send({ working: true }),
    ...(request.displayPath ? { displayPath: request.displayPath } : {}),
  }).then(
    (parsed) => send({ ok: true, parsed }),
    (error: unknown) => send(failure(request, error)),
  );
});
// Ready once the readers are loaded: the pool's time limit is for parsing, not for starting a process.
await loadPdfJs();
send({ ready: true });
// A server that exits (or is killed) takes its parse workers with it.
process.on('disconnect', () => process.exit(0));
