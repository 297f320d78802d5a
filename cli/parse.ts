/**
 * `npm run --silent parse -- <file>`: print one parsed document as JSON, for
 * operators checking what the knowledge base will make of a file. A file that
 * cannot be read gives exit code 1 and one line on stderr, never a stack trace.
 */
import { ConfigError, loadConfig } from '../kb/config.ts';
import type { ParsedDocument } from '../kb/types.ts';
import { isIngestError } from '../ingest/errors.ts';
import { readSourceFile } from '../ingest/extract/index.ts';
import { parsePool } from '../ingest/parse-pool.ts';

function present<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function toInspection(doc: ParsedDocument): object {
  return {
    file: doc.file,
    format: doc.format,
    kind: doc.kind,
    title: doc.title,
    metadata: present(doc.metadata),
    ...(doc.pageCount !== undefined ? { pageCount: doc.pageCount } : {}),
    needsOcr: doc.needsOcr,
    paragraphs: doc.paragraphs.map((p) => present({
      text: p.text,
      role: p.role,
      headingPath: p.headingPath,
      headingLevel: p.headingLevel,
      pages: p.pages,
      start: p.start,
      end: p.end,
    })),
    passages: doc.passages.map((p) => present({
      id: p.id,
      text: p.text,
      headingPath: p.headingPath,
      pages: p.pages,
      start: p.start,
      end: p.end,
    })),
    warnings: doc.warnings,
  };
}

async function main(argv: string[]): Promise<number> {
  const file = argv.find((arg) => !arg.startsWith('-'));
  const help = argv.includes('--help') || argv.includes('-h');
  if (!file || help) {
    process.stderr.write('usage: npm run --silent parse -- <file>   (PDF, DOCX, HTML, TXT, MD)\n');
    return help ? 0 : 1;
  }
  try {
    const config = loadConfig();
    // In a worker under the configured limits, so the CLI shows what ingest would say about a hostile file.
    const bytes = await readSourceFile(file, { maxBytes: config.parse.maxFileMb * 1024 * 1024 });
    const doc = await parsePool(config.parse).parse({ bytes, file, passageMaxChars: config.passageMaxChars, ocr: config.ocr });
    process.stdout.write(`${JSON.stringify(toInspection(doc), null, 2)}\n`);
    return 0;
  } catch (error) {
    const message = isIngestError(error) || error instanceof ConfigError
      ? error.message
      : `${file}：无法解析（${error instanceof Error ? error.message.split('\n')[0] : String(error)}）`;
    process.stderr.write(`${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
