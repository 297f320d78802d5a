/**
 * What a file is, from its first bytes. Extensions lie: a scan saved as
 * "答复.txt", a PDF downloaded as "attachment.htm", an old Word file renamed
 * .docx. The readers trust these signatures over the name.
 */
import { utf16WithoutBom } from './decode.ts';

export type Sniffed =
  | { kind: 'pdf' }
  | { kind: 'docx' }
  /** OFD (GB/T 33190): a ZIP with OFD.xml at its root. */
  | { kind: 'ofd' }
  /** A scan saved as a picture: read by OCR. */
  | { kind: 'image'; format: 'png' | 'jpeg' | 'tiff' }
  /** An OLE compound file: a legacy .doc/.xls/.wps, or an encrypted (password-protected) .docx. */
  | { kind: 'ole' }
  /** Another ZIP container (xlsx, pptx, ofd, a plain archive). */
  | { kind: 'zip'; label: string }
  /** Any other non-text content; `label` is what it looks like, in Chinese. */
  | { kind: 'binary'; label: string }
  | { kind: 'text' };

function startsWith(bytes: Uint8Array, signature: number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, i) => bytes[offset + i] === byte);
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.subarray(start, Math.min(end, bytes.length))).toString('latin1');
}

/** Magic numbers of files people mistake for documents, with what to call them. */
const SIGNATURES: Array<{ bytes: number[]; offset?: number; label: string }> = [
  { bytes: [0x47, 0x49, 0x46, 0x38], label: 'GIF 图片' },
  { bytes: [0x52, 0x61, 0x72, 0x21], label: 'RAR 压缩包' },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], label: '7z 压缩包' },
  { bytes: [0x1f, 0x8b], label: 'gzip 压缩文件' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], label: '可执行程序（ELF）' },
  { bytes: [0x7b, 0x5c, 0x72, 0x74, 0x66], label: 'RTF 文档（请另存为 .docx）' },
];

/** A PDF header may follow a little junk (some servers prepend a BOM or whitespace); pdf.js accepts it within the first KiB. */
function hasPdfHeader(bytes: Uint8Array): boolean {
  return ascii(bytes, 0, 1024).includes('%PDF-');
}

/** UTF-16 text has NULs; anything else with NULs in its first 8 KiB is not text. */
function looksUtf16(bytes: Uint8Array): boolean {
  return startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff]) || utf16WithoutBom(bytes) !== undefined;
}

export function sniff(bytes: Uint8Array): Sniffed {
  if (hasPdfHeader(bytes)) return { kind: 'pdf' };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    // Entry names are stored uncompressed; a Word document has word/document.xml.
    const head = ascii(bytes, 0, 64 * 1024);
    const tail = ascii(bytes, Math.max(0, bytes.length - 64 * 1024), bytes.length);
    if (head.includes('word/') || tail.includes('word/document.xml')) return { kind: 'docx' };
    if (head.includes('xl/') || tail.includes('xl/workbook')) return { kind: 'zip', label: 'Excel 表格（.xlsx）' };
    if (head.includes('ppt/') || tail.includes('ppt/presentation')) return { kind: 'zip', label: 'PowerPoint 演示文稿（.pptx）' };
    if (head.includes('OFD.xml') || tail.includes('OFD.xml')) return { kind: 'ofd' };
    return { kind: 'zip', label: 'ZIP 压缩包' };
  }
  if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return { kind: 'ole' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'image', format: 'png' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return { kind: 'image', format: 'tiff' };
  for (const signature of SIGNATURES) {
    if (startsWith(bytes, signature.bytes, signature.offset)) return { kind: 'binary', label: signature.label };
  }
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { kind: 'binary', label: 'WebP 图片' };
  if (ascii(bytes, 4, 8) === 'ftyp') return { kind: 'binary', label: '音视频文件' };
  if (!looksUtf16(bytes) && bytes.subarray(0, 8192).includes(0)) return { kind: 'binary', label: '二进制文件' };
  return { kind: 'text' };
}
