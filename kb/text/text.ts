/**
 * Character classes and normalisers shared by ingest and the query side, and
 * the question words both query analyses drop. Kept apart from
 * kb/index/lexical/tokenizer.ts so that parsing a file never loads jieba.
 */

/**
 * Case and width folding that keeps every UTF-16 offset: full-width ASCII
 * (common in government text: ２０２０、ＣＯＶＩＤ) becomes half-width, the
 * ideographic space a space, Latin letters lower case.
 */
export function foldText(text: string): string {
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0xff01 && c <= 0xff5e) || c === 0x3000 || (c >= 0x41 && c <= 0x5a)) break;
  }
  if (i === text.length) return text;
  let out = text.slice(0, i);
  for (; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xff01 && c <= 0xff5e) c -= 0xfee0;
    else if (c === 0x3000) c = 0x20;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    out += String.fromCharCode(c);
  }
  return out;
}

/**
 * All whitespace removed (U+3000 is whitespace to `\s`): the comparison form
 * of phrases, answers and the lines whose letter-spacing an extractor kept
 * ("联 系 电 话", "第 3 页").
 */
export function stripWhitespace(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Full-width folded, lower-cased, whitespace removed: how query terms and sentences are compared. */
export function comparable(text: string): string {
  return stripWhitespace(foldText(text));
}

/**
 * What two texts must share to be the same text: whitespace, punctuation and
 * symbols do not make two passages (or two printings of a title) different,
 * and neither does full-width against half-width.
 */
export function contentKey(text: string): string {
  return foldText(text).replace(/[\s\p{P}\p{S}]+/gu, '');
}

/**
 * Chinese characters, as a regular-expression class body for `u` patterns:
 * Unicode's Han script (all extensions, the compatibility block, 〇). Literal
 * `\p{Script=Han}` in a pattern is this same class.
 */
export const HAN_CLASS = '\\p{Script=Han}';

const HAN_GLOBAL = new RegExp(`[${HAN_CLASS}]`, 'gu');

/** How many Chinese characters `text` holds. */
export function countHan(text: string): number {
  return text.match(HAN_GLOBAL)?.length ?? 0;
}

/**
 * "Wide" characters: Han ideographs, CJK and full-width punctuation, and the
 * curly quotes, dashes and ellipsis Chinese text uses. A space next to one of
 * these carries no meaning in Chinese typesetting, and a monospace text file
 * gives one two columns.
 */
const WIDE = new RegExp(`[${HAN_CLASS}\\u3000-\\u303f\\uff00-\\uffef\\u2018\\u2019\\u201c\\u201d\\u2014\\u2026\\u00b7\\u2022\\u25cf]`, 'u');

export function isWide(ch: string | undefined): boolean {
  return ch !== undefined && WIDE.test(ch);
}

/**
 * Interrogatives and politeness that say what the asker wants, not what a
 * document says, longest first so 是什么 goes before 什么.
 */
export const QUESTION_WORDS: readonly string[] = [
  '有哪些', '是哪些', '是什么', '是多少', '有多少', '为什么', '怎么样', '什么样', '哪几个', '哪一些', '有什么',
  '多少', '什么', '哪些', '哪个', '哪家', '哪里', '哪儿', '哪位', '哪年', '哪天', '如何', '怎么', '怎样',
  '是否', '能否', '可否', '有无', '有何', '为何', '何时', '何地', '何种', '几个', '几项', '几种', '请问',
  '咨询', '您好', '你好', '谁', '吗', '呢', '啥', '哪',
];
