/**
 * The courtesy formulas of a reply (感谢您对…的关心和支持, …收悉，现答复如下,
 * 此致, 祝您工作顺利): every reply says them, so they match every proposal and
 * say nothing about it. The precedent finder and the draft quote around them.
 *
 * Formulas are matched per clause (a sentence cut at ，：；), because a reply
 * often opens one sentence with them and continues with substance:
 * "您好，来信收悉，现答复如下：经调查，该路段……".
 */
import { splitSentences, type TextSpan } from './sentences.ts';

/** Everything up to "…收悉" or "…答复如下" is the letter acknowledging itself, however long. */
const ACKNOWLEDGEMENT = /收悉|(答复|回复|函复|反馈|说明)如下/;

const COURTESY_CLAUSE: readonly RegExp[] = [
  /(感谢|谢谢|感激).{0,40}(关心|关注|支持|理解|信任|监督|建议|问政|厚爱|参与|意见)/,
  /(答复|回复|函复|反馈|说明)(您|你)/,
  /^(首先|最后|再次|另外|同时)$/,
  /^(经)?(认真|仔细)?(研究|办理|研究办理|调查核实|调查了解)$/,
  /^\d{4}年\d{1,2}月\d{1,2}日$/,
  /^(此致|敬礼|特此(答复|函复|回复|说明|函告))/,
  /^祝.{0,16}(健康|顺利|顺意|愉快|如意|安康)/,
  /^(身体健康|工作顺利|工作顺意|万事如意|阖家幸福|生活愉快)/,
  /(欢迎|希望|恳请|请).{0,24}(继续|一如既往).{0,16}(关心|关注|支持|监督)/,
  /^(尊敬的)?.{0,16}(委员|代表|网友|同志|先生|女士|市民)?(您好|你好)[!！]?$/,
  /^(尊敬的)?.{0,16}(委员|代表|网友|同志|先生|女士)$/,
  /^首先$/,
  /^[“"]?UU\d+[”"]?$/,
  /(联系人|联系电话)/,
];
/** A clause longer than this carries substance even when it thanks someone. */
const COURTESY_MAX_CHARS = 60;
const CLAUSE_BOUNDARY = /[，,：:；;]/g;

export function isCourtesyClause(clause: string): boolean {
  const text = clause.trim().replace(/^[“"「]|[”"」]$/g, '');
  if (!text) return true;
  return text.length <= COURTESY_MAX_CHARS && COURTESY_CLAUSE.some((pattern) => pattern.test(text));
}

/** Clauses of a sentence with their offsets (the boundary mark stays with the clause before it). */
function clausesOf(sentence: TextSpan): TextSpan[] {
  const clauses: TextSpan[] = [];
  let from = 0;
  CLAUSE_BOUNDARY.lastIndex = 0;
  for (let m = CLAUSE_BOUNDARY.exec(sentence.text); m; m = CLAUSE_BOUNDARY.exec(sentence.text)) {
    const end = m.index + m[0].length;
    clauses.push({ text: sentence.text.slice(from, end), start: sentence.start + from, end: sentence.start + end });
    from = end;
  }
  if (from < sentence.text.length) {
    clauses.push({ text: sentence.text.slice(from), start: sentence.start + from, end: sentence.end });
  }
  return clauses;
}

const TRIM = /[，,：:；;\s]/;

/**
 * The sentences of `text` (starting at offset `base` of its document) that say
 * something: courtesy clauses at either end of a sentence are cut off, and a
 * sentence of nothing but courtesy is dropped. Offsets stay exact, so every
 * span is a verbatim quote of the document.
 */
export function substantiveSentences(text: string, base = 0): TextSpan[] {
  const out: TextSpan[] = [];
  for (const sentence of splitSentences(text, base)) {
    const clauses = clausesOf(sentence);
    let first = 0;
    for (let i = clauses.length - 1; i >= 0; i--) {
      if (ACKNOWLEDGEMENT.test(clauses[i]!.text)) {
        first = i + 1;
        break;
      }
    }
    let last = clauses.length - 1;
    while (first <= last && isCourtesyClause(stripMark(clauses[first]!.text))) first++;
    while (last >= first && isCourtesyClause(stripMark(clauses[last]!.text))) last--;
    if (first > last) continue;
    let start = clauses[first]!.start;
    let end = clauses[last]!.end;
    // A quote neither begins with the comma that ended the courtesy nor ends on a dangling comma.
    while (start < end && TRIM.test(text[start - base]!)) start++;
    while (end > start && /[，,：:；;\s]/.test(text[end - 1 - base]!) ) end--;
    if (end > start) out.push({ text: text.slice(start - base, end - base), start, end });
  }
  return out;
}

function stripMark(clause: string): string {
  return clause.replace(/[，,：:；;。！？!?\s]+$/, '');
}

/** True when nothing in `text` is more than courtesy. */
export function isCourtesy(text: string): boolean {
  return substantiveSentences(text).length === 0;
}

/*
 * A reply that answers nothing: once its courtesy is cut off, every sentence forwards the message
 * (已转县教育局核查、办复), points elsewhere (请向…咨询, 建议您联系…), disclaims it (不属于我局职责范围),
 * or promises a later reply (处理情况会及时回复您) — or there is no sentence at all (留言已收悉).
 * Of the 2,816 replies in ../shared/corpus/replies, 302 are such (most under 60 characters of
 * substance); a sentence longer than REFERRAL_SENTENCE_MAX_CHARS is taken to say more.
 */
const REFERRAL = /(已|并|现|将)(经)?(将.{0,24})?(转|转交|转至|转给|转办|交由|交办|移交|发函交办|反馈至|汇报给)/;
const POINTER = /^(您|你)?(好|可以|也可以|还可以)?(请|建议|如有疑问|详询|欢迎)/;
const POINTER_VERB = /咨询|联系|致电|拨打|反映|提供|询问/;
const DISCLAIMER = /不属于.{0,20}(职责|管辖|职权|范围)/;
const LATER_REPLY = /(处理|办理)(情况|结果)(会|将)|如有.{0,10}(情况|结果)将|已(经)?(进行过)?(答复|回复)|链接|正在(交办|调查处理|协调处理|报送审批)/;
const REFERRAL_SENTENCE_MAX_CHARS = 80;
/** Fewer Han or Latin letters than this is a signature, a date or a phone number, not an answer. */
const MIN_ANSWER_LETTERS = 10;

function saysNothing(sentence: string): boolean {
  if (sentence.replace(/[^\p{Script=Han}A-Za-z]/gu, '').length < MIN_ANSWER_LETTERS) return true;
  if (sentence.length > REFERRAL_SENTENCE_MAX_CHARS) return false;
  return REFERRAL.test(sentence) || (POINTER.test(sentence) && POINTER_VERB.test(sentence)) || DISCLAIMER.test(sentence) || LATER_REPLY.test(sentence);
}

/** True when the reply only forwards, refers, disclaims or acknowledges: no precedent for anything. */
export function answersNothing(reply: string): boolean {
  return substantiveSentences(reply).every((sentence) => saysNothing(sentence.text));
}
