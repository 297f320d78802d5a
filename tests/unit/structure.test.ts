import { describe, expect, it } from 'vitest';
import { classifyHeading, structureDocument } from '../../ingest/structure.ts';

const blocks = (texts: string[]) => texts.map((text) => ({ text }));

describe('structure', () => {
  it('builds the heading tree of a regulation: 章 above 条, articles whose text follows on the same line', () => {
    const doc = structureDocument(blocks([
      '广州市公共租赁住房保障办法',
      '第一章 总则',
      '第一条 为完善住房保障体系，制定本办法。',
      '第二条 本办法适用于本市行政区域内公共租赁住房的保障工作。',
      '第二章 保障对象',
      '第三条 申请公共租赁住房应当符合下列条件：',
      '（一）具有本市户籍；',
      '（二）家庭人均收入符合规定标准。',
    ]));
    const roles = doc.paragraphs.map((p) => p.role);
    expect(roles).toEqual(['title', 'heading', 'body', 'body', 'heading', 'body', 'body', 'body']);
    expect(doc.title).toBe('广州市公共租赁住房保障办法');
    expect(doc.paragraphs[3]!.headingPath).toEqual(['第一章 总则', '第二条']);
    expect(doc.paragraphs[6]!.headingPath).toEqual(['第二章 保障对象', '第三条']);
    expect(doc.paragraphs[4]!.headingLevel).toBe(1);
    for (const p of doc.paragraphs) expect(doc.text.slice(p.start, p.end)).toBe(p.text);
  });

  it('nests 一、 → （一） → 1. and returns to the top on the next 一、-level heading', () => {
    const doc = structureDocument(blocks([
      '一、总体要求',
      '（一）指导思想',
      '1.坚持人民至上',
      '具体内容。',
      '（二）基本原则',
      '二、主要任务',
      '正文。',
    ]));
    expect(doc.paragraphs.map((p) => p.headingLevel ?? 0)).toEqual([1, 2, 3, 0, 2, 1, 0]);
    expect(doc.paragraphs[3]!.headingPath).toEqual(['一、总体要求', '（一）指导思想', '1.坚持人民至上']);
    expect(doc.paragraphs[6]!.headingPath).toEqual(['二、主要任务']);
  });

  it('takes a numbered run-in heading as a section but keeps the paragraph as body', () => {
    expect(classifyHeading('（一）加强组织领导。各地要建立健全工作机制，明确责任分工，确保各项措施落地见效。'))
      .toMatchObject({ kind: 'lead', text: '（一）加强组织领导' });
    expect(classifyHeading('1. 建立员工健康卡制度，加强员工健康监测，切实掌握企业员工流动情况。')).toBeUndefined();
    expect(classifyHeading('一是深入落实首都城市战略定位')).toBeUndefined();
    expect(classifyHeading('一、2023年工作回顾')).toMatchObject({ kind: 'heading' });
  });

  it('merges a title that wraps onto a second paragraph and finds 文号, addressee and the sign-off', () => {
    const doc = structureDocument(blocks([
      '穗府办规〔2024〕13号',
      '广州市人民政府办公厅关于印发',
      '广州市公共租赁住房保障办法的通知',
      '各区人民政府，市政府各部门、各直属机构：',
      '现将《广州市公共租赁住房保障办法》印发给你们，请认真贯彻执行。',
      '特此通知。',
      '广州市人民政府办公厅',
      '二〇二四年十二月三十日',
      '（此件公开发布）',
    ]));
    expect(doc.paragraphs.map((p) => p.role)).toEqual(['docNumber', 'title', 'addressee', 'body', 'closing', 'signature', 'date', 'note']);
    expect(doc.title).toBe('广州市人民政府办公厅关于印发广州市公共租赁住房保障办法的通知');
  });
});

describe('structure: letter front matter without a container title', () => {
  const titleOf = (texts: string[]) => structureDocument(blocks(texts));

  it('does not take the sender banner above the 文号 for the title', () => {
    const doc = titleOf(['东川省医疗保障局', '东医保函〔2025〕27号', '对省政协十二届三次会议', '第0352号提案的答复', '陈慧敏委员：', '您提出的建议收悉。']);
    expect(doc.title).toBe('对省政协十二届三次会议第0352号提案的答复');
    expect(doc.paragraphs.map((p) => p.role)).toEqual(['note', 'docNumber', 'title', 'addressee', 'body']);
  });

  it('merges a wrapped 对…答复 title that starts with the issuer', () => {
    const doc = titleOf(['青州市住房和城乡建设局', '青建函〔2025〕67号', '青州市住房和城乡建设局对市人大十七届', '四次会议第0112号建议的答复', '韩立群代表：', '您提出的建议收悉。']);
    expect(doc.title).toBe('青州市住房和城乡建设局对市人大十七届四次会议第0112号建议的答复');
    expect(doc.paragraphs.map((p) => p.role)).toEqual(['note', 'docNumber', 'title', 'addressee', 'body']);
  });
});

describe('structure: lines that are not titles', () => {
  it('skips a registration code, a dateline and a fragment whose numbering was lost', () => {
    expect(structureDocument(blocks(['ABCR—2022—0010001', '青州市公安局', '青工信字〔2022〕1号', '文件', '关于印发《办法》的通知', '各相关单位：', '现印发给你们。'])).title)
      .toBe('关于印发《办法》的通知');
    expect(structureDocument(blocks(['2021年3月5日在青州市第十七届人民代表大会第一次会议上', '全国人民代表大会常务委员会：', '现报告如下。'])).title).toBe('');
    expect(structureDocument(blocks(['、指导思想', '以习近平新时代中国特色社会主义思想为指导。'])).title).toBe('');
    // A place and a colon may open a headline; a label and a colon open a caption.
    expect(structureDocument(blocks(['东川：春耕生产两不误', '正文。'])).title).toBe('东川：春耕生产两不误');
    expect(structureDocument(blocks(['信息来源：某某市人民政府办公室', '正文。'])).title).toBe('');
    expect(structureDocument(blocks(['点击查看政策解读：【音频解读】关于《某某办法》的解读', '正文。'])).title).toBe('');
    // A headline may start with a date.
    expect(structureDocument(blocks(['2020年3月1日起本市公交地铁恢复正常运营', '正文。'])).title).toBe('2020年3月1日起本市公交地铁恢复正常运营');
  });
});

describe('structure: web copies of notices', () => {
  it('takes a bracketed 文号 under the title as the 文号, a repeated title as a repeat, and a bare date as the notice\'s date', () => {
    const doc = structureDocument(blocks([
      '某省人民政府办公厅关于印发某某行动计划(2021—2023年)的通知',
      '某省人民政府办公厅关于印发某某行动计划（2021-2023年）的通知',
      '（某政办秘〔2021〕82号）',
      '各市人民政府，省政府各部门：',
      '《某某行动计划（2021-2023年）》已经省政府同意，现印发给你们，请认真贯彻执行。',
      '2021年9月2日',
      '某某行动计划（2021-2023年）',
      '一、总体要求',
    ]));
    expect(doc.paragraphs.map((p) => p.role)).toEqual(['title', 'note', 'docNumber', 'addressee', 'body', 'date', 'body', 'heading']);
  });
});
