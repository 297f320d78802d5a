import { describe, expect, it } from 'vitest';
import type { ExtractedDocument, SourceLine } from '../../kb/types.ts';
import { cleanDocument, isPageNumberLine, joinLines, normaliseSpacing } from '../../ingest/clean.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

describe('clean: character-level rules', () => {
  it('drops spaces between CJK characters and between a number and its unit, keeps Latin spacing', () => {
    expect(normaliseSpacing('目前已有 5683 家单位 参与')).toBe('目前已有5683家单位参与');
    expect(normaliseSpacing('截至 2023 年底，留吉率超过 60% ，')).toBe('截至2023年底，留吉率超过60%，');
    expect(normaliseSpacing('　　一、总体要求')).toBe('一、总体要求');
    expect(normaliseSpacing('支持 Open Data 标准和 Windows 10')).toBe('支持 Open Data 标准和 Windows 10');
  });

  it('keeps a contact name apart from the label after it, and letter-spaced labels whole', () => {
    expect(normaliseSpacing('（联系人：何静 电话：0871-86321150）')).toBe('（联系人：何静 电话：0871-86321150）');
    expect(normaliseSpacing('（联系人：何静电话：0871-86321150）')).toBe('（联系人：何静 电话：0871-86321150）');
    expect(normaliseSpacing('联系人：张三联系电话：1234')).toBe('联系人：张三 联系电话：1234');
    expect(normaliseSpacing('地址：长春市人民大街 邮编：130000')).toBe('地址：长春市人民大街 邮编：130000');
    expect(normaliseSpacing('联 系 电 话：1234')).toBe('联系电话：1234');
    expect(normaliseSpacing('联系 电话：1234')).toBe('联系电话：1234');
    expect(normaliseSpacing('联系人：何静， 联系电话：1234')).toBe('联系人：何静，联系电话：1234');
  });

  it('joins Chinese lines without a space and Latin words with one', () => {
    expect(joinLines('人才工程视为推动', '经济社会发展')).toBe('人才工程视为推动经济社会发展');
    expect(joinLines('the open', 'data portal')).toBe('the open data portal');
    expect(joinLines('需求 20.', '1 万人')).toBe('需求 20.1 万人');
  });

  it('recognises page-number lines in their usual forms and nothing else', () => {
    for (const line of ['— 3 —', '- 3 -', '–3–', '第3页', '第 3 页 共 13 页', '3/13', '－ 12 －']) {
      expect(isPageNumberLine(line, false), line).toBe(true);
    }
    expect(isPageNumberLine('3', true)).toBe(true);
    expect(isPageNumberLine('3', false)).toBe(false);
    for (const line of ['一、总体要求', '2024 年 7 月 15 日', '第三条', '（一）']) expect(isPageNumberLine(line, true), line).toBe(false);
  });
});

/** A page of body text laid out the way a 公文 PDF is: 16pt, left margin 79.5, indent 32pt, right edge 520. */
function pdfLine(text: string, y: number, options: { x?: number; right?: number; fontSize?: number } = {}): SourceLine {
  return { text, x: options.x ?? 79.5, right: options.right ?? 520.5, y, fontSize: options.fontSize ?? 16 };
}

function pdf(pages: SourceLine[][]): ExtractedDocument {
  return {
    format: 'pdf',
    paged: true,
    linesAreParagraphs: false,
    pages: pages.map((lines, i) => ({ number: i + 1, lines, width: 595.3, height: 841.9 })),
    warnings: [],
  };
}

