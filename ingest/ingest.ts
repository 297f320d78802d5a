/**
 * Ingest into a knowledge base: the batch (files and folders, from the CLI,
 * the server's first start, the bench and eval) and the single upload. Both
 * write through the knowledge base's one IndexWriter, so they queue behind
 * each other and behind every other write, and the knowledge base never
 * learns what a file or a parser is.
 */
import path from 'node:path';
import type { KnowledgeBase } from '../kb/kb.ts';
import type { IngestFileResult, IngestOptions, IngestReport } from '../kb/types.ts';
import { ingestBatch } from './batch.ts';
import { readSourceFile } from './extract/index.ts';
import { storedHashFor } from './extract/ocr/pool.ts';
import { parsePool } from './parse-pool.ts';
import { contentHash } from './version.ts';

/** Ingest files and folders: passages stored without vectors are embedded first, then the batch runs. */
export function ingestPaths(kb: KnowledgeBase, paths: string[], options: IngestOptions = {}): Promise<IngestReport> {
  return kb.write(async (writer) => {
    await writer.embedMissing();
    try {
      return await ingestBatch(writer, paths, options);
    } finally {
      writer.checkpoint();
    }
  });
}

/**
 * Index one file under the given document id (the upload endpoint). Errors are values, and a file that
 * fails is recorded with its reason. `storedAt` is where the file will live once indexed (an upload is
 * read from its temporary file and moved there only after it was indexed): the recorded source path
 * and the name its format is routed by. `onIndexed` runs within the same turn of the writer, after the
 * document is indexed (or found unchanged) and before any other write — a delete or another ingest of
 * the same id — can start: where an upload moves its file into place.
 */
export function ingestFile(
  kb: Pick<KnowledgeBase, 'write'>,
  filePath: string,
  documentId: string,
  options: { storedAt?: string; onIndexed?: (status: 'added' | 'updated' | 'unchanged') => Promise<void> | void } = {},
): Promise<IngestFileResult> {
  const storedAt = options.storedAt ?? filePath;
  return kb.write(async (writer): Promise<IngestFileResult> => {
    try {
      const bytes = await readSourceFile(filePath, { maxBytes: writer.config.parse.maxFileMb * 1024 * 1024 });
      const hash = contentHash(bytes, writer.config);
      if (writer.storedHash(documentId) === hash) {
        const summary = writer.summary(documentId);
        if (summary) {
          await options.onIndexed?.('unchanged');
          return { status: 'unchanged', document: summary };
        }
      }
      const parsed = await parsePool(writer.config.parse).parse({
        bytes,
        file: storedAt,
        displayPath: documentId,
        passageMaxChars: writer.config.passageMaxChars,
        ocr: writer.config.ocr,
      });
      const [outcome] = await writer.indexDocuments([{ id: documentId, sourcePath: path.resolve(storedAt), contentHash: storedHashFor(hash, parsed), parsed }]);
      if (!outcome || outcome.status === 'failed') {
        const error = outcome?.error ?? `${documentId}：未写入`;
        writer.recordFailure(documentId, storedAt, error);
        return { status: 'failed', error };
      }
      await options.onIndexed?.(outcome.status);
      const summary = writer.summary(documentId);
      if (!summary) return { status: 'failed', error: `${documentId}：写入后找不到文档` };
      return { status: outcome.status, document: summary };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      writer.recordFailure(documentId, storedAt, message);
      return { status: 'failed', error: message };
    }
  });
}
