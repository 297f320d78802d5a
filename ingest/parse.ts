/**
 * The parse entry points: an extracted document (or a file, or a JSONL
 * record's text) → a ParsedDocument with paragraphs, metadata and passages.
 * Extraction is format-specific (ingest/extract/); everything after it is
 * shared: clean → structure → metadata → passages.
 */
import path from 'node:path';
import { sourceFileOf } from '../kb/document-id.ts';
import type { DocumentKind, ExtractedDocument, Paragraph, ParsedDocument, SourcePage } from '../kb/types.ts';
import { cleanDocument, meanConfidence, normaliseSpacing } from './clean.ts';
import { IngestError } from './errors.ts';
import { extractBuffer, readSourceFile, type ExtractBufferOptions } from './extract/index.ts';
import { extractMetadata, readFrontMatterHints, replyTitle, titleFromSource, type MetadataHints } from './metadata.ts';
import { buildPassages, MESSAGE_HEADING } from './passages.ts';
import { structureDocument } from './structure.ts';

export interface ParseOptions {
  /** Passage length bound in characters (Config.passageMaxChars). */
  passageMaxChars: number;
}

/** Parsing a file may OCR its scanned pages (Config.ocr), report page progress, and runs under `limits` (default: an unconfigured environment's). */
export type FileParseOptions = ParseOptions & ExtractBufferOptions & { displayPath?: string };

/** Strip the policy collection's "# department: …" front matter from the first page; return it as hints. */
function takeFrontMatter(extracted: ExtractedDocument): { document: ExtractedDocument; hints: MetadataHints } {
  const first = extracted.pages[0];
  if (!first || extracted.paged || (extracted.format !== 'txt' && extracted.format !== 'md')) {
    return { document: extracted, hints: {} };
  }
  const { hints, consumed } = readFrontMatterHints(first.lines.slice(0, 12).map((line) => line.text));
  if (consumed === 0) return { document: extracted, hints };
  const page: SourcePage = { ...first, lines: first.lines.slice(consumed) };
  return { document: { ...extracted, pages: [page, ...extracted.pages.slice(1)] }, hints };
}

function fallbackTitle(file: string): string {
  const base = path.basename(sourceFileOf(file)).replace(/\.[^.]+$/, '');
  return base.replace(/^\d+[a-z]?_/, '').replace(/_/g, ' ');
}

export function parseExtracted(
  extracted: ExtractedDocument,
  file: string,
  options: ParseOptions & { title?: string; defaultKind?: DocumentKind; record?: boolean },
): ParsedDocument {
  const { document, hints } = takeFrontMatter(extracted);
  const imageOnlyPages = document.pages.filter((page) => page.imageOnly).map((page) => page.number);
  const blocks = cleanDocument(document);
  if (blocks.length === 0 && imageOnlyPages.length === 0) {
    throw new IngestError(file, '没有可提取的文本（no extractable text）');
  }
  const titleHint = document.titleHint?.trim() || hints.title;
  const structured = structureDocument(blocks, { ...(titleHint ? { titleHint } : {}), findFrontMatter: !options.record });
  // The English translation line of the policy collection is a last resort:
  // better than a file number, worse than any Chinese title (a legal database's link may carry one).
  const statedTitle = options.title || structured.title || titleHint || titleFromSource(hints.source) || hints.englishTitle || fallbackTitle(file);
  const { kind, metadata } = extractMetadata(structured.paragraphs, statedTitle, {
    file,
    hints,
    ...(options.defaultKind ? { defaultKind: options.defaultKind } : {}),
  });
  const warnings = [...document.warnings];
  if (imageOnlyPages.length > 0 && !warnings.some((w) => /OCR/.test(w))) {
    warnings.push(`第${imageOnlyPages.join('、')}页没有文本层，需要 OCR`);
  }
  const parsed: ParsedDocument = {
    file,
    format: document.format,
    kind,
    title: replyTitle(statedTitle, kind, metadata),
    metadata,
    text: structured.text,
    paragraphs: structured.paragraphs,
    passages: buildPassages(structured.paragraphs, structured.text, options.passageMaxChars),
    warnings,
    needsOcr: imageOnlyPages.length > 0 || document.pages.some((page) => page.unreadPictures),
  };
  if (document.paged) parsed.pageCount = document.pages.length;
  // A page with a text layer counts too when OCR read a picture on it: its OCR'd lines carry a confidence, the layer's none.
  const ocrPages = document.pages.filter((page) => page.ocrConfidence !== undefined || page.lines.some((line) => line.confidence !== undefined));
  if (ocrPages.length > 0) {
    const confidence = meanConfidence(ocrPages.flatMap((page) => page.lines.map((line) => ({ chars: line.text.length, confidence: line.confidence }))));
    parsed.ocr = { pages: ocrPages.length, confidence: confidence ?? 0 };
  }
  return parsed;
}

/**
 * Extract and parse one file in this thread. Servers and batches use
 * ingest/parse-pool.ts instead, which runs this in a worker under limits.
 */
export async function parseFile(filePath: string, options: FileParseOptions): Promise<ParsedDocument> {
  const extracted = await extractBuffer(await readSourceFile(filePath, options.limits ? { maxBytes: options.limits.maxFileMb * 1024 * 1024 } : {}), filePath, options);
  return parseExtracted(extracted, options.displayPath ?? filePath, { passageMaxChars: options.passageMaxChars });
}

/** The same for a file already read (the batch reads each file once, to hash and to parse it). */
export async function parseBytes(bytes: Uint8Array, filePath: string, options: FileParseOptions): Promise<ParsedDocument> {
  const extracted = await extractBuffer(bytes, filePath, options);
  return parseExtracted(extracted, options.displayPath ?? filePath, { passageMaxChars: options.passageMaxChars });
}

/**
 * One JSONL record (a citizen message's reply, a service answer) as a
 * document: plain text whose lines are paragraphs. `file` is `<file>#<id>`.
 * The record's message, when given, follows the reply as paragraphs of role
 * 'message' under MESSAGE_HEADING: title, kind and metadata are the reply's alone.
 */
export function parseRecordText(
  text: string,
  file: string,
  options: ParseOptions & { title?: string; kind?: DocumentKind; message?: string },
): ParsedDocument {
  const extracted: ExtractedDocument = {
    format: 'jsonl',
    paged: false,
    linesAreParagraphs: true,
    pages: [{ number: 1, lines: text.split(/\r\n|\r|\n/).map((line) => ({ text: line })) }],
    warnings: [],
    ...(options.title ? { titleHint: options.title } : {}),
  };
  const parsed = parseExtracted(extracted, file, {
    passageMaxChars: options.passageMaxChars,
    defaultKind: options.kind ?? 'other',
    record: true,
    ...(options.title ? { title: options.title } : {}),
  });
  return options.message ? withMessage(parsed, options.message, options.passageMaxChars) : parsed;
}

function withMessage(parsed: ParsedDocument, message: string, passageMaxChars: number): ParsedDocument {
  const lines = message.split(/\r\n|\r|\n/).map(normaliseSpacing).filter((line) => line.length > 0);
  if (lines.length === 0) return parsed;
  const paragraphs: Paragraph[] = [...parsed.paragraphs];
  let text = parsed.text;
  for (const line of lines) {
    if (text.length > 0) text += '\n';
    paragraphs.push({ index: paragraphs.length, text: line, role: 'message', headingPath: [MESSAGE_HEADING], start: text.length, end: text.length + line.length });
    text += line;
  }
  return { ...parsed, text, paragraphs, passages: buildPassages(paragraphs, text, passageMaxChars) };
}