describe('clean: PDF lines → paragraphs', () => {
  const header = (_page: number) => pdfLine('某某省人民政府公报', 60, { x: 230, right: 370, fontSize: 10.5 });
  const footer = (page: number) => pdfLine(`— ${page} —`, 766, { x: 281, right: 320, fontSize: 14 });
  const doc = pdf([
    [
      header(1),
      pdfLine('一、关于“发挥企业在创新创业人才培养中的主体作用”', 127, { x: 111.5, right: 511.5 }),
      pdfLine('的建议', 155, { right: 127.5 }),
      pdfLine('我们深知企业在创新创业人才培养中的重要性。因此，我', 183, { x: 111.5 }),
      pdfLine('们鼓励企业积极参与人才培养工作，将培养创新创业人才纳', 211),
      footer(1),
    ],
    [
      header(2),
      pdfLine('入企业管理经营者的业绩考核体系。', 127, { right: 340 }),
      pdfLine('同时，我们还充分发挥大规模国有企业的项目和技术优势。', 155, { x: 111.5, right: 300 }),
      footer(2),
    ],
    [header(3), pdfLine('第三页正文。', 127, { x: 111.5, right: 200 }), footer(3)],
  ]);
  const blocks = cleanDocument(doc);

  it('rejoins a paragraph across a page break, dropping the footer and running header between', () => {
    expect(blocks.map((b) => b.text)).toEqual([
      '一、关于“发挥企业在创新创业人才培养中的主体作用”的建议',
      '我们深知企业在创新创业人才培养中的重要性。因此，我们鼓励企业积极参与人才培养工作，将培养创新创业人才纳入企业管理经营者的业绩考核体系。',
      '同时，我们还充分发挥大规模国有企业的项目和技术优势。',
      '第三页正文。',
    ]);
    expect(blocks[1]!.pages).toEqual([1, 2]);
    expect(blocks[2]!.pages).toEqual([2, 2]);
    expect(blocks[0]!.indented).toBe(true);
  });
});

