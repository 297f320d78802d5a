/**
 * A parsed document as reviewable text for snapshot files: the header fields,
 * one line per paragraph (role, heading level, pages, text) and one line per
 * passage (the paragraphs it covers, pages, heading path, length). A change
 * to a heuristic shows in a review as the lines it moves.
 */
import type { PageSpan, ParsedDocument } from '../../kb/types.ts';

function pages(span: PageSpan | undefined): string {
  if (!span) return 'p-';
  return span[0] === span[1] ? `p${span[0]}` : `p${span[0]}–${span[1]}`;
}

export function parseSnapshot(doc: ParsedDocument): string {
  const lines = [
    `file: ${doc.file}`,
    `format: ${doc.format} · kind: ${doc.kind}${doc.pageCount !== undefined ? ` · pages: ${doc.pageCount}` : ''}${doc.needsOcr ? ' · needs OCR' : ''}`,
    `title: ${doc.title}`,
    `metadata: ${JSON.stringify(doc.metadata)}`,
    ...doc.warnings.map((w) => `warning: ${w}`),
    '',
    `paragraphs: ${doc.paragraphs.length}`,
    ...doc.paragraphs.map((p) => `${p.index} ${p.role}${p.headingLevel !== undefined ? ` h${p.headingLevel}` : ''} ${pages(p.pages)} | ${p.text}`),
    '',
    `passages: ${doc.passages.length}`,
    ...doc.passages.map((p) => `¶${p.paragraphSpan[0]}–${p.paragraphSpan[1]} ${pages(p.pages)} ${p.text.length} chars | ${p.headingPath.join(' › ')}`),
  ];
  return `${lines.join('\n')}\n`;
}
