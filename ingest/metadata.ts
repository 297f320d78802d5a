/**
 * Metadata by rules, no model: what kind of document this is, its 文号,
 * session and proposal number, proposer, the title of the proposal answered,
 * the signing unit, the date and the 抄送 list. Every rule reads the
 * structured paragraphs (role-aware: the 文号 line, the sign-off), falling
 * back to hints a container gave (policy files' "# department:" lines, a
 * file name that carries the 文号).
 */
import path from 'node:path';
import { stripWhitespace } from '../kb/text/text.ts';
import type { DocumentKind, DocumentMetadata, Paragraph } from '../kb/types.ts';
import { documentPlace, documentYear, placeMentions } from '../kb/places.ts';
import { chineseOrganName, ENDS_WITH_SIGNING_BODY, ORGAN_NAMES } from '../kb/text/organs.ts';
import { DOC_NUMBER, isDateLine, readByline, splitSignedDate, type Byline } from './structure.ts';

/** Facts stated outside the document text: front-matter lines of a policy file, the file name. */
export interface MetadataHints {
  /** English title from a "# title" line (kept only as a last resort). */
  englishTitle?: string;
  /** Title stated by a web-capture header ("Title: …"). */
  title?: string;
  department?: string;
  date?: string;
  source?: string;
}

/**
 * Leading lines that describe the file rather than belong to it:
 * - the policy collection's `# <English title>`, `# department: …`,
 *   `# date: …`, `# source: …`;
 * - a web capture's `Title: …`, `URL Source: …`, `Published Time: …`,
 *   `Markdown Content:`;
 * - a legal database's `【法宝引证码】 CLI.…` and `原文链接：…`.
 * Returns the hints and how many leading lines they took.
 */
export function readFrontMatterHints(lines: string[]): { hints: MetadataHints; consumed: number } {
  const hints: MetadataHints = {};
  let consumed = 0;
  let keyed = false;
  for (let i = 0; i < Math.min(lines.length, 12); i++) {
    const line = lines[i]!.trim();
    if (!line) {
      if (consumed === i) consumed = i + 1;
      continue;
    }
    const hash = /^#\s+(?:(title|department|date|source)\s*[:：]\s*)?(.*)$/i.exec(line);
    const capture = /^(Title|URL Source|Published Time|Markdown Content)\s*:\s*(.*)$/.exec(line);
    if (capture) {
      keyed = true;
      const value = capture[2]!.trim();
      // "… - 广州市人民政府门户网站": the site's name is not the document's.
      if (capture[1] === 'Title' && value) hints.title = value.replace(/\s+[-|–—_]\s+[^-|–—_]{2,30}(网站|门户|政府网|网)$/u, '');
      else if (capture[1] === 'URL Source' && value) hints.source = value;
      else if (capture[1] === 'Published Time' && value) hints.date = value;
      consumed = i + 1;
      if (capture[1] === 'Markdown Content') break;
      continue;
    }
    if (/^【法宝引证码】/.test(line) || /^原文链接[：:]/.test(line)) {
      keyed = true;
      const url = /https?:\/\/\S+/.exec(line);
      if (url) hints.source = url[0];
      consumed = i + 1;
      continue;
    }
    if (!hash) break;
    const key = hash[1]?.toLowerCase();
    const value = hash[2]!.trim();
    if (key) keyed = true;
    if (key === 'department') hints.department = value;
    else if (key === 'date') hints.date = value;
    else if (key === 'source') hints.source = value;
    else if (!hints.englishTitle) hints.englishTitle = value;
    consumed = i + 1;
  }
  // Without a keyed line these are ordinary Markdown headings.
  return keyed ? { hints, consumed } : { hints: {}, consumed: 0 };
}

/**
 * The Chinese title a legal database's link carries (pkulaw.com's
 * `…?keyword=山东省人民政府办公厅关于开展 “智慧山东” 试点工作的意见`), for a policy
 * file whose own text starts at its body and whose `# title` line is English.
 * Only a keyword that reads as a document's title counts: some links carry a
 * search word (人工智能). The database's spacing around Chinese is dropped.
 */
