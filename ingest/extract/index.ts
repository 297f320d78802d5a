/**
 * Extract stage entry point: a file (or uploaded bytes) → ExtractedDocument.
 *
 * Routing trusts content over the name. The first bytes decide: a PDF or
 * DOCX signature goes to that reader whatever the extension says (with a
 * warning naming the mismatch), because misnamed downloads ("附件.htm" that
 * is a PDF) are common on government sites; any other binary signature under
 * a text extension is refused with what it looks like. Only text content is
 * routed by extension (.html/.htm → HTML, .md → Markdown, .txt → text).
 *
 * Every failure caused by the input is an IngestError with a one-line
 * message naming the file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadParseLimits, type ParseLimits } from '../../kb/config.ts';
import type { ExtractedDocument } from '../../kb/types.ts';
import { IngestError } from '../errors.ts';
import { extractDocx } from './docx.ts';
import { extractDoc, oleContents } from './doc.ts';
import { extractHtml } from './html.ts';
import { extractOfd } from './ofd.ts';
import { extractImage, type ImageFormat } from './image.ts';
import { extractPdf, type PdfOptions } from './pdf.ts';
import { sniff } from './sniff.ts';
import { extractPlainText } from './text.ts';

export const SUPPORTED_EXTENSIONS: readonly string[] = ['.pdf', '.docx', '.doc', '.wps', '.ofd', '.html', '.htm', '.txt', '.md', '.png', '.jpg', '.jpeg', '.tif', '.tiff'];

/** OCR for scanned pages and image files, and page progress; without `ocr`, scans are reported as needing OCR. */
export type ExtractOcrOptions = PdfOptions;

/** OCR and progress, and the caps every reader applies (default: an unconfigured environment's). */
export interface ExtractBufferOptions extends ExtractOcrOptions {
  limits?: ParseLimits;
}

export interface ExtractOptions {
  /** Files larger than this are refused before reading. Default: KB_PARSE_MAX_FILE_MB. */
  maxBytes?: number;
}

/** The limits of an unconfigured environment, for callers (tests, the parse CLI's in-process path) that pass none. */
export const DEFAULT_PARSE_LIMITS: ParseLimits = loadParseLimits();

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

/** A file that cannot be stat'ed or read, as the one-line error the batch reports. */
export function unreadableFile(filePath: string, error: unknown): IngestError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new IngestError(filePath, '文件不存在（file not found）', error);
  if (code === 'EACCES' || code === 'EPERM') return new IngestError(filePath, '没有读取权限（permission denied）', error);
  return new IngestError(filePath, `无法读取文件（${code ?? 'read error'}）`, error);
}

/**
 * A source file's bytes, after the checks that must come before reading it:
 * it exists, is a regular file, and is not larger than the limit (a huge
 * file is refused by its size, not after filling memory with it).
 */
export async function readSourceFile(filePath: string, options: ExtractOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? DEFAULT_PARSE_LIMITS.maxFileMb * 1024 * 1024;
  let stat;
  try {
    stat = await fs.stat(filePath);
  } catch (error) {
    throw unreadableFile(filePath, error);
  }
  if (!stat.isFile()) throw new IngestError(filePath, '不是普通文件（not a regular file）');
  if (stat.size > maxBytes) {
    throw new IngestError(filePath, `文件过大：${formatBytes(stat.size)}，上限 ${formatBytes(maxBytes)}（KB_PARSE_MAX_FILE_MB; file too large）`);
  }
  try {
    return await fs.readFile(filePath);
  } catch (error) {
    throw unreadableFile(filePath, error);
  }
}

export async function extractFile(filePath: string, options: ExtractOptions & ExtractOcrOptions = {}): Promise<ExtractedDocument> {
  return extractBuffer(await readSourceFile(filePath, options), filePath, options);
}

