/**
 * TXT and Markdown reader. Lines are kept exactly as the file breaks them,
 * right-trimmed only: text exported from government PDFs breaks lines
 * mid-sentence, puts a blank line after every line and marks paragraph
 * starts with a two-character indent (spaces or U+3000). The leading
 * whitespace and the blank lines ('' lines) are the evidence the cleaning
 * stage uses to rebuild paragraphs, so both are passed through untouched;
 * Markdown syntax is likewise left for the cleaning stage.
 */
import type { ParseLimits } from '../../kb/config.ts';
import type { ExtractedDocument, SourceLine } from '../../kb/types.ts';
import { IngestError } from '../errors.ts';
import { decodeText, replacementWarning } from './decode.ts';

/** Share of U+FFFD above which a GB18030 fallback is more likely the wrong encoding than a few bad bytes. */
const MAX_REPLACED_SHARE = 0.01;

export function extractPlainText(bytes: Uint8Array, file: string, format: 'txt' | 'md', limits: Pick<ParseLimits, 'maxLines'>): ExtractedDocument {
  const decoded = decodeText(bytes);
  const text = decoded.text.replace(/^\ufeff/, '').replace(/\r\n?/g, '\n')
    // pdftotext separates pages with a form feed; a page break is a line break here.
    .replace(/\f/g, '\n');
  if (!text.trim()) throw new IngestError(file, '文件为空（empty file）');
  // Counted before splitting: 5 million one-character lines took 37 s and 2.9 GB to parse.
  let lineCount = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (++lineCount > limits.maxLines) {
      throw new IngestError(file, `文本超过 ${limits.maxLines} 行上限（KB_PARSE_MAX_LINES; too many lines）`);
    }
  }
  const warnings: string[] = [];
  if (decoded.replaced > 0) {
    const share = decoded.replaced / text.length;
    if (share > MAX_REPLACED_SHARE) {
      throw new IngestError(file, `无法识别文本编码，不是 UTF-8/UTF-16/GBK（unknown text encoding）`);
    }
    warnings.push(...replacementWarning(decoded));
  }
  const lines: SourceLine[] = text
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => ({ text: line.replace(/[\s\u3000]+$/u, '') }));
  return {
    format,
    paged: false,
    linesAreParagraphs: false,
    pages: [{ number: 1, lines }],
    warnings,
  };
}
