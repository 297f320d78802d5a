/**
 * Structure recovery: clean paragraphs → the anatomy of a Chinese official
 * document. Front matter (文号, title, addressee), the numbered heading tree
 * (第X编/章/节/条, 一、, （一）, 1., （1）, ①), body paragraphs, and the
 * closing block (此致, signing unit, date, 联系人, 抄送, 印发). Every
 * paragraph gets its headingPath and [start, end) offsets into the document
 * text (paragraphs joined by "\n").
 */
import { matchEnumerator, CN_NUMERAL, type EnumeratorMatch as HeadingMatch } from '../kb/text/numbering.ts';
import { ORGAN_NAMES, GOVERNMENT_ORGAN_SUFFIXES, alternation } from '../kb/text/organs.ts';
import { anyMark, CLAUSE_STOPS, COLONS, CONTINUATION_START, endsWithMark, PAUSES, SENTENCE_STOPS } from '../kb/text/sentences.ts';
import { contentKey, stripWhitespace } from '../kb/text/text.ts';
import type { CleanBlock, Paragraph, ParagraphRole } from '../kb/types.ts';

const SENTENCE_PUNCTUATION = anyMark(SENTENCE_STOPS + CLAUSE_STOPS);
const ENDS_LIKE_SENTENCE = endsWithMark(SENTENCE_STOPS + CLAUSE_STOPS + PAUSES + COLONS);

/**
 * How a numbered block takes part in the heading tree:
 * - `heading`: the block is a heading line ("一、关于…的建议").
 * - `lead`: a body paragraph opening with a short numbered run-in heading
 *   ("（一）加强组织领导。各地要……") or an article ("第十二条 …"); the run-in
 *   text becomes a section in headingPath while the paragraph stays body.
 */
interface HeadingKind {
  kind: 'heading' | 'lead';
  match: HeadingMatch;
  text: string;
}

