/**
 * kb/text/: the one home of the text rules every stage shares. Each case is a
 * line as government documents print it.
 */
import { describe, expect, it } from 'vitest';
import { fingerprint, nearDuplicate } from '../../kb/text/near-duplicates.ts';
import { continuesNumbering, ENUMERATES, LIST_ITEM, matchEnumerator } from '../../kb/text/numbering.ts';
import { ENDS_WITH_SIGNING_BODY, ORGAN_NAMES } from '../../kb/text/organs.ts';
import {
  CLAUSE_STOPS, CONTINUATION_START, endsWithMark, PASSAGE_UNIT_END, SENTENCE_STOPS, splitSentences, termsOf,
} from '../../kb/text/sentences.ts';
import { comparable, contentKey, countHan, isWide } from '../../kb/text/text.ts';

function passageUnits(text: string): string[] {
  const out: string[] = [];
  let from = 0;
  PASSAGE_UNIT_END.lastIndex = 0;
  for (let m = PASSAGE_UNIT_END.exec(text); m; m = PASSAGE_UNIT_END.exec(text)) {
    out.push(text.slice(from, m.index + m[0].length));
    from = m.index + m[0].length;
  }
  if (from < text.length) out.push(text.slice(from));
  return out;
}

describe('sentence ends', () => {
  const chained = '一是加强组织领导；二是完善工作机制；三是强化督促检查。下一步，我们将继续推进。';

  it('ends an answer sentence at 。！？ with its closing quote, never at ；', () => {
    expect(splitSentences(chained).map((s) => s.text)).toEqual(['一是加强组织领导；二是完善工作机制；三是强化督促检查。', '下一步，我们将继续推进。']);
    expect(splitSentences('他说：“已经办结。”随后离开。').map((s) => s.text)).toEqual(['他说：“已经办结。”', '随后离开。']);
  });

  it('cuts an answer sentence into ；-clauses only past 160 characters', () => {
    const long = `${'加强养老服务设施建设，'.repeat(8)}完善政策；${'推进医养结合，'.repeat(12)}落实责任。`;
    expect(long.length).toBeGreaterThan(160);
    const spans = splitSentences(long);
    expect(spans).toHaveLength(2);
    expect(spans[0]!.text.endsWith('；')).toBe(true);
    // Offsets always point into the text cut.
    for (const s of spans) expect(long.slice(s.start, s.end)).toBe(s.text);
  });

  it('ends a passage unit at ； too, and at an ellipsis', () => {
    expect(passageUnits(chained)).toEqual(['一是加强组织领导；', '二是完善工作机制；', '三是强化督促检查。', '下一步，我们将继续推进。']);
    expect(passageUnits('等等……然后继续')).toEqual(['等等……', '然后继续']);
  });

  it('composes line-end predicates from one vocabulary', () => {
    const closed = endsWithMark(SENTENCE_STOPS + CLAUSE_STOPS);
    expect(closed.test('已完成。”')).toBe(true);
    expect(closed.test('措施如下：')).toBe(false);
    expect(CONTINUATION_START.test('，并报市政府备案')).toBe(true);
    expect(CONTINUATION_START.test('）的规定')).toBe(true);
    expect(CONTINUATION_START.test('根据规定')).toBe(false);
  });
});

describe('numbering', () => {
  it('names the family a heading opens with', () => {
    expect(matchEnumerator('一、总体要求')?.family.name).toBe('cn');
    expect(matchEnumerator('（二）完善机制')?.family.name).toBe('paren-cn');
    expect(matchEnumerator('第十二条 本办法自发布之日起施行')?.label).toBe('第十二条');
    expect(matchEnumerator('第三章 附则')?.family.name).toBe('zhang');
    expect(matchEnumerator('3.加强监管')?.family.name).toBe('arabic');
    expect(matchEnumerator('1.5亿元')).toBeUndefined();
    expect(matchEnumerator('②做好衔接')?.family.name).toBe('circled');
    expect(matchEnumerator('一是深入落实')).toBeUndefined();
  });

  it('finds list items, running ordinals included', () => {
    for (const item of ['（一）加强领导', '1.建立制度', '①做好衔接', '一是深入落实', '第一，要加强']) expect(LIST_ITEM.test(item)).toBe(true);
    expect(LIST_ITEM.test('加强领导')).toBe(false);
    expect(ENUMERATES.test('主要有三项：一是补贴，二是减免')).toBe(true);
  });

  it('tells the next item of a numbered list', () => {
    expect(continuesNumbering('3.申请人声明', '4.受理通知书')).toBe(true);
    expect(continuesNumbering('7 自动紧急避险', '8 车辆定位')).toBe(true);
    expect(continuesNumbering('（二）其他', '（三）附则')).toBe(true);
    expect(continuesNumbering('3.申请人声明', '5.受理通知书')).toBe(false);
    expect(continuesNumbering('（2）其他', '3.附则')).toBe(false);
  });
});

describe('organ names', () => {
  it('takes lines of organs and nothing else', () => {
    expect(ORGAN_NAMES.test('东川省医疗保障局')).toBe(true);
    expect(ORGAN_NAMES.test('国家发展改革委 财政部')).toBe(true);
    expect(ORGAN_NAMES.test('中共吉林省委统战部')).toBe(true);
    expect(ORGAN_NAMES.test('关于加强管理的通知')).toBe(false);
  });

  it('knows every body that signs', () => {
    expect(ENDS_WITH_SIGNING_BODY.test('国网吉林省电力有限公司')).toBe(true);
    expect(ENDS_WITH_SIGNING_BODY.test('浙江省新型冠状病毒感染的肺炎疫情防控工作领导小组办公室')).toBe(true);
    expect(ENDS_WITH_SIGNING_BODY.test('2024年7月15日')).toBe(false);
  });
});

describe('characters and normal forms', () => {
  it('counts Han characters of every block', () => {
    expect(countHan('二〇二四年𠀀')).toBe(6);
    expect(isWide('人')).toBe(true);
    expect(isWide('，')).toBe(true);
    expect(isWide('a')).toBe(false);
  });

  it('compares texts without width, case, space or punctuation', () => {
    expect(comparable('ＣＯＶＩＤ　１９')).toBe('covid19');
    expect(contentKey('关于《办法》的 通知——解读')).toBe(contentKey('关于办法的通知-解读'));
    expect(contentKey('第1条')).not.toBe(contentKey('第2条'));
  });

  it('cuts terms by code point', () => {
    expect([...termsOf('𠀀人')]).toEqual(['𠀀人']);
  });
});

describe('near duplicates', () => {
  const sentence = '截至2023年底，全省高校毕业生留吉率达到百分之六十，创下了历史新高。';

  it('holds one changed character, spacing and punctuation for the same text', () => {
    expect(nearDuplicate(fingerprint(sentence), fingerprint(sentence.replace('创下', '创造')))).toBe(true);
    expect(nearDuplicate(fingerprint(sentence), fingerprint(sentence.replace(/，/g, ' ')))).toBe(true);
  });

  it('keeps apart texts that only share a boilerplate half', () => {
    const other = '截至2023年底，全省农村公路养护里程达到十万公里，养护资金全部落实到位。';
    expect(nearDuplicate(fingerprint(sentence), fingerprint(other))).toBe(false);
  });
});
