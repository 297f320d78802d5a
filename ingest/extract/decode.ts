/**
 * Bytes → text for files that do not state their encoding. Chinese text
 * files are UTF-8 (with or without a BOM), UTF-16 from Windows Notepad, or
 * GBK/GB2312 from older systems; GB18030 is the superset of the last two.
 */

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
  /** U+FFFD replacement characters the decoder had to insert (bytes that are valid in no candidate encoding). */
  replaced: number;
}

/** UTF-16 without a BOM, recognised by NULs on one side of most byte pairs (ASCII-heavy text). */
export function utf16WithoutBom(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const n = Math.min(bytes.length, 4096) & ~1;
  if (n < 4) return undefined;
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) zeroEven++;
    if (bytes[i + 1] === 0) zeroOdd++;
  }
  const pairs = n / 2;
  // CJK code points like U+4E00 put a NUL on the other side now and then; ASCII puts one on "its" side every time.
  if (zeroOdd > pairs * 0.3 && zeroEven < zeroOdd * 0.1) return 'utf-16le';
  if (zeroEven > pairs * 0.3 && zeroOdd < zeroEven * 0.1) return 'utf-16be';
  return undefined;
}

export function countReplacements(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\ufffd'); i !== -1; i = text.indexOf('\ufffd', i + 1)) count++;
  return count;
}

function decodeAs(bytes: Uint8Array, encoding: TextEncodingName): DecodedText {
  // ignoreBOM: false (the default) strips a BOM matching the encoding.
  const text = new TextDecoder(encoding).decode(bytes);
  return { text, encoding, replaced: countReplacements(text) };
}

/**
 * Detect and decode: a BOM decides; otherwise UTF-16 by its NUL pattern, then
 * strict UTF-8 (random GBK bytes are almost never valid UTF-8), else whichever
 * of UTF-8 and GB18030 needs fewer replacement characters.
 */
export function decodeText(bytes: Uint8Array): DecodedText {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return decodeAs(bytes, 'utf-8');
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeAs(bytes, 'utf-16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeAs(bytes, 'utf-16be');
  const utf16 = utf16WithoutBom(bytes);
  if (utf16) return decodeAs(bytes, utf16);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8', replaced: 0 };
  } catch {
    // A UTF-8 file cut mid-character or with a few stray bytes is still UTF-8:
    // read as GB18030 every character would turn to mojibake. GBK text read as
    // UTF-8 breaks on nearly every character, and yields few valid multi-byte
    // characters between the breaks.
    const utf8 = decodeAs(bytes, 'utf-8');
    if (onlyTheTailIsCut(bytes) || utf8.replaced * 10 <= nonAsciiCharacters(utf8.text)) return utf8;
    const gb = decodeAs(bytes, 'gb18030');
    return utf8.replaced < gb.replaced ? utf8 : gb;
  }
}

/** Valid UTF-8 up to an incomplete last character: a download or copy cut short (a one-character file too). */
function onlyTheTailIsCut(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

function nonAsciiCharacters(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f && code !== 0xfffd) count++;
  }
  return count;
}

/** The warning a document carries when its text needed replacement characters. */
export function replacementWarning(decoded: { replaced: number; encoding: string }): string[] {
  return decoded.replaced > 0 ? [`有 ${decoded.replaced} 个字符无法按 ${decoded.encoding.toUpperCase()} 解码，已替换为 �`] : [];
}

/** Labels HTML pages use in <meta charset> for the GB family; all decode as GB18030. */
export function isGbLabel(label: string): boolean {
  return /^(gb2312|gbk|gb18030|x-gbk|cp936|csgb2312|gb_2312-80|chinese|iso-ir-58|windows-936|euc-cn)$/i.test(label.trim());
}