export function titleFromSource(source: string | undefined): string | undefined {
  if (!source) return undefined;
  let keyword: string | null;
  try {
    keyword = new URL(source).searchParams.get('keyword');
  } catch {
    return undefined;
  }
  if (!keyword) return undefined;
  const title = keyword
    .replace(/(?<![A-Za-z0-9])\s+|\s+(?![A-Za-z0-9])/g, '')
    .replace(/^《([^《》]+)》?$/u, '$1')
    .replace(/^([^《》]+)》$/u, '$1');
  if (title.length < 8 || !/\p{Script=Han}/u.test(title)) return undefined;
  return POLICY_TITLE.test(title.replace(/[（(][^）)]*[）)]$/, '')) ? title : undefined;
}

/**
 * A reply titled only by the proposal's number ("对省政协十三届二次会议第26号委员提案的答复")
 * is named by its subject, the proposal's own title, keeping the number:
 * "关于加强我省创新创业人才队伍建设的建议（第26号提案）的答复". Titles that name
 * the subject already stay as they are.
 */
export function replyTitle(title: string, kind: DocumentKind, metadata: DocumentMetadata): string {
  const subject = metadata.proposalTitle;
  if ((kind !== 'proposal-reply' && kind !== 'suggestion-reply') || !subject || stripWhitespace(title).includes(subject)) return title;
  const numbered = /第\s*([0-9０-９]+)\s*号\s*(?:委员|代表)?\s*(提案|建议|议案)/u.exec(title);
  if (!numbered) return title;
  const answer = /(答复|复函|回复)(意见)?$/.exec(title)?.[0] ?? '答复';
  return `${subject}（第${numbered[1]}号${numbered[2]}）的${answer}`;
}

const CN_DIGITS: Record<string, number> = { '〇': 0, '○': 0, '零': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9 };

function parseChineseNumber(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^[〇○零一二两三四五六七八九十百]+$/.test(text)) return undefined;
  if (!/[十百]/.test(text)) return Number([...text].map((ch) => CN_DIGITS[ch] ?? 0).join(''));
  let total = 0;
  let current = 0;
  for (const ch of text) {
    if (ch === '百') {
      total += (current || 1) * 100;
      current = 0;
    } else if (ch === '十') {
      total += (current || 1) * 10;
      current = 0;
    } else {
      current = CN_DIGITS[ch] ?? 0;
    }
  }
  return total + current;
}