describe('clean: plain text', () => {
  const text = (lines: string[]): ExtractedDocument => ({
    format: 'txt',
    paged: false,
    linesAreParagraphs: false,
    pages: [{ number: 1, lines: lines.map((t) => ({ text: t })) }],
    warnings: [],
  });

  it('treats one-line-per-paragraph text as paragraphs, not as wrapped lines', () => {
    const blocks = cleanDocument(text([
      '各相关单位:',
      '为维护用户个人信息安全和合法权益，保障网络与信息安全，促进行业健康发展，现将有关要求明确如下:',
      '一、本通知所称移动智能终端是指接入公众移动通信网络的移动通信终端产品。',
      '二、申请进网许可的移动智能终端应当符合通信行业标准有关移动智能终端安全的基本要求。',
      '三、生产企业申请进网许可时，应当在申请材料中提供操作系统版本。',
    ]));
    expect(blocks).toHaveLength(5);
  });

  it('cleans 200,000 wrapped lines (a 50 MB file) without overflowing the stack, in linear time', () => {
    // Same-width lines without a blank line between them are one wrapped paragraph. Joining
    // it line by line used to re-read the paragraph so far: this took minutes, not under a second.
    const line = '为进一步做好社区养老服务工作，现就有关事项通知如下，请各单位结合实际认真贯彻落实。';
    const blocks = cleanDocument(text(Array.from({ length: 200_000 }, () => line)));
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.text).toHaveLength(200_000 * line.length);
  });

  it('splits a document stored on one line at the spaces that ended its paragraphs', () => {
    const paragraph = '为深入贯彻落实有关重要指示精神，帮助全市工业企业尽早全面复工复产，做到防疫生产两不误。';
    const blocks = cleanDocument(text([`关于做好疫情防控帮助工业企业复工复产的通知 各县区人民政府： ${paragraph} ${paragraph} ${paragraph} ${paragraph}`]));
    expect(blocks.map((b) => b.text)).toEqual(['关于做好疫情防控帮助工业企业复工复产的通知', '各县区人民政府：', paragraph, paragraph, paragraph, paragraph]);
  });

  it('takes the headline off a news item stored on one line, but not the start of a sentence', () => {
    const story = '2月8日，省疫情联防联控领导小组交通检疫组印发通知，要求各地统筹做好返程高峰期间的交通运输保障和疫情防控工作，'.repeat(4);
    expect(cleanDocument(text([`某省积极做好错峰返程疫情防控和交通运输保障工作 ${story}`])).map((b) => b.text.slice(0, 6)))
      .toEqual(['某省积极做好', '2月8日，省']);
    const sentence = `为落实《某某规划纲要（2006—2020年）》和《某某 2025》，${story}`;
    expect(cleanDocument(text([sentence]))).toHaveLength(1);
    // A short item whose story opens with a clause; a quotation broken at a space is no headline.
    expect(cleanDocument(text(['某区“12条”助企业渡难关 疫情当前，为切实解决企业因疫情面临的实际困难，区里出台了十二条措施，涵盖房租减免、社保缓缴、稳岗补贴和融资支持等方面，帮助企业渡过难关。'])).map((b) => b.text.slice(0, 4)))
      .toEqual(['某区“1', '疫情当前']);
    expect(cleanDocument(text(['本次论坛以“共建安全生态 助力产业发展”为主题，多位专家学者及企业代表参会并发表主题演讲，共同探讨数字安全。']))).toHaveLength(1);
    // A title in two halves: no story opens after the space.
    const twoHalves = cleanDocument(text([`关于发挥社区服务功能 助力做好疫情防控工作若干措施的通知${story}`]));
    expect(twoHalves).toHaveLength(1);
  });

  it('rejoins a part wrapped narrower than the rest of the file, and starts the next item of a numbered list', () => {
    // A foreword wrapped at 26 characters, then a body wrapped at 34.
    const blocks = cleanDocument(text([
      '本市各区各部门认真落实上级关于数字政府建设的部署要求',
      '，推进政务服务事项网上办理，打造了一批流程简明、体验',
      '良好的服务场景。各区结合实际，推出了企业开办一网通办',
      '、不动产登记一窗受理、社保医保一站式服务等改革举措，',
      '群众办事更加便捷高效。为总结推广各地经验做法，市政务',
      '服务管理局组织开展了典型案例征集活动，经过区级推荐和',
      '专家评审，共遴选出二十个典型案例，供参考。',
      '案例一位于城东新区，该区政务服务中心依托一体化平台，对企业开办涉及的',
      '营业执照、公章刻制、税务登记和社保登记等事项进行流程再造，实现一表申',
      '请、一窗受理、一次办结，办理时间由原来的五个工作日压缩到一个工作日以',
      '内，全年累计服务新设企业一万余户，群众满意度显著提升。同时，该区在各',
      '街道便民服务中心设置自助服务终端，提供社保查询、公积金提取、不动产登',
      '记信息查询等高频事项的自助办理服务，方便群众就近办事，并安排专人提供',
      '帮办代办服务，重点帮助老年人和残疾人等特殊群体跨越数字鸿沟，让数字化',
      '成果更多更公平地惠及全体市民。',
      '附件：1.政务服务事项标准化工作清单模板表格',
      '2.政务服务典型案例申报材料（城区组）样表与说明',
      '3.政务服务典型案例评审（专家组）打分表',
    ]));
    expect(blocks.map((b) => b.text.slice(0, 6))).toEqual(['本市各区各部', '案例一位于城', '附件：1.政', '2.政务服务', '3.政务服务']);
  });
});

describeWithSharedCorpus('clean: text files wrapped at more than one width', () => {
  it('rejoins the narrower foreword of a case collection and keeps a list of attachments apart', async () => {
    const { parseFile } = await import('../../ingest/parse.ts');
    const cases = await parseFile(sharedPath('policies/central/029.txt'), { passageMaxChars: 300 });
    const foreword = cases.paragraphs[0]!;
    expect(foreword.text.startsWith('近年来')).toBe(true);
    expect(foreword.text).toContain('典型案例。');
    const rules = await parseFile(sharedPath('policies/shandong/032.txt'), { passageMaxChars: 300 });
    const items = rules.paragraphs.filter((p) => /^[234]\.智能网联汽车道路测试/.test(p.text));
    expect(items).toHaveLength(3);
  });
});