/** The same for bytes already in memory (uploads); `file` is the name used for routing and messages. */
export async function extractBuffer(bytes: Uint8Array, file: string, options: ExtractBufferOptions = {}): Promise<ExtractedDocument> {
  const limits = options.limits ?? DEFAULT_PARSE_LIMITS;
  if (bytes.length === 0) throw new IngestError(file, '文件为空（empty file）');
  const extension = path.extname(file).toLowerCase();
  const sniffed = sniff(bytes);
  const misnamed = (actual: string): string[] =>
    extension === actual ? [] : [`扩展名是 ${extension || '（无）'}，但内容是 ${actual.slice(1).toUpperCase()}，已按 ${actual.slice(1).toUpperCase()} 读取`];

  switch (sniffed.kind) {
    case 'pdf': {
      const doc = await extractPdf(bytes, file, { ...options, limits });
      doc.warnings.unshift(...misnamed('.pdf'));
      return doc;
    }
    case 'image': {
      const doc = await extractImage(bytes, file, sniffed.format, options);
      const expected: Record<ImageFormat, string[]> = { png: ['.png'], jpeg: ['.jpg', '.jpeg'], tiff: ['.tif', '.tiff'] };
      if (!expected[sniffed.format].includes(extension)) doc.warnings.unshift(misnamed(`.${sniffed.format}`)[0]!);
      return doc;
    }
    case 'docx': {
      const doc = extractDocx(bytes, file, limits);
      doc.warnings.unshift(...misnamed('.docx'));
      return doc;
    }
    case 'ole': {
      const contents = oleContents(bytes);
      if (contents.kind === 'encrypted-ooxml' || (contents.kind === 'word' && contents.encrypted)) {
        throw new IngestError(file, 'Word 文档已加密，需要密码才能打开（encrypted Word document）；请去掉密码后再上传');
      }
      if (contents.kind === 'excel') throw new IngestError(file, '看起来是 Excel 表格（.xls），不是支持的文档格式（unsupported legacy Office file）');
      if (contents.kind === 'powerpoint') throw new IngestError(file, '看起来是 PowerPoint 演示文稿（.ppt），不是支持的文档格式（unsupported legacy Office file）');
      if (contents.kind === 'unknown') {
        // A .doc cut short loses the directory that names its streams.
        throw new IngestError(file, extension === '.doc' || extension === '.wps'
          ? 'Word 文档已损坏或不完整（damaged or truncated .doc）'
          : '是 OLE 复合文件，但不是 Word 文档（not a Word document）');
      }
      const doc = await extractDoc(bytes, file);
      if (extension !== '.doc' && extension !== '.wps') doc.warnings.unshift(...misnamed('.doc'));
      return doc;
    }
    case 'ofd': {
      const doc = extractOfd(bytes, file, limits);
      doc.warnings.unshift(...misnamed('.ofd'));
      return doc;
    }
    case 'zip':
      throw new IngestError(file, extension === '.docx'
        ? `不是 Word 文档：看起来是 ${sniffed.label}（not a DOCX）`
        : `看起来是 ${sniffed.label}，不是支持的文档格式（unsupported archive）`);
    case 'binary':
      throw new IngestError(file, extension === '.pdf' || extension === '.docx'
        ? `不是 ${extension.slice(1).toUpperCase()} 文件：看起来是 ${sniffed.label}（wrong file type）`
        : `看起来是 ${sniffed.label}，不是文本文件（binary content）`);
    case 'text':
      break;
  }

  switch (extension) {
    case '.pdf':
      throw new IngestError(file, '不是有效的 PDF 文件：缺少 %PDF 文件头，内容是文本（not a PDF）');
    case '.docx':
      throw new IngestError(file, '不是有效的 DOCX 文件：内容是文本，不是 Word 压缩包（not a DOCX）');
    case '.doc':
    case '.wps':
      throw new IngestError(file, `不是有效的 Word 文档：内容是文本，不是 ${extension} 文件（not a Word document）`);
    case '.ofd':
      throw new IngestError(file, '不是有效的 OFD 文件：内容是文本，不是 OFD 压缩包（not an OFD）');
    case '.html':
    case '.htm':
      return extractHtml(bytes, file, limits);
    case '.md':
      return extractPlainText(bytes, file, 'md', limits);
    case '.txt':
      return extractPlainText(bytes, file, 'txt', limits);
    default:
      throw new IngestError(file, `不支持的文件类型 ${extension || '（无扩展名）'}，支持 ${SUPPORTED_EXTENSIONS.join(' ')}（unsupported file type）`);
  }
}