export function classifyHeading(text: string): HeadingKind | undefined {
  const match = matchEnumerator(text);
  if (!match) return undefined;
  const rest = text.slice(match.label.length).trim();
  if (match.family.name === 'tiao') {
    // In regulations 第X条 opens an article whose text follows on the same
    // line; the article number alone is what a citation needs.
    if (!rest || (rest.length <= 15 && !SENTENCE_PUNCTUATION.test(rest) && !/[，,]/.test(rest))) {
      return { kind: 'heading', match, text };
    }
    return { kind: 'lead', match, text: match.label };
  }
  if (!rest) return undefined;
  if (text.length <= match.family.maxLength && !SENTENCE_PUNCTUATION.test(text) && !ENDS_LIKE_SENTENCE.test(text)) {
    return { kind: 'heading', match, text };
  }
  if (match.family.rank >= 4) {
    // A run-in heading is a short phrase closed by 。 or ：, then the text.
    const lead = /^(.{2,30}?)[。．：:](?=.{10,})/u.exec(rest);
    if (lead && !/[；;]/.test(lead[1]!)) return { kind: 'lead', match, text: match.label + lead[1]! };
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Front matter and closing block patterns.

/** 发文字号: organ abbreviation, year in brackets of any kind, serial number, 号. */
export const DOC_NUMBER = /([\p{Script=Han}A-Za-z]{1,16})\s*[〔［\[（(【{]\s*((?:19|20)\d{2})\s*[〕］\]）)】}]\s*(第?\s*\d{1,5})\s*号/u;
/** A date as letters and notices write it: 2024年7月15日, 二〇二四年七月十五日. */
const WRITTEN_DATE = `(?:\\d{4}|[〇○零一二三四五六七八九]{4})年(?:\\d{1,2}|${CN_NUMERAL}{1,3})月(?:\\d{1,2}|${CN_NUMERAL}{1,3})日`;
const DATE_LINE = new RegExp(`^${WRITTEN_DATE}$`);
const SIGNED_DATE = new RegExp(`^(.{2,40}?)\\s*(${WRITTEN_DATE})\\s*(?:\\[.*\\])?$`, 'u');
/** "2022年10月28日在第十三届全国人民代表大会常务委员会第三十七次会议上": a dateline, not a title. */
const DATELINE_OPENING = new RegExp(`^${WRITTEN_DATE}在`);
const CLOSING_LINE = /^(此致|敬礼|此致敬礼|此复|特此(答复|函复|通知|公告|通告|报告|批复|函告|说明|函达|复函)?)[。！!，,]?$/;
const CONTACT_LINE = /^[（(]?(联系人|联系电话|联系方式|联\s*系\s*人|咨询电话|联系(科室|处室|部门|单位)[：:])/;
const CC_LINE = /^抄\s*送[：:]/;
const NOTE_LINE = /(印发|印制)$|^[（(]此件.{2,12}[)）]$|^附件[：:\d一二三四五六七八九十]|^公开(方式|属性|类型)[：:]/;
/** 宫健泽委员： / 各区人民政府，市政府各部门、各直属机构： — short, or a list of organs. */
const ADDRESSEE_LINE = new RegExp(
  `^(?:[^。；;！!？?]{2,30}|各[^。；;！!？?]{2,150}|[^。；;！!？?]{2,150}(?:单位|部门|机构|代表|委员|办|${alternation(GOVERNMENT_ORGAN_SUFFIXES)}))[：:]$`,
);

/** The same title printed twice, with full-width brackets and an em dash once, ASCII the other time. */
function sameTitle(a: string, b: string): boolean {
  return contentKey(a) === contentKey(b);
}

export function isDateLine(text: string): boolean {
  return DATE_LINE.test(stripWhitespace(text));
}

/**
 * A sign-off run into one line, organ then date, as web copies print it:
 * "商务部办公厅2020年2月7日", "铜川市交通运输局2020年1月27日 [网络编辑：…]".
 */
export function splitSignedDate(text: string): { organ: string; date: string } | undefined {
  const m = SIGNED_DATE.exec(text.trim());
  if (!m || !ORGAN_NAMES.test(stripWhitespace(m[1]!))) return undefined;
  return { organ: stripWhitespace(m[1]!), date: m[2]! };
}

function isDocNumberLine(text: string): boolean {
  // Web copies print the 文号 in brackets under the title: （皖政办秘〔2021〕82号）.
  const c = stripWhitespace(text).replace(/^[（(](.+)[）)]$/u, '$1');
  const m = DOC_NUMBER.exec(c);
  return m !== null && m.index === 0 && m[0].length >= c.length - 1;
}

function isTitleLike(block: CleanBlock): boolean {
  const text = block.text;
  return text.length >= 4 && text.length <= 90 && !ENDS_LIKE_SENTENCE.test(text) && !/[。；;]/.test(text)
    && !isDocNumberLine(text) && !isDateLine(text) && matchEnumerator(text) === undefined
    // "（2021年7月27日国务院令第746号公布）", "信息来源：…", "发布日期：…" are captions, not titles.
    && !/^[（(].*[）)]$/.test(text) && !isCaption(text)
    && !/^第\s*\d+\s*号$/.test(text) && !/法宝引证码|^CLI\.\d/.test(text)
    // A title is words: not a registration code (JNCR—2022—0040001), not a
    // fragment whose numbering was lost ("、指导思想"), not a dateline.
    && (text.match(/\p{Script=Han}/gu) ?? []).length >= 4
    && !CONTINUATION_START.test(text)
    && !DATELINE_OPENING.test(text);
}

/**
 * "信息来源：…", "发布日期：…", "题：…" are captions. A news headline may also
 * open with a place and a colon ("新疆：防疫生产两不误"), but says something after it.
 */
function isCaption(text: string): boolean {
  const m = /^([^：:]{1,12})[：:](.*)$/u.exec(text);
  if (!m) return false;
  if (/(来源|日期|时间|作者|编辑|记者|发布|字号|浏览|点击|责任|索引|分类|文号|主题|标题|成文|有效|地址|电话|邮箱|关键词|附件|链接|网址|出处|题|解读|点击查看|下载|扫码)$/.test(m[1]!.trim())) return true;
  return (m[2]!.match(/\p{Script=Han}/gu) ?? []).length < 6;
}

/** Red-header masthead lines ("××人民政府办公厅文件", "××人民政府令") sit above the 文号. */
function isMasthead(text: string): boolean {
  const c = stripWhitespace(text);
  // The extractor may put a joint masthead's "文件" on a line of its own.
  if (c === '文件') return true;
  // 规范性文件登记号 printed above the masthead (JNCR—2022—0040001, GZ0120240012).
  if (/^[A-Z]{2,8}[-—–－]?\d{2,4}([-—–－]?\d{2,10}){1,2}$/.test(c)) return true;
  return /^[\p{Script=Han}]{2,30}(文件|公报|简报|函|令)$/u.test(c) && !/关于/.test(text);
}

export interface Byline {
  docNumber?: string;
  issuer?: string;
  /** The date as written (2025年4月8日), without 印发/发布. */
  date?: string;
}

/**
 * A web page's byline under the title: "青政办发〔2025〕14号 · 青州市人民政府办公室 ·
 * 2025年4月8日印发". Every part separated by · or | must be a 文号, an organ
 * or a date, or the line is not a byline.
 */
export function readByline(text: string): Byline | undefined {
  const parts = stripWhitespace(text).split(/[·•|｜丨]+/).filter(Boolean);
  if (parts.length < 2) return undefined;
  const byline: Byline = {};
  for (const part of parts) {
    const dated = /^(.+?)(印发|发布|公布|成文|施行)?$/.exec(part)![1]!;
    if (!byline.docNumber && isDocNumberLine(part)) byline.docNumber = part;
    else if (!byline.date && (isDateLine(dated) || /^(19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}$/.test(dated))) byline.date = dated;
    else if (!byline.issuer && ORGAN_NAMES.test(part)) byline.issuer = part;
    else return undefined;
  }
  return byline;
}

/**
 * The 发文机关标志: the sender's name printed in red above the 文号 of a
 * letter ("东川省医疗保障局", letter-spaced in the PDF). It names the issuer,
 * not the document; the title comes after the 文号.
 */
function isSenderBanner(drafts: Draft[], at: number): boolean {
  const text = stripWhitespace(drafts[at]!.text);
  if (!ORGAN_NAMES.test(text) && !isMasthead(text)) return false;
  // A joint banner has one organ per line; 签发人 may stand beside the 文号.
  for (let k = at + 1; k < Math.min(drafts.length, at + 4); k++) {
    const next = stripWhitespace(drafts[k]!.text);
    if (isDocNumberLine(next) || /^签发人[：:]/.test(next)) return true;
    if (!ORGAN_NAMES.test(next)) return false;
  }
  return false;
}

/** "…局对" at the start of a reply's title: the issuer, then 对. */
const ISSUER_THEN_DUI = new RegExp(`(?:^|${alternation(GOVERNMENT_ORGAN_SUFFIXES)})对`);

const TITLE_ENDINGS = /(答复|复函|通知|通告|公告|意见|办法|决定|方案|报告|函|批复|规定|细则|规划|计划|纲要|条例|指引|指南|措施|要点|决议|建议|提案|请示|说明|公报)$/;

// ---------------------------------------------------------------------------

export interface StructuredDocument {
  /** Title as the document states it ('' when none was found). */
  title: string;
  paragraphs: Paragraph[];
  /** Paragraph texts joined by "\n". */
  text: string;
}

interface Draft {
  block: CleanBlock;
  role: ParagraphRole;
  text: string;
}

/** Decide the roles of the first blocks: masthead, 文号, title (merging a title that wraps), addressee. */
function assignFrontMatter(drafts: Draft[], titleHint: string | undefined): Draft[] {
  const out: Draft[] = [];
  let i = 0;
  // When the container names the title (HTML <title>, DOCX properties) and a
  // block near the top says exactly that, the block is the title and what
  // precedes it is masthead or page chrome.
  // A title typed as two or three paragraphs (DOCX) matches the hint only
  // when its blocks are put together.
  const hint = titleHint ? stripWhitespace(titleHint) : '';
  let hinted = -1;
  let hintedBlocks = 0;
  for (let at = 0; hint.length >= 4 && at < Math.min(drafts.length, 10) && hinted < 0; at++) {
    let joined = '';
    for (let n = 1; n <= 3 && at + n <= drafts.length; n++) {
      joined += stripWhitespace(drafts[at + n - 1]!.text);
      if (joined === hint) {
        hinted = at;
        hintedBlocks = n;
        break;
      }
      if (!hint.startsWith(joined)) break;
    }
  }
  if (hinted >= 0) {
    for (const draft of drafts.slice(0, hinted)) out.push({ ...draft, role: isDocNumberLine(draft.text) ? 'docNumber' : 'note' });
    const parts = drafts.slice(hinted, hinted + hintedBlocks);
    out.push({ ...parts[0]!, role: 'title', text: parts.map((d) => d.text).join('') });
    i = hinted + hintedBlocks;
    while (i < drafts.length && sameTitle(drafts[i]!.text, titleHint!)) out.push({ ...drafts[i++]!, role: 'note' });
  }
  let titleSeen = hinted >= 0;
  let addresseeSeen = false;
  const limit = Math.min(drafts.length, i + 12);
  while (i < limit) {
    const draft = drafts[i]!;
    const text = draft.text;
    const byline = isDocNumberLine(text) ? undefined : readByline(text);
    if (byline) {
      out.push({ ...draft, role: byline.docNumber ? 'docNumber' : 'note' });
      i++;
      continue;
    }
    if (isDocNumberLine(text)) {
      out.push({ ...draft, role: 'docNumber' });
      i++;
      continue;
    }
    if (!titleSeen && (isMasthead(text) || isSenderBanner(drafts, i)) && i + 1 < drafts.length) {
      out.push({ ...draft, role: 'note' });
      i++;
      continue;
    }
    if (!titleSeen && !addresseeSeen && isTitleLike(draft.block) && !ADDRESSEE_LINE.test(text)) {
      let title = text;
      let j = i + 1;
      // A title wraps onto the next block when the break falls mid-phrase
      // ("…关于印发" + "…的通知"); a complete title stands alone.
      while (j < drafts.length && j < i + 3) {
        const next = drafts[j]!;
        const sameType = next.block.fontSize !== undefined && next.block.fontSize === draft.block.fontSize;
        const continues = /^(的|和|与|及|之)/.test(next.text) || /(关于|的|和|与|及|《|“|对|印发|转发|批转|公布)$/.test(title)
          || (TITLE_ENDINGS.test(next.text) && !TITLE_ENDINGS.test(title) && sameType)
          // "…关于印发…管理办法" + "实施细则的通知": a 关于 title is complete only with its 的通知.
          || (/关于/.test(title) && !/的[\p{Script=Han}]{1,4}$/u.test(title) && TITLE_ENDINGS.test(next.text))
          // "对省政协十二届三次会议" + "第0352号提案的答复", also after the issuer's name.
          || (ISSUER_THEN_DUI.test(title) && !TITLE_ENDINGS.test(title) && TITLE_ENDINGS.test(next.text))
          // The issuer on its own line, then "关于……的通知" or "对……建议的答复".
          || (ORGAN_NAMES.test(title) && /^(关于|对)/.test(next.text));
        if (!isTitleLike(next.block) || !continues || (title + next.text).length > 90) break;
        title += next.text;
        j++;
      }
      out.push({ ...draft, role: 'title', text: title });
      titleSeen = true;
      i = j;
      // Captured pages sometimes repeat the title (page heading + article heading).
      while (i < drafts.length && sameTitle(drafts[i]!.text, title)) out.push({ ...drafts[i++]!, role: 'note' });
      continue;
    }
    if (!addresseeSeen && ADDRESSEE_LINE.test(text) && matchEnumerator(text) === undefined) {
      out.push({ ...draft, role: 'addressee' });
      addresseeSeen = true;
      i++;
      continue;
    }
    break;
  }
  return [...out, ...drafts.slice(i)];
}

/**
 * A notice that issues another text (关于印发/转发…的通知) signs off before
 * that text begins: 特此通知, the issuing organ(s), the date, （此件公开发布）,
 * then the attached text's own title. The end of the file is the end of the
 * attachment, so assignClosing cannot see this sign-off.
 */
function assignCoveringSignOff(drafts: Draft[], titleHint: string | undefined): void {
  const titleAt = drafts.findIndex((d) => d.role === 'title');
  // A web page may state the title only in its <title>.
  const title = titleAt >= 0 ? drafts[titleAt]!.text : titleHint ?? '';
  if (!/(印发|转发|批转)/.test(title)) return;
  const firstBody = drafts.findIndex((d, i) => i > titleAt && d.role === 'body');
  if (firstBody < 0) return;
  for (let i = firstBody + 1; i < Math.min(drafts.length - 1, firstBody + 10); i++) {
    if (drafts[i]!.role !== 'body' || !isDateLine(drafts[i]!.text)) continue;
    // One organ per line above the date (joint issuers); web copies may drop them.
    let k = i - 1;
    while (k > firstBody && ORGAN_NAMES.test(stripWhitespace(drafts[k]!.text))) k--;
    for (let s = k + 1; s < i; s++) drafts[s]!.role = 'signature';
    drafts[i]!.role = 'date';
    for (let c = k; c > firstBody; c--) {
      const text = stripWhitespace(drafts[c]!.text);
      if (CLOSING_LINE.test(text)) drafts[c]!.role = 'closing';
      else if (NOTE_LINE.test(text)) drafts[c]!.role = 'note';
      else break;
    }
    for (let n = i + 1; n < drafts.length; n++) {
      const text = stripWhitespace(drafts[n]!.text);
      if (NOTE_LINE.test(text)) drafts[n]!.role = 'note';
      else if (CONTACT_LINE.test(text)) drafts[n]!.role = 'contact';
      else break;
    }
    return;
  }
}

/** A sign-off line is not a sentence: no stop or comma in it (an enumeration comma may join two signing organs). */
const CLOSING_FURNITURE_STOP = anyMark(`${SENTENCE_STOPS}${CLAUSE_STOPS}，,`);

/**
 * The sign-off at the end of a letter, found by walking back from the last
 * block while blocks look like closing furniture. Only a run that contains a
 * date, a 此致/特此 line, 抄送 or 印发 counts: a short last paragraph alone
 * is body text.
 */
function assignClosing(drafts: Draft[]): void {
  let first = drafts.length;
  let anchored = false;
  for (let i = drafts.length - 1; i >= 0 && drafts.length - i <= 14; i--) {
    const draft = drafts[i]!;
    if (draft.role !== 'body' || draft.block.table) break;
    const text = stripWhitespace(draft.text);
    const anchor = isDateLine(text) || CLOSING_LINE.test(text) || CC_LINE.test(text) || /印发$/.test(text) || splitSignedDate(text) !== undefined;
    const furniture = anchor || CONTACT_LINE.test(text) || NOTE_LINE.test(text)
      || (text.length <= 40 && !CLOSING_FURNITURE_STOP.test(text) && matchEnumerator(text) === undefined);
    if (!furniture) break;
    if (anchor) anchored = true;
    first = i;
  }
  if (!anchored) return;
  for (let i = first; i < drafts.length; i++) {
    const draft = drafts[i]!;
    const text = stripWhitespace(draft.text);
    if (isDateLine(text)) draft.role = 'date';
    else if (CLOSING_LINE.test(text)) draft.role = 'closing';
    else if (CONTACT_LINE.test(text)) draft.role = 'contact';
    else if (CC_LINE.test(text)) draft.role = 'cc';
    else if (NOTE_LINE.test(text)) draft.role = 'note';
    else draft.role = 'signature';
  }
  // A "signature" after the date is not a signing unit.
  const dateAt = drafts.findIndex((d) => d.role === 'date');
  if (dateAt < 0) return;
  for (let i = Math.max(first, dateAt + 1); i < drafts.length; i++) {
    if (drafts[i]!.role === 'signature') drafts[i]!.role = 'note';
  }
}

/** Longer than this, the paragraph before a table is text leading into it, not its caption. */
const CAPTION_MAX_CHARS = 40;

/**
 * A table's caption is the short line right above it ("表1 版面尺寸",
 * "第一类：公文标题"), in every format: DOCX and PDF set it as a paragraph, and
 * the HTML reader gives <caption> as the line before the rows. It joins the
 * rows' headingPath, so each row's citation and index entry carry it; a
 * heading that is already the section is not repeated.
 */
function tableCaption(before: Paragraph | undefined, path: string[]): string | undefined {
  if (!before || before.role.startsWith('table') || before.role === 'note') return undefined;
  const text = before.text;
  if (text.length > CAPTION_MAX_CHARS || ENDS_LIKE_SENTENCE.test(text) || path.includes(text)) return undefined;
  return text;
}

/**
 * `findFrontMatter: false` is for records (a citizen's message and its
 * reply), whose title comes from the record and whose first line is text.
 */
export function structureDocument(
  blocks: CleanBlock[],
  options: { titleHint?: string; findFrontMatter?: boolean } = {},
): StructuredDocument {
  let drafts: Draft[] = blocks.filter((b) => b.text.length > 0).map((block) => ({ block, role: 'body', text: block.text }));
  if (options.findFrontMatter !== false) {
    drafts = assignFrontMatter(drafts, options.titleHint);
    assignCoveringSignOff(drafts, options.titleHint);
  }
  assignClosing(drafts);

  const paragraphs: Paragraph[] = [];
  const stack: Array<{ rank: number; family: string; text: string }> = [];
  let offset = 0;
  let title = '';
  const push = (draft: Draft, headingPath: string[], headingLevel?: number) => {
    const paragraph: Paragraph = {
      index: paragraphs.length,
      text: draft.text,
      role: draft.role,
      headingPath,
      start: offset,
      end: offset + draft.text.length,
    };
    if (headingLevel !== undefined) paragraph.headingLevel = headingLevel;
    if (draft.block.pages) paragraph.pages = [draft.block.pages[0], draft.block.pages[1]];
    if (draft.block.confidence !== undefined) paragraph.confidence = draft.block.confidence;
    paragraphs.push(paragraph);
    offset = paragraph.end + 1;
  };
  const enter = (match: HeadingMatch, text: string): number => {
    const at = stack.findIndex((entry) => entry.family === match.family.name);
    if (at >= 0) {
      stack.length = at;
    } else {
      while (stack.length > 0 && stack[stack.length - 1]!.rank >= match.family.rank) stack.pop();
    }
    stack.push({ rank: match.family.rank, family: match.family.name, text });
    return stack.length;
  };

  const captions = new Map<number, string | undefined>();
  for (const draft of drafts) {
    const table = draft.block.table;
    if (table) {
      // A row is a row wherever front matter or sign-off rules would place it.
      if (!captions.has(table.table)) captions.set(table.table, tableCaption(paragraphs[paragraphs.length - 1], stack.map((e) => e.text)));
      const caption = captions.get(table.table);
      push({ ...draft, role: table.header ? 'table-header' : 'table-row' }, [...stack.map((e) => e.text), ...(caption ? [caption] : [])]);
      continue;
    }
    if (draft.role === 'title' && !title) title = draft.text;
    if (draft.role !== 'body') {
      // Front matter and sign-off belong to no section.
      push(draft, []);
      continue;
    }
    const heading = classifyHeading(draft.text);
    if (heading?.kind === 'heading') {
      const level = enter(heading.match, heading.text);
      push({ ...draft, role: 'heading' }, stack.map((e) => e.text), level);
      continue;
    }
    if (heading?.kind === 'lead') enter(heading.match, heading.text);
    push(draft, stack.map((e) => e.text));
  }
  return { title, paragraphs, text: paragraphs.map((p) => p.text).join('\n') };
}
