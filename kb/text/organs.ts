/**
 * Names of organs: what ends the name of a government body that issues,
 * signs or receives a document. One list, longest suffix first, with the
 * extension that signing lines and titles need (a 办, a 处, a company).
 */

/** Suffixes of government organs (厅, 局, 委员会 …). */
export const GOVERNMENT_ORGAN_SUFFIXES: readonly string[] = [
  '委员会', '办公厅', '办公室', '统战部', '联合会', '政府', '中心', '厅', '局', '委', '部', '院', '署',
];

/** Every body that signs a document: the government organs, their offices (办, 处), councils, companies, stations. */
export const SIGNING_BODY_SUFFIXES: readonly string[] = [
  ...GOVERNMENT_ORGAN_SUFFIXES,
  '公司', '集团', '银行', '党组', '协会', '办', '会', '处', '所', '队', '站', '馆', '社',
];

/** `a|b|c` of the suffixes, longest first, for use inside a pattern. */
export function alternation(words: readonly string[]): string {
  return [...words].sort((a, b) => b.length - a.length).join('|');
}

/** A line that is nothing but one or more organ names ("东川省医疗保障局", "国家发展改革委 财政部"). */
export const ORGAN_NAMES = new RegExp(`^([\\p{Script=Han}]{2,30}?(${alternation(GOVERNMENT_ORGAN_SUFFIXES)})\\s*)+$`, 'u');

/** Text that ends with the name of a body that signs ("……疫情防控工作领导小组办公室", "国网吉林省电力有限公司"). */
export const ENDS_WITH_SIGNING_BODY = new RegExp(`(${alternation(SIGNING_BODY_SUFFIXES)})$`);

/**
 * What an English organ name's words are in Chinese, for a policy collection
 * that states its department only in English ("# department: Shandong
 * Provincial Big Data Bureau"). Each entry: the English words, the Chinese
 * for a province's organ, and for a city's where it differs (厅 and 局).
 * Each pattern matches the whole English name.
 */
