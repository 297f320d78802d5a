/**
 * Legacy binary Word (.doc, and WPS Office's .wps, which is the same Word 97
 * format in an OLE compound file), through `word-extractor`. Its body text
 * keeps paragraphs on lines; table cells come separated by tabs and become
 * the DOCX reader's " | " rows. Headers, footers and text boxes are page
 * furniture and are not read, as for DOCX.
 */
import type { ExtractedDocument, SourceLine } from '../../kb/types.ts';
import { IngestError } from '../errors.ts';

/** What an OLE compound file holds, from the stream names in its directory (UTF-16LE) and the Word header. */
export interface OleContents {
  kind: 'word' | 'encrypted-ooxml' | 'excel' | 'powerpoint' | 'unknown';
  /** A Word file whose FIB says fEncrypted (a password to open). */
  encrypted: boolean;
}

function hasStream(bytes: Buffer, name: string): boolean {
  return bytes.includes(Buffer.from(name, 'utf16le'));
}

/**
 * The WordDocument stream starts on a sector boundary with its File
 * Information Block: wIdent 0xA5EC, then nFib; flags at offset 0x0A, where
 * bit 0x0100 is fEncrypted.
 */
function wordIsEncrypted(bytes: Buffer): boolean {
  const sector = 1 << bytes.readUInt16LE(0x1e);
  for (let offset = sector; offset + 0x0c <= bytes.length; offset += sector) {
    if (bytes.readUInt16LE(offset) === 0xa5ec && bytes.readUInt16LE(offset + 2) >= 0x65) {
      return (bytes.readUInt16LE(offset + 0x0a) & 0x0100) !== 0;
    }
  }
  return false;
}

export function oleContents(data: Uint8Array): OleContents {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (hasStream(bytes, 'EncryptedPackage')) return { kind: 'encrypted-ooxml', encrypted: true };
  if (hasStream(bytes, 'WordDocument')) return { kind: 'word', encrypted: bytes.length >= 0x200 && wordIsEncrypted(bytes) };
  if (hasStream(bytes, 'Workbook') || hasStream(bytes, 'Book')) return { kind: 'excel', encrypted: false };
  if (hasStream(bytes, 'PowerPoint Document')) return { kind: 'powerpoint', encrypted: false };
  return { kind: 'unknown', encrypted: false };
}

export async function extractDoc(data: Uint8Array, file: string): Promise<ExtractedDocument> {
  const { default: WordExtractor } = await import('word-extractor');
  let body: string;
  try {
    const document = await new WordExtractor().extract(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    body = document.getBody({ filterUnicode: false });
  } catch (error) {
    throw new IngestError(file, `Word 文档已损坏或不完整（damaged or truncated .doc: ${(error as Error).message.split('\n')[0]}）`, error);
  }
  const lines: SourceLine[] = body
    .split(/\r\n|\r|\n/)
    .map((line) => line.split('\t').map((cell) => cell.trim()).filter(Boolean).join(' | '))
    .filter((text) => text.length > 0)
    .map((text) => ({ text }));
  const warnings: string[] = [];
  if (lines.length === 0) warnings.push('文档中没有文字（可能只有图片，需要 OCR）');
  return { format: 'doc', paged: false, linesAreParagraphs: true, pages: [{ number: 1, lines }], warnings };
}
