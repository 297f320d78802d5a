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