/** "2024 年 7月 15 日", "二〇二四年七月十五日", "2024-07-15", "2024.7.15" → 2024-07-15. */
export function toIsoDate(text: string): string | undefined {
  const c = stripWhitespace(text);
  const cn = /([\d〇○零一二三四五六七八九]{4})年([\d一二三四五六七八九十]{1,3})月([\d一二三四五六七八九十]{1,3})日/.exec(c);
  const iso = /((?:19|20)\d{2})[-./](\d{1,2})[-./](\d{1,2})/.exec(c);
  const m = cn ?? iso;
  if (!m) return undefined;
  const year = parseChineseNumber(m[1]!);
  const month = parseChineseNumber(m[2]!);
  const day = parseChineseNumber(m[3]!);
  if (year === undefined || month === undefined || day === undefined) return undefined;
  if (year < 1949 || year > 2100 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** 吉人社函[2024]126号, 穗府办规（2024）13号 … → brackets normalised to 〔〕. */
export function findDocNumber(text: string): string | undefined {
  const m = DOC_NUMBER.exec(stripWhitespace(text));
  if (!m) return undefined;
  return `${m[1]}〔${m[2]}〕${m[3]!.replace(/^第/, '')}号`;
}

/** File names often carry the 文号 as 穗府办规2024-13号 or 发改办财金规〔2019〕860号. */
function docNumberFromFileName(file: string): string | undefined {
  const base = path.basename(file).replace(/\.[^.]+$/, '');
  const found = findDocNumber(base);
  if (found) return found;
  const m = /([\p{Script=Han}]{2,12}?)((?:19|20)\d{2})-(\d{1,5})号/u.exec(base);
  return m ? `${m[1]}〔${m[2]}〕${m[3]}号` : undefined;
}

const SESSION = /((?:全国|[省市区县州])?(?:政协|人大|人民代表大会|政治协商会议)[\p{Script=Han}]{0,8}?[一二三四五六七八九十百\d]+届(?:人大|政协)?(?:常委会)?[一二三四五六七八九十\d]+次(?:全体)?会议)/u;
const PROPOSAL_NUMBER = /第\s*(\d{1,5})\s*号\s*(?:委员|代表)?\s*(?:提案|建议|议案|意见)/;
const PROPOSAL_NUMBER_ALT = /(?:提案|建议|议案)\s*第\s*(\d{1,5})\s*号/;

function firstMatch(texts: string[], pattern: RegExp, group = 1): string | undefined {
  for (const text of texts) {
    const m = pattern.exec(text);
    if (m) return m[group];
  }
  return undefined;
}

/**
 * Joint issuers on one line ("广州市民政局广州市财政局广州市市场监督管理局"):
 * organs of one city each start with the city's name.
 */
export function splitJointOrgans(text: string): string[] {
  const compacted = stripWhitespace(text);
  const place = /^[\p{Script=Han}]{2,6}?[省市区县州]/u.exec(compacted)?.[0];
  if (!place) return [text];
  const parts = compacted.split(new RegExp(`(?=${place})`, 'u')).filter(Boolean);
  return parts.length > 1 && parts.every((part) => ORGAN_NAMES.test(part)) ? parts : [text];
}

/**
 * The policy collection's English department in Chinese; a city's organ is
 * placed in the city the document's Chinese title and text name most
 * ("Jinan Municipal People's Government" → 济南市人民政府).
 */
function departmentInChinese(english: string, title: string, paragraphs: Paragraph[]): string | undefined {
  if (/\p{Script=Han}/u.test(english)) return undefined;
  const text = paragraphs.map((p) => p.text).join('\n');
  const counts = new Map<string, number>();
  for (const mention of placeMentions(`${title}\n${text}`)) {
    const city = mention.division.level === 2 ? mention.division.name : mention.division.city;
    if (city) counts.set(city, (counts.get(city) ?? 0) + 1);
  }
  const city = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const chinese = chineseOrganName(english, city ? { city } : {});
  // The text's own form where it names the organ without 省 (山东煤矿安全监察局, a national bureau's branch).
  return chinese?.split('、').map((organ) => {
    const bare = organ.replace(/^(\p{Script=Han}{2,3})省/u, '$1');
    return bare !== organ && !text.includes(organ) && text.includes(bare) ? bare : organ;
  }).join('、');
}

export interface MetadataResult {
  kind: DocumentKind;
  metadata: DocumentMetadata;
}

export function extractMetadata(
  paragraphs: Paragraph[],
  title: string,
  options: { file: string; hints?: MetadataHints; defaultKind?: DocumentKind },
): MetadataResult {
  const hints = options.hints ?? {};
  const metadata: DocumentMetadata = {};
  const byRole = (role: Paragraph['role']) => paragraphs.filter((p) => p.role === role);
  const head = paragraphs.slice(0, 8).map((p) => p.text);
  const firstBody = paragraphs.find((p) => p.role === 'body')?.text ?? '';
  const context = [title, ...head, firstBody];

  // 文号: the 文号 line, or a short line near the top, or the file name.
  // Numbers cited inside body sentences are other documents' and never count.
  const docNumberLine = byRole('docNumber')[0]?.text
    ?? paragraphs.slice(0, 6).find((p) => p.text.length <= 40 && findDocNumber(p.text) && !/[。，]/.test(p.text))?.text;
  const docNumber = (docNumberLine && findDocNumber(docNumberLine)) ?? docNumberFromFileName(options.file);
  if (docNumber) metadata.docNumber = docNumber;

  const session = firstMatch(context, SESSION);
  if (session) metadata.session = stripWhitespace(session);

  const compactContext = context.map(stripWhitespace);
  const proposalNumber = firstMatch(compactContext, PROPOSAL_NUMBER) ?? firstMatch(compactContext, PROPOSAL_NUMBER_ALT);
  if (proposalNumber) metadata.proposalNumber = Number(proposalNumber);

  const addressee = byRole('addressee')[0]?.text.replace(/[：:]$/, '');
  if (addressee) metadata.addressee = addressee;
  // 宫健泽委员 / 张三、李四代表 / 王五同志: a person's name before the form of address.
  const person = addressee && /^([\p{Script=Han}、，,]{2,30}?)(?:等\d*[位名])?(委员|代表|同志|先生|女士|议员)(们)?$/u.exec(addressee);
  if (person && !/(各|单位|部门|政府|委员会)/.test(person[1]!)) metadata.proposer = person[1]!;
  else {
    const named = firstMatch(context, /(?:^|[，。、：:对])([\p{Script=Han}]{2,4}?)(?:等\d*[位名])?(?:委员|代表)(?:在|提出|领衔|所提)/u);
    if (named && !/(各位|人大|政协|您|你|市|省|县|区)/.test(named)) metadata.proposer = named;
  }

  // The title of the proposal answered: the first 《…》 near the top naming a
  // 建议/提案/议案, else one in the title.
  const titled = firstMatch([...head, firstBody, title], /《([^《》]{4,80}?(?:建议|提案|议案|意见))》/);
  if (titled) metadata.proposalTitle = titled;

  const byline: Byline = paragraphs.slice(0, 6)
    .filter((p) => p.role === 'docNumber' || p.role === 'note')
    .map((p) => readByline(p.text))
    .find((b) => b !== undefined) ?? {};

  // "（国家粮食局办公室代章）": the organ that stamped on the issuer's behalf;
  // "商务部办公厅2020年2月7日": organ and date on one line.
  const signed = byRole('signature').map((p) => ({ text: p.text, ...splitSignedDate(p.text) }));
  const signatures = signed.map((line) => (line.organ ?? line.text).replace(/^[（(](.+?)(代章|盖章)?[）)]$/u, '$1'));
  const signedDate = signed.find((line) => line.date !== undefined)?.date;
  // Jointly issued documents sign with one organ per line.
  // A long organ name wraps onto a second signing line ("浙江省新型冠状病毒感染的肺炎"
  // / "疫情防控工作领导小组办公室"): a line that ends no organ belongs to the next.
  const signingLines: string[] = [];
  let pending = '';
  for (const line of signatures) {
    if (ENDS_WITH_SIGNING_BODY.test(line)) {
      signingLines.push(pending + line);
      pending = '';
    } else if (/^[\p{Script=Han}]{2,20}$/u.test(line)) {
      pending += line;
    }
  }
  // A covering notice and the text it issues may both sign with the same organ.
  const organs = [...new Set(signingLines.flatMap(splitJointOrgans))];
  // The 发文机关标志 above the 文号 names the issuing organs whole; a sign-off
  // in text made from a PDF may keep only half a name ("济南市工业和" / "信息化局").
  const docNumberAt = paragraphs.findIndex((p) => p.role === 'docNumber');
  const banner = paragraphs.slice(0, Math.max(0, docNumberAt))
    .filter((p) => p.role === 'note')
    .map((p) => stripWhitespace(p.text).replace(/文件$/, ''))
    .filter((text) => ORGAN_NAMES.test(text))
    .flatMap(splitJointOrgans);
  // "运输局" is half of "济南市城乡交通运输局" when the rest is no organ; "税务总局办公厅"
  // ends the joint banner "发展改革委办公厅税务总局办公厅" whole.
  const signedHalfNames = organs.some((organ) => banner.some((b) => b !== organ
    && ((b.endsWith(organ) && !ORGAN_NAMES.test(b.slice(0, -organ.length))) || (b.startsWith(organ) && !ORGAN_NAMES.test(b.slice(organ.length))))));
  const issuer = banner.length > 0 && (signatures.length === 0 || signedHalfNames)
    ? banner.join('、')
    : organs.length > 0 ? organs.join('、') : signatures[0];
  if (issuer) metadata.issuer = issuer;
  else {
    // Policies name their issuer before 关于 in the title (××人民政府办公厅关于印发…的通知).
    const fromTitle = /^([\p{Script=Han}、]{2,40}?)关于/u.exec(title)?.[1];
    if (fromTitle && ENDS_WITH_SIGNING_BODY.test(fromTitle)) metadata.issuer = splitJointOrgans(fromTitle).join('、');
    else if (byline.issuer) metadata.issuer = byline.issuer;
    else if (printedBy(byRole('note'))) metadata.issuer = printedBy(byRole('note'))!;
    else if (hints.department) metadata.issuer = departmentInChinese(hints.department, title, paragraphs) ?? hints.department;
  }

  // Laws and regulations state their dates in a caption under the title:
  // "（2021年7月27日中华人民共和国国务院令第746号公布）", "2015年5月28日 …会议通过";
  // the last date there is the current text's (the latest amendment).
  const captionDate = paragraphs.slice(0, 5)
    .map((p) => stripWhitespace(p.text))
    .filter((text) => /^[（(]?\d{4}年\d{1,2}月\d{1,2}日.{0,200}(通过|公布|发布|施行|修正|修订|批准)[）)]?$/.test(text))
    .flatMap((text) => text.match(/\d{4}年\d{1,2}月\d{1,2}日/g) ?? [])
    .at(-1);

  const dateLine = byRole('date')[0]?.text
    ?? paragraphs.slice(-8).reverse().find((p) => isDateLine(p.text))?.text;
  const date = (dateLine && toIsoDate(dateLine))
    ?? (signedDate ? toIsoDate(signedDate) : undefined)
    ?? (byline.date ? toIsoDate(byline.date) : undefined)
    ?? (captionDate ? toIsoDate(captionDate) : undefined)
    ?? (hints.date ? toIsoDate(hints.date) : undefined)
    ?? (() => {
      const printed = byRole('note').find((p) => /印发$/.test(p.text));
      return printed ? toIsoDate(printed.text) : undefined;
    })();
  if (date) metadata.date = date;

  const ccLine = byRole('cc')[0]?.text;
  if (ccLine) {
    const cc = ccLine.replace(/^抄\s*送[：:]/, '').replace(/[。.]$/, '').split(/[，,、；;]/).map((s) => s.trim()).filter(Boolean);
    if (cc.length > 0) metadata.cc = cc;
  }

  const contact = byRole('contact').map((p) => p.text).join(' ');
  if (contact) metadata.contact = contact;

  // Where and when the document is about, for scoped questions (山东省济南市…, 2023年…).
  const place = documentPlace({ title, ...(metadata.issuer ? { issuer: metadata.issuer } : {}), text: paragraphs.slice(0, 30).map((p) => p.text).join('\n') });
  if (place) metadata.place = place;
  const year = documentYear({ ...(metadata.date ? { date: metadata.date } : {}), title });
  if (year) metadata.year = year;

  const kind = classifyKind(title, context, metadata, hints, options.defaultKind);
  // Proposer and proposal title describe what a reply answers; in a policy
  // or a report the same patterns ("各位代表", a cited 《…意见》) mean nothing.
  if (kind !== 'proposal-reply' && kind !== 'suggestion-reply') {
    delete metadata.proposer;
    delete metadata.proposalTitle;
  }
  return { kind, metadata };
}

/** "山东省人民政府办公厅2019年3月15日印发": the organ of the 印发 line under the 抄送 block, in the document's own words. */
function printedBy(notes: Paragraph[]): string | undefined {
  for (const note of notes) {
    const organ = /^(.+?)\d{4}年\d{1,2}月\d{1,2}日印发$/u.exec(stripWhitespace(note.text))?.[1];
    if (organ && ORGAN_NAMES.test(organ)) return organ;
  }
  return undefined;
}

/**
 * How a department answers a citizen's message (留言答复): to 网友 or 您,
 * acknowledging the 留言/来信. Measured on the opening 300 characters: 2,712 of
 * the 2,816 replies in replies/messages-and-replies.jsonl say one of these,
 * and 49 of the 2,081 service passages (which are themselves answers to 来信).
 */
const CITIZEN_REPLY = /(网友|网民|留言|来信|来电|您好|你好|您反映|您所反映|你反映|您咨询|您的诉求|问政|收悉|UU\d{4,}|感谢您|谢谢您)/;
const CITIZEN_REPLY_OPENING = 300;
/** A web page is a 留言答复 only when its title also says it answers someone. */
const MESSAGE_REPLY_TITLE = /(回复|答复|留言|来信|网友|信箱|问政)/;

export function readsAsCitizenReply(text: string): boolean {
  return CITIZEN_REPLY.test(text.slice(0, CITIZEN_REPLY_OPENING));
}

/**
 * Records of one JSONL collection are one genre: a collection is 留言答复 when
 * most of its records read as a reply to a citizen, so the few terse ones
 * ("经查，…") are classified with their siblings (3.7% of the replies file
 * would be missed one by one; 2.4% of the service passages would be taken).
 */
const MESSAGE_REPLY_SHARE = 0.5;
const COLLECTION_SAMPLE = 400;
export function recordCollectionKind(texts: readonly string[]): DocumentKind {
  const sample = texts.slice(0, COLLECTION_SAMPLE);
  if (sample.length === 0) return 'other';
  const replies = sample.filter(readsAsCitizenReply).length;
  return replies / sample.length >= MESSAGE_REPLY_SHARE ? 'message-reply' : 'other';
}

const POLICY_TITLE = /(通知|通告|公告|意见|办法|决定|方案|规定|细则|规划|计划|纲要|条例|指引|指南|措施|要点|决议|规则|标准|清单|目录|政策|实施|解读|问答|公报|报告)$/;

function classifyKind(
  title: string,
  context: string[],
  metadata: DocumentMetadata,
  hints: MetadataHints,
  defaultKind: DocumentKind | undefined,
): DocumentKind {
  // A record (a citizen's message and its reply) is a reply to a proposal
  // only if its own title says so; its text quotes 人大代表 and 建议 freely.
  const top = stripWhitespace(defaultKind ? title : [title, ...context.slice(0, 4)].join('\n'));
  const isReply = /(答复|复函|办理情况|答覆)/.test(top) || (metadata.proposalTitle !== undefined && /答复如下/.test(top));
  if (isReply) {
    if (/提案/.test(top) || /政协/.test(metadata.session ?? '') || /委员[：:]?/.test(metadata.addressee ?? '')) return 'proposal-reply';
    // 建议 alone is every citizen's word; a 建议 answered as such comes from a deputy (人大代表).
    if (/人大|代表建议|代表提出|议案/.test(top) || /第\d+号(代表)?建议/.test(top) || /人大/.test(metadata.session ?? '') || /代表/.test(metadata.addressee ?? '')) return 'suggestion-reply';
  }
  if (defaultKind) return defaultKind;
  if (MESSAGE_REPLY_TITLE.test(title) && readsAsCitizenReply(context.slice(1).join('\n'))) return 'message-reply';
  // The policy collection's front matter names a department; a web capture's does not make it a policy.
  if (hints.department) return 'policy';
  if (POLICY_TITLE.test(title.replace(/[（(][^）)]*[）)]$/, '')) || metadata.docNumber) return 'policy';
  return 'other';
}