const ENGLISH_ORGAN_WORDS: ReadonlyArray<readonly [RegExp, string, string?]> = [
  [/^Department of Industry and Information Technology$/i, '工业和信息化厅', '工业和信息化局'],
  [/^Ministry of Industry and Information Technology$/i, '工业和信息化部'],
  [/^Economic and Information Technology Commission$/i, '经济和信息化委员会'],
  [/^Development and Reform Commission$/i, '发展和改革委员会'],
  [/^Housing and Urban\s*-\s*Rural Development (Bureau|Department)$/i, '住房和城乡建设厅', '住房和城乡建设局'],
  [/^Coal Mine Safety Supervision Bureau$/i, '煤矿安全监察局'],
  [/^Market Supervision Administration$/i, '市场监督管理局'],
  [/^Administrative Approval Service Bureau$/i, '行政审批服务局'],
  [/^Bureau of Private Economy Development$/i, '民营经济发展局'],
  [/^Investment Promotion Bureau$/i, '投资促进局'],
  [/^Science and Technology (Department|Bureau)$/i, '科学技术厅', '科学技术局'],
  [/^Securities Regulatory Commission$/i, '证券监督管理委员会'],
  [/^Education (Department|Bureau)$/i, '教育厅', '教育局'],
  [/^Finance (Department|Bureau)$/i, '财政厅', '财政局'],
  [/^Ministry of Finance$/i, '财政部'],
  [/^Big Data Bureau$/i, '大数据局'],
  [/^Energy Bureau$/i, '能源局'],
  [/^People's Government$/i, '人民政府'],
];

const ENGLISH_COUNTS: Record<string, string> = {
  two: '两', three: '三', four: '四', five: '五', six: '六', seven: '七', eight: '八', nine: '九', ten: '十',
  eleven: '十一', twelve: '十二', thirteen: '十三', fourteen: '十四', fifteen: '十五', sixteen: '十六', seventeen: '十七', eighteen: '十八', nineteen: '十九', twenty: '二十',
};

/** The provinces' English names (their pinyin) and Chinese names: a place word of an English organ name that is a province. */
const PROVINCES_IN_ENGLISH: Record<string, string> = {
  anhui: '安徽省', beijing: '北京市', chongqing: '重庆市', fujian: '福建省', gansu: '甘肃省', guangdong: '广东省', guangxi: '广西壮族自治区',
  guizhou: '贵州省', hainan: '海南省', hebei: '河北省', heilongjiang: '黑龙江省', henan: '河南省', hubei: '湖北省', hunan: '湖南省',
  'inner mongolia': '内蒙古自治区', jiangsu: '江苏省', jiangxi: '江西省', jilin: '吉林省', liaoning: '辽宁省', ningxia: '宁夏回族自治区',
  qinghai: '青海省', shaanxi: '陕西省', shandong: '山东省', shanghai: '上海市', shanxi: '山西省', sichuan: '四川省', tianjin: '天津市',
  tibet: '西藏自治区', xinjiang: '新疆维吾尔自治区', yunnan: '云南省', zhejiang: '浙江省',
};

/**
 * The Chinese name of an organ named in English. A province is named by its
 * pinyin; a city's Chinese name is the one the document's Chinese text names
 * most (`city`). Undefined when any part of it is not known (a district, a
 * ministry this table lacks): an English name is then better than a guess.
 */
export function chineseOrganName(english: string, place: { city?: string }): string | undefined {
  const name = english.trim().replace(/\s+/g, ' ');
  const including = /^(\w+) Departments including (.+)$/i.exec(name);
  if (including) {
    const count = ENGLISH_COUNTS[including[1]!.toLowerCase()];
    const lead = chineseOrganName(including[2]!, place);
    return count && lead ? `${lead}等${count}部门` : undefined;
  }
  // Joint issuers ("A, B, and C"): split where the next organ starts as the first does (its place) or as a central one;
  // "and" inside a name ("Science and Technology") is followed by neither.
  const lead = /^[A-Z][a-z]+/.exec(name)?.[0] ?? '';
  const parts = name.split(new RegExp(`,?\\s+and\\s+(?=(?:${lead}|Ministry|National|China|General Office)\\b)|,\\s+(?=[A-Z])`));
  if (parts.length > 1) {
    const names = parts.map((part) => chineseOrganName(part, place));
    return names.every(Boolean) ? names.join('、') : undefined;
  }
  const office = /^General Office of (?:the )?(.+)$/i.exec(name);
  if (office) {
    const parent = chineseOrganName(office[1]!, place);
    return parent ? `${parent}办公厅` : undefined;
  }
  const national = /^(?:China|National)\s+(.+)$/i.exec(name);
  if (national) {
    const words = organWords(national[1]!);
    return words ? `${/^China/i.test(name) ? '中国' : '国家'}${words.province}` : undefined;
  }
  if (/^Ministry of /i.test(name)) return organWords(name)?.province;
  // "<Place> [Provincial|Municipal] <organ words>".
  const placed = /^([A-Z][a-z]+(?: [A-Z][a-z]+)??)(?: (Provincial|Municipal|City))? (.+)$/.exec(name);
  if (!placed) return undefined;
  const words = organWords(placed[3]!);
  if (!words) return undefined;
  const province = PROVINCES_IN_ENGLISH[placed[1]!.toLowerCase()];
  if (province && placed[2] !== 'Municipal' && placed[2] !== 'City') return `${province}${words.province}`;
  return place.city && placed[2] !== 'Provincial' ? `${place.city}${words.city}` : undefined;
}

function organWords(english: string): { province: string; city: string } | undefined {
  for (const [pattern, province, city] of ENGLISH_ORGAN_WORDS) {
    if (pattern.test(english.trim())) return { province, city: city ?? province };
  }
  return undefined;
}
