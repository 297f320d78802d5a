/**
 * Extractive answers over a real knowledge base (corpus/ plus, when present,
 * the seed reply with its PDF and DOCX renditions from ../shared/corpus).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { carriesFact, extractAnswer, factTypeOf, isFiller, verifyCitations } from '../../search/answer.ts';
import { paysOut } from '../../search/question.ts';
import { splitSentences } from '../../kb/text/sentences.ts';
import { PolicyTokenizer } from '../../kb/index/lexical/tokenizer.ts';
import type { StoredDocument } from '../../kb/types.ts';
import { describeWithSharedCorpus, sharedPath, SHARED_CORPUS } from '../support/shared-corpus.ts';
import { buildTestKb, SEED_ID, type TestKb } from '../support/test-server.ts';
import { search as searchKnowledgeBase } from '../../search/retrieve.ts';
import { ingestPaths } from '../../ingest/ingest.ts';
import { ask as askKnowledgeBase } from '../../search/ask.ts';

let t: TestKb;
const tokenizer = new PolicyTokenizer();

beforeAll(async () => {
  t = await buildTestKb({ shared: false });
});
afterAll(() => t?.close());

async function ask(question: string, k?: number) {
  const asked = await askKnowledgeBase(t.kb, { question, ...(k ? { k } : {}) });
  // The raw extraction's quotes must pass the check themselves, not be masked by ask's refusal.
  expect(asked.citationProblems).toEqual([]);
  return { hits: asked.retrieval.hits, answer: asked.answer };
}

describe('splitSentences', () => {
  it('keeps exact offsets, closing quotes with their sentence, and cuts overlong sentences at ；', () => {
    const base = 100;
    const text = '  一是加强领导。二是“压实责任。”三是加大投入！\n四是强化考核';
    const spans = splitSentences(text, base);
    expect(spans.map((s) => s.text)).toEqual(['一是加强领导。', '二是“压实责任。”', '三是加大投入！', '四是强化考核']);
    for (const s of spans) expect(text.slice(s.start - base, s.end - base)).toBe(s.text);
    const long = `${'甲'.repeat(90)}；${'乙'.repeat(90)}。`;
    expect(splitSentences(long).map((s) => s.text.length)).toEqual([91, 91]);
  });
});

describe('extractAnswer on the sample corpus', () => {
  it('quotes whole sentences verbatim, each cited to its own paragraph, at most three', async () => {
    const { answer } = await ask('灵活就业人员参加职工医保的缴费基数怎么选？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations.length).toBeGreaterThanOrEqual(1);
    expect(answer.citations.length).toBeLessThanOrEqual(3);
    expect(answer.citations[0]!.quote).toContain('缴费基数');
    for (const c of answer.citations) {
      const doc = t.kb.getDocument(c.documentId) as StoredDocument;
      expect(doc.text.slice(c.start, c.end)).toBe(c.quote);
      const paragraph = doc.paragraphs.find((p) => c.start >= p.start && c.end <= p.end)!;
      expect(paragraph, 'a sentence never straddles paragraphs').toBeTruthy();
      expect(c.headingPath).toEqual(paragraph.headingPath);
      expect(paragraph.role).toBe('body');
      expect(c.quote).toMatch(/[。！？；]$/);
    }
    expect(verifyCitations(answer.citations, t.kb)).toEqual([]);
  });

  it('quotes whole sentences even where the passage starts or ends mid-sentence', async () => {
    const { hits, answer } = await ask('既有住宅加装电梯的财政补贴标准是多少？');
    expect(answer.answer).not.toBeNull();
    for (const c of answer.citations) {
      const doc = t.kb.getDocument(c.documentId)!;
      const before = doc.text[c.start - 1];
      expect(before === undefined || /[\n。！？；”]/.test(before), `quote starts at a sentence start: …${doc.text.slice(c.start - 5, c.start + 5)}`).toBe(true);
    }
    expect(hits.length).toBeGreaterThan(0);
  });

  it('passes over courtesy formulas that only echo the topic', async () => {
    const { answer } = await ask('高校毕业生留在本省就业有哪些支持政策？');
    expect(answer.answer).not.toBeNull();
    for (const c of answer.citations) expect(c.quote).not.toMatch(/感谢|欢迎继续/);
  });

  it('returns null with a reason when the retrieved sentences do not cover the question', async () => {
    const floodHits = (await searchKnowledgeBase(t.kb, { text: '城区内涝 排水', k: 8 })).hits;
    expect(floodHits.length).toBeGreaterThan(0);
    const question = '灵活就业人员医保补贴多少？';
    const off = extractAnswer(question, floodHits, t.kb, { questionWords: tokenizer.queryTerms(question).words });
    expect(off.answer).toBeNull();
    // The reason names what is missing in words, never a keyword percentage.
    expect(off.reason).toMatch(/^知识库中没有直接回答“灵活就业人员医保补贴”的内容：最接近的段落没有提到“灵活/);
    expect(off.reason).not.toMatch(/%/);
    const none = extractAnswer('任何问题', [], t.kb);
    expect(none.answer).toBeNull();
    expect(none.reason).toMatch(/没有找到相关的段落/);
  });

  it('verifyCitations names a quote that is not the stored text', async () => {
    const { answer } = await ask('城区内涝治理采取了哪些措施？');
    const c = answer.citations[0]!;
    expect(verifyCitations([{ ...c, quote: `${c.quote}。` }], t.kb)).toHaveLength(1);
    expect(verifyCitations([{ ...c, documentId: 'gone.txt' }], t.kb)[0]).toContain('不存在');
  });
});

describe('questions naming a subject the knowledge base lacks', () => {
  it('does not answer a 吉林 question with 东川省 figures, and says what was not found', async () => {
    const { hits, answer } = await ask('吉林省高校毕业生留吉率是多少？');
    // Retrieval does find the 东川省 reply (same topic, same words but the place): the answer must not quote it.
    expect(hits.some((h) => h.citation.documentId.includes('高校毕业生留省'))).toBe(true);
    expect(answer.answer).toBeNull();
    expect(answer.reason).toMatch(/没有关于“吉林/);
    expect(answer.citations).toEqual([]);
  });

  it('answers the same question about the province the reply is about, with the rate', async () => {
    const { answer } = await ask('东川省高校毕业生留省率是多少？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations.some((c) => /留省率为58\.2%/.test(c.quote))).toBe(true);
    expect(verifyCitations(answer.citations, t.kb)).toEqual([]);
  });
});

describe('a sentence that introduces a list', () => {
  it('brings the list items of the same article, verbatim, in order, each cited', async () => {
    const { answer } = await ask('普惠性民办幼儿园的认定条件是什么？');
    expect(answer.answer, answer.reason).not.toBeNull();
    const sentences = answer.answer!.sentences;
    const intro = sentences.findIndex((s) => s.text.startsWith('第五条申请认定为普惠性民办幼儿园') && s.text.endsWith('：'));
    expect(intro).toBeGreaterThanOrEqual(0);
    const items = sentences.slice(intro + 1, intro + 7);
    expect(items.map((s) => s.text.slice(0, 3))).toEqual(['（一）', '（二）', '（三）', '（四）', '（五）', '（六）']);
    for (const item of items) expect(item.continuation).toBe(true);
    expect(items[5]!.text).toBe('（六）近3年内未发生重大安全责任事故，无违规收费、“小学化”等不良记录。');
    // 第六条 follows in the same chapter but is no item of 第五条's list.
    expect(sentences[intro + 7]?.text ?? '').not.toMatch(/^第六条/);
    const byN = new Map(answer.citations.map((c) => [c.n, c]));
    for (const s of sentences.slice(intro, intro + 7)) {
      const c = byN.get(s.citations[0]!)!;
      expect(c.quote).toBe(s.text);
      expect(c.headingPath).toEqual(['第二章认定条件', '第五条']);
    }
    expect(verifyCitations(answer.citations, t.kb)).toEqual([]);
  });
});

describe('reply-letter filler', () => {
  it('recognises the set phrases of every reply in corpus/ and nothing of their substance', () => {
    const replies = fs.readdirSync('corpus').filter((f) => f.startsWith('对') && f.endsWith('.txt'));
    expect(replies.length).toBeGreaterThanOrEqual(4);
    for (const file of replies) {
      const sentences = splitSentences(fs.readFileSync(path.join('corpus', file), 'utf8'));
      const filler = sentences.filter((s) => isFiller(s.text)).map((s) => s.text);
      expect(filler.some((s) => s.includes('收悉')), file).toBe(true);
      expect(filler.some((s) => /感谢/.test(s)), file).toBe(true);
      for (const s of filler) expect(s, file).toMatch(/收悉|答复如下|感谢|欢迎|联系人|特此答复/);
      expect(filler.length, file).toBeLessThanOrEqual(5);
    }
  });

  it('never quotes them, even for a question that repeats a proposal title', async () => {
    for (const question of ['关于加强城区防洪排涝能力建设的建议', '既有住宅加装电梯的财政补贴标准是多少？', '关于增加城区普惠性学前教育学位供给的建议']) {
      const { answer } = await ask(question);
      expect(answer.answer, `${question}: ${answer.reason}`).not.toBeNull();
      for (const c of answer.citations) {
        expect(c.quote, question).not.toMatch(/收悉|答复如下|关心和支持/);
        expect(isFiller(c.quote)).toBe(false);
      }
    }
  });
});

describe('covering notices', () => {
  it('never quote the line that hands over the attached measures', async () => {
    const notice = fs.readFileSync(path.join('corpus', '青州市普惠性民办幼儿园认定和扶持管理办法-通知.txt'), 'utf8');
    const covering = splitSentences(notice).filter((s) => s.text.includes('现印发给你们'));
    expect(covering.length).toBe(1);
    expect(isFiller(covering[0]!.text)).toBe(true);
    const { answer } = await ask('青州市普惠性民办幼儿园认定和扶持管理办法是什么时候印发的？');
    for (const c of answer.citations) expect(c.quote).not.toMatch(/印发给你们/);
  });
});

describe('the kind of fact asked for', () => {
  it('reads it from the question', () => {
    expect(factTypeOf('城区内涝治理什么时候完成？')).toBe('date');
    expect(factTypeOf('东川省高校毕业生留省率是多少？')).toBe('rate');
    expect(factTypeOf('单所幼儿园奖补金额最高几万元？')).toBe('amount');
    expect(factTypeOf('老旧楼房装电梯政府给多少钱？')).toBe('amount');
    expect(factTypeOf('老年助餐补贴标准是多少？')).toBe('amount');
    expect(factTypeOf('全省共建成多少个老年食堂？')).toBe('count');
    expect(factTypeOf('灵活就业人员参保的待遇等待期是多久？')).toBe('deadline');
    expect(factTypeOf('加装电梯由哪个部门审批？')).toBe('unit');
    expect(factTypeOf('外地户籍的灵活就业人员能否在就业地参保？')).toBe('yesno');
    expect(factTypeOf('如何申请提取公积金加装电梯？')).toBe('procedure');
    expect(factTypeOf('泰州市海陵区审批服务热线是多少？')).toBe('contact');
    expect(factTypeOf('普惠性民办幼儿园的认定条件是什么？')).toBe('list');
    expect(factTypeOf('高校毕业生留在本省就业有哪些支持政策？')).toBe('list');
    expect(factTypeOf('加装电梯的意义')).toBeUndefined();
    // 哪几个 asks which, not how many (NCPQA: 国家发改委从哪几个方面扩大口罩生产？ wanted the three 方面, not a count).
    expect(factTypeOf('高校毕业生留省的支持政策从哪几个方面发力？')).toBe('list');
    expect(factTypeOf('《若干措施》是由哪几个部门联合发布的？')).toBe('list');
    expect(factTypeOf('全省共有几个老年食堂？')).toBe('count');
    // Which ones, whatever figure or contact word the subject holds: not a rate, not a web address.
    expect(factTypeOf('从1月26日起，农发行将主要对哪些企业实行优惠利率政策？')).toBe('list');
    expect(factTypeOf('新版省政府门户网站在哪些方面进行了升级？')).toBe('list');
    expect(factTypeOf('贷款利率下调多少？')).toBe('rate');
    expect(factTypeOf('哪些部门负责审批？')).toBe('unit');
    expect(factTypeOf('有哪些咨询电话？')).toBe('contact');
    // A span of hours counts (绍兴's online-study limits, ncpqa/docs: 分别不超过2小时、4小时、5小时).
    expect(carriesFact('小学、初中、高中每天线上学习总时长分别不超过2小时、4小时、5小时', 'count')).toBe(true);
    expect(carriesFact('每天线上学习时长不超过两个小时', 'count')).toBe(true);
    expect(carriesFact('力争到2027年城区排水管网雨水管渠设计重现期达到3至5年一遇', 'date')).toBe(true);
    expect(carriesFact('领导小组办公室每季度通报工作进展', 'date')).toBe(false);
  });

  it('prefers a sentence with a date for 什么时候 and one with a figure for 多少', async () => {
    const when = (await ask('城区内涝治理什么时候完成？')).answer;
    expect(when.answer, when.reason).not.toBeNull();
    expect(carriesFact(when.citations[0]!.quote, 'date'), when.citations[0]!.quote).toBe(true);
    const howMuch = (await ask('普惠性民办幼儿园保教费最高收费标准是多少？')).answer;
    expect(howMuch.answer, howMuch.reason).not.toBeNull();
    expect(howMuch.citations[0]!.quote).toMatch(/1280元/);
  });
});

describeWithSharedCorpus('extractAnswer with the seed reply in three renditions', () => {
  it('answers 留吉率 from the seed, quoting the sentence once even though the PDF and DOCX say it too', async () => {
    const report = await ingestPaths(t.kb, [sharedPath('seed'), sharedPath('generated', '提案答复-公文版式.pdf'), sharedPath('generated', '提案答复-公文版式.docx')], {
      root: SHARED_CORPUS,
    });
    expect(report.failed).toEqual([]);
    const { answer } = await ask('吉林省高校毕业生留吉率是多少？');
    expect(answer.answer).not.toBeNull();
    const first = answer.citations[0]!;
    expect(first.quote).toMatch(/留吉率超过\s*60%/);
    expect(first.headingPath[0]).toMatch(/^二、/);
    expect([SEED_ID, 'generated/提案答复-公文版式.pdf', 'generated/提案答复-公文版式.docx']).toContain(first.documentId);
    const withRate = answer.citations.filter((c) => /留吉率超过/.test(c.quote));
    expect(withRate).toHaveLength(1);
    expect(verifyCitations(answer.citations, t.kb)).toEqual([]);
  });
});

describe('the examples of issue 9, on the sample corpus', () => {
  it('abstains on a subsidy no document mentions, naming the subject in plain words', async () => {
    const { hits, answer } = await ask('东川省对购买新能源汽车有什么补贴？');
    // Retrieval finds the graduate reply (新能源装备 industry chain); the answer must not quote it.
    expect(hits.length).toBeGreaterThan(0);
    expect(answer.answer).toBeNull();
    expect(answer.reason).toMatch(/^知识库中没有关于“东川省新能源汽车补贴”的内容/);
    expect(answer.reason).toContain('“汽车”');
  });

  it('abstains on a city figure no document gives instead of quoting three unrelated sentences', async () => {
    const { answer } = await ask('青州市2025年地区生产总值增长目标是多少？');
    expect(answer.answer).toBeNull();
    expect(answer.reason).toMatch(/^知识库中没有关于“青州市2025年地区生产总值增长目标”的内容/);
    expect(answer.reason).not.toMatch(/%/);
  });

  it('answers the master graduate living allowance with the figure search found', async () => {
    const { hits, answer } = await ask('在省内企业上班的硕士研究生每个月能领多少生活补助？');
    expect(hits[0]!.text).toContain('1500元');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations[0]!.quote).toContain('1500元');
    expect(answer.answer!.factType).toBe('amount');
  });

  it('answers the meal subsidy with the sentence that states it, never the heading', async () => {
    const { answer } = await ask('老年助餐补贴标准是多少？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations[0]!.quote).toMatch(/每餐分别给予2元至5元的补贴/);
    for (const c of answer.citations) expect(c.quote).not.toBe('（三）发展老年助餐服务。');
    // The reply's title opens with 关于省政协…: that names no province 关于省.
    expect(answer.answer!.about).toMatch(/^东川省/);
  });

  it('says which place the quote is about', async () => {
    const { answer } = await ask('老旧楼房装电梯政府给多少钱？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations[0]!.quote).toContain('每部电梯20万元');
    expect(answer.citations[0]!.place).toBe('青州市');
    expect(answer.answer!.about).toMatch(/青州市/);
  });

  it('answers a figure question with the sentence that states the figure, not the rest of its paragraph', async () => {
    const { answer } = await ask('老旧楼房装电梯政府给多少钱？');
    expect(answer.answer, answer.reason).not.toBeNull();
    // The paragraph goes on with the year's spending (8460万元) and the next measure: other facts, not this answer.
    expect(answer.answer!.sentences).toHaveLength(1);
    expect(answer.answer!.text).toMatch(/每部电梯20万元[^[]*\[1\]$/);
    expect(answer.answer!.text).not.toContain('8460万元');
  });

  it('quotes a measure with the numbered heading it follows in its paragraph, and a figure without one', async () => {
    const { answer } = await ask('如何支持中小微企业吸纳高校毕业生就业？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.answer!.sentences[0]).toEqual({ text: '（三）支持中小微企业吸纳就业。', citations: [1] });
    expect(answer.answer!.sentences[1]!.text).toMatch(/^对招用毕业年度或离校2年内未就业高校毕业生/);
    expect(answer.answer!.sentences[1]!.continuation).toBe(true);
    const figure = await ask('在省内企业上班的硕士研究生每个月能领多少生活补助？');
    expect(figure.answer.citations[0]!.quote).toContain('1500元');
  });

  it('answers 有哪些政策 with a short cited list, one item per source paragraph', async () => {
    const { answer } = await ask('高校毕业生留在本省就业有哪些支持政策？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.answer!.list).toBe(true);
    const items = answer.answer!.sentences.filter((s) => !s.continuation);
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.length).toBeLessThanOrEqual(5);
    const paragraphs = items.map((s) => {
      const c = answer.citations.find((x) => x.n === s.citations[0])!;
      const doc = t.kb.getDocument(c.documentId)!;
      return `${c.documentId}#${doc.paragraphs.findIndex((p) => c.start >= p.start && c.end <= p.end)}`;
    });
    expect(new Set(paragraphs).size).toBe(paragraphs.length);
    expect(verifyCitations(answer.citations, t.kb)).toEqual([]);
  });
});

describe("the embedding model's word in the answer stage", () => {
  async function askWith(question: string, similarity: number | undefined) {
    const result = await searchKnowledgeBase(t.kb, { text: question, k: 8 });
    return extractAnswer(question, result.hits, t.kb, {
      questionWords: tokenizer.queryTerms(question).words,
      knowsWord: (w) => t.kb.knowsWord(w),
      wordShare: (w) => t.kb.wordShare(w),
      ...(similarity === undefined ? {} : { semantic: { similarity: result.hits.map(() => similarity) } }),
    });
  }

  it('answers a question worded away from the text (升降梯 for 电梯) when the model finds the passage close, and only then', async () => {
    const question = '老旧楼房装升降梯政府给多少钱？';
    // Without the model (or with a passage it finds merely on the topic) the word no document holds decides: null.
    const lexical = await askWith(question, undefined);
    expect(lexical.answer).toBeNull();
    expect(lexical.reason).toContain('“升降梯”');
    expect((await askWith(question, 0.8)).answer).toBeNull();
    const close = await askWith(question, 0.95);
    expect(close.answer, close.reason).not.toBeNull();
    expect(close.citations[0]!.quote).toContain('每部电梯20万元');
  });

  it('does not answer from passages the model finds far from the question, whatever words they share', async () => {
    const question = '老旧楼房装电梯政府给多少钱？';
    expect((await askWith(question, undefined)).answer).not.toBeNull();
    const far = await askWith(question, 0.5);
    expect(far.answer).toBeNull();
    expect(far.reason).toMatch(/^知识库中没有关于“.+”的内容：检索到的段落与问题说的不是一回事$/);
  });
});

describeWithSharedCorpus('a stable answer when an unrelated document is added', () => {
  it('keeps 每部20万元 for the elevator question after the Beijing work report is ingested', async () => {
    const question = '老旧楼房装电梯政府给多少钱？';
    const before = (await ask(question)).answer;
    expect(before.answer, before.reason).not.toBeNull();
    expect(before.citations[0]!.quote).toContain('每部电梯20万元');
    const report = await ingestPaths(t.kb, [sharedPath('pdf', '2024年北京市政府工作报告.pdf')], { root: SHARED_CORPUS });
    expect(report.failed).toEqual([]);
    expect(report.added).toBe(1);
    // The report speaks of 加装电梯 too: retrieval now holds Beijing passages for this question.
    const { hits, answer: after } = await ask(question);
    expect(hits.some((h) => h.citation.documentId.startsWith('pdf/'))).toBe(true);
    expect(after.answer, after.reason).not.toBeNull();
    expect(after.citations[0]!.quote).toBe(before.citations[0]!.quote);
    expect(after.citations[0]!.documentId).toBe(before.citations[0]!.documentId);
    (await t.kb.write((writer) => writer.remove('pdf/2024年北京市政府工作报告.pdf')));
  });
});

describeWithSharedCorpus('abstaining on what the knowledge base lacks, with real documents beside the sample corpus', () => {
  let s: TestKb;
  const SICHUAN = 'ncpqa/docs/a8e995a620a53d9fa7f6c0fc8b4fdd7a.txt';
  // The tax notice for community 养老、托育、家政 services: it names 托育 and exempts 家政 income from VAT.
  const CHILDCARE_TAX = 'ncpqa/docs/d898435a903c3865ab91e76966d31909.txt';
  // 农业农村部's 专项法治宣传行动 news: a lead paragraph, then the paragraph with what the campaign 注重.
  const LAW_CAMPAIGN = 'ncpqa/docs/6488f3b3332b3995a4c60c7e3e3e9993.txt';
  // 天津's tax bureau notice on the February filing deadline, and the national one (在全国范围内…延长至2月24日).
  const TIANJIN_TAX = 'ncpqa/docs/227710a3360b33e4b399d03b5c746ef9.txt';
  const NATIONAL_TAX = 'ncpqa/docs/b10836e346c23dd8aa24551a84217663.txt';
  // 北京仲裁委员会's notice: how to file (咨询 by phone first, then send the papers) in two sentences of one paragraph.
  const ARBITRATION = 'ncpqa/docs/df4919ff0e0037cba8de74cbfb86ddab.txt';
  // 江西's rule on explaining each day's new cases: what to explain, then when to report it.
  const JIANGXI_CASES = 'ncpqa/docs/07bdc848137f3031905de3c38c6cc5ff.txt';
  // A city's notice on supplies whose measures open with headings such as 四、抓紧组织复工。 in the paragraph they name.
  const RESUME_WORK = 'ncpqa/docs/f8e76c9b7c323923b680dc9edc138c1f.txt';
  // 北京's rules for charities' donations: a paragraph opening 各慈善组织要加强…管理, its next sentences 要规范…, 要把好….
  const DONATIONS = 'ncpqa/docs/1760564d14d7360fbf6fb50ebbd82251.txt';
  // 民航局's Q&A on the epidemic: 如何满足旅客刚性出入境需求？ then the answer in several sentences.
  const AVIATION_QA = 'ncpqa/docs/01c5ef5355dd3b9998a38ea55ac64728.txt';
  // 税务总局's Q&A on 电子税务局: one paragraph of numbered questions (一、如何快速进入…？), each followed by 答：….
  const E_TAX_QA = 'ncpqa/docs/eee536823bda3e07805f6963b42bffb3.txt';
  // 数字中国发展报告（2022年）: national figures of 2022; it names 江苏 among other provinces.
  const DIGITAL_CHINA = 'policies/central/025.txt';
  beforeAll(async () => {
    // The sample corpus with the Shandong slice (policies/shandong, policies/text, the seed reply), plus Sichuan's 十三条 news.
    s = await buildTestKb({ shared: true });
    const report = await ingestPaths(s.kb, [SICHUAN, CHILDCARE_TAX, LAW_CAMPAIGN, TIANJIN_TAX, NATIONAL_TAX, ARBITRATION, JIANGXI_CASES, RESUME_WORK, DONATIONS, DIGITAL_CHINA, AVIATION_QA, E_TAX_QA].map((p) => sharedPath(p)), { root: SHARED_CORPUS });
    expect(report.failed).toEqual([]);
  });
  afterAll(() => s?.close());

  async function askShared(question: string) {
    const asked = await askKnowledgeBase(s.kb, { question });
    expect(asked.citationProblems).toEqual([]);
    return { hits: asked.retrieval.hits, answer: asked.answer };
  }

  it('does not answer for a city from its province’s policy when the policy never names the city', async () => {
    const province = await askShared('四川省对复工复产的中小企业有哪些税收减免政策？');
    expect(province.answer.answer, province.answer.reason).not.toBeNull();
    expect(province.answer.citations[0]!.documentId).toBe(SICHUAN);
    const { hits, answer } = await askShared('甘孜州对复工复产的中小企业有哪些税收减免政策？');
    expect(hits.some((h) => h.citation.documentId === SICHUAN)).toBe(true);
    expect(answer.answer).toBeNull();
    expect(answer.reason).toMatch(/^知识库中没有关于“甘孜州.*”的内容：检索到的文件都不是关于甘孜/);
  });

  it('abstains on a subject no passage holds although jieba does not know the word (电竞), naming it', async () => {
    // Qingdao's AI-park talent awards (policies/shandong/042.txt) match every other word of the question.
    const { hits, answer } = await askShared('电竞产业的人才奖励标准是多少？');
    expect(hits.length).toBeGreaterThan(0);
    expect(answer.answer).toBeNull();
    expect(answer.reason).toContain('“电竞”');
  });

  it('abstains on the 东川省 car subsidy with the Shandong policies beside the sample corpus', async () => {
    // Shandong's plans name 新能源 and 补贴 often; with 东川省 they once cleared the bar.
    const { hits, answer } = await askShared('东川省对购买新能源汽车有什么补贴？');
    expect(hits.length).toBeGreaterThan(0);
    expect(answer.answer, answer.answer?.text).toBeNull();
    expect(answer.reason).toMatch(/^知识库中没有关于“东川省新能源汽车补贴”的内容/);
  });

  it('requires a new policy word jieba lacks but the knowledge base holds (托育) beside the quote', async () => {
    // Without it the AI park's 房租补贴 (policies/shandong) answered: every other word of the question is there.
    const { answer } = await askShared('园区内的托育机构能拿多少房租补贴？');
    expect(answer.answer, answer.answer?.text).toBeNull();
    expect(answer.reason).toMatch(/^知识库中没有关于“园区内的托育机构房租补贴”的内容：检索到的段落都没有提到“托育”$/);
  });

  it('answers a sum per person and month only with a figure, not with a tax exemption', async () => {
    const { answer } = await askShared('婴幼儿托育机构的托育补贴标准是每人每月多少？');
    expect(answer.answer, answer.answer?.text).toBeNull();
    expect(answer.reason).toBe('知识库中关于“婴幼儿托育机构的托育补贴标准是每人每月”的文件没有给出具体的钱数或比例');
    const elevator = await askShared('老旧楼房装电梯政府每部给多少钱？');
    expect(elevator.answer.answer, elevator.answer.reason).not.toBeNull();
    expect(elevator.answer.citations[0]!.quote).toContain('每部电梯20万元');
  });

  it('needs a closer passage when both the key word and the subject words are missing around it', async () => {
    // The 普惠性民办幼儿园 从教津贴 (每人每月300元) holds neither 托育 nor most of the subject; the model's closeness alone lets it in.
    const question = '婴幼儿托育机构的托育补贴标准是每人每月多少？';
    const result = await searchKnowledgeBase(s.kb, { text: question, k: 8 });
    const at = (similarity: number) =>
      extractAnswer(question, result.hits, s.kb, {
        questionWords: tokenizer.queryTerms(question).words,
        knowsWord: (w) => s.kb.knowsWord(w),
        wordShare: (w) => s.kb.wordShare(w),
        mayHoldText: (w) => s.kb.mayHoldText(w),
        semantic: { similarity: result.hits.map(() => similarity) },
      });
    const near = at(0.905);
    expect(near.answer, near.answer?.text).toBeNull();
    // What is left (家政服务…免征增值税) states no figure.
    expect(near.reason).toMatch(/没有给出具体的钱数或比例$/);
    const closer = at(0.915);
    expect(closer.answer, closer.reason).not.toBeNull();
    expect(closer.citations[0]!.quote).toContain('每人每月300元');
  });

  it('requires a word the knowledge base holds in hardly any passage (公寓: one) beside the rarest word', async () => {
    // 养护 is the rarest word; without the second requirement the road-upkeep fund per kilometre answered.
    const { answer } = await askShared('农村公路养护工人的公寓补贴是多少？');
    expect(answer.answer, answer.answer?.text).toBeNull();
    expect(answer.reason).toBe('知识库中没有关于“农村公路养护工人的公寓补贴”的内容：检索到的段落都没有提到“公寓”');
  });

  it('reads a list answer on from its lead paragraph into the next paragraph of the section', async () => {
    const { answer } = await askShared('农业农村部启动开展“防控疫情、法治同行”专项法治宣传行动注重哪些方面？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations[0]!.documentId).toBe(LAW_CAMPAIGN);
    expect(answer.answer!.text).toContain('此次专项法治宣传行动注重以案释法');
  });

  it('does not answer a place’s date or figure with the whole country’s', async () => {
    const { answer } = await askShared('天津市税务局延长2020年2月纳税申报期限的通知是哪天发布的？');
    for (const c of answer.citations) expect(c.quote).not.toMatch(/全国|我国/);
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations[0]!.documentId).toBe(TIANJIN_TAX);
  });

  /** The answer as the model would let it through: every hit as close to the question as `similarity`. */
  async function answerAsClose(question: string, similarity: number) {
    const result = await searchKnowledgeBase(s.kb, { text: question, k: 8, joinNeighbours: false });
    const answer = extractAnswer(question, result.hits, s.kb, {
      questionWords: tokenizer.queryTerms(question).words,
      knowsWord: (w) => s.kb.knowsWord(w),
      wordShare: (w) => s.kb.wordShare(w),
      mayHoldText: (w) => s.kb.mayHoldText(w),
      semantic: { similarity: result.hits.map(() => similarity) },
    });
    return { hits: result.hits, answer };
  }

  it('does not answer a province’s figure from a national report that names the province elsewhere', async () => {
    const { hits, answer } = await answerAsClose('江苏省2023年数字经济核心产业增加值占比目标是多少？', 0.95);
    expect(hits.some((h) => h.citation.documentId === DIGITAL_CHINA)).toBe(true);
    expect(answer.answer, answer.answer?.text).toBeNull();
  });

  it('answers what a payment comes to only with a sentence that pays, not with a statistic', async () => {
    // The digital-China report: 动漫 and 网络游戏 in a paragraph of revenue figures (营业收入43860亿元).
    const { hits, answer } = await answerAsClose('动漫游戏企业的原创作品奖励是多少？', 0.95);
    expect(hits.some((h) => h.citation.documentId === DIGITAL_CHINA)).toBe(true);
    expect(answer.answer, answer.answer?.text).toBeNull();
    expect(answer.reason).toMatch(/没有给出这项补贴或奖励的金额$/);
  });

  it('answers whether there is a payment, or which, only with sentences that pay', async () => {
    // Shandong's energy and digital-culture plans name 光伏 and 电子竞技 among industries to grow, and pay nothing for them.
    // Every hit as close as 0.95 lets other documents' subsidies in (房租补贴, 奖励补助): the answer, if any, pays.
    for (const question of ['家里屋顶装光伏板政府给补贴吗？', '电子竞技比赛有什么补助？']) {
      const { answer } = await answerAsClose(question, 0.95);
      if (answer.answer) expect(answer.answer.sentences.some((x) => paysOut(x.text)), answer.answer.text).toBe(true);
    }
    const { answer } = await answerAsClose('山东对5G基站建设有没有补贴？', 0.95);
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.answer!.text).toContain('给予财政奖补');
  });

  it('does not take a year for the figure asked: 包头市2022年数字政府建设考评办法 says no 多少', () => {
    const text = fs.readFileSync(sharedPath('policies/text/包头市人民政府办公室关于印发《包头市2022年数...(FBM-CLI.12.5115678).txt'), 'utf8');
    const title = text.split('\n').map((l) => l.trim()).find((l) => l === '包头市2022年数字政府建设考评办法');
    expect(title).toBeDefined();
    expect(carriesFact(title!, 'number')).toBe(false);
    expect(carriesFact(title!, 'date')).toBe(true);
    const averaged = text.split('\n').find((l) => l.includes('7个方面分值的平均分值'));
    expect(carriesFact(averaged!, 'number')).toBe(true);
    // A dated line of a Guangdong list (2019.9.25) answered 学费补偿最多有多少 on its own.
    expect(carriesFact('2019.9.25', 'number')).toBe(false);
    expect(carriesFact('补偿标准为2019.9万元', 'amount')).toBe(true);
  });

  it('quotes one document in its own order, whichever sentence scored best', async () => {
    for (const [question, doc] of [
      ['北京仲裁委员会／北京国际仲裁中心相关的仲裁立案事宜如何处理？', ARBITRATION],
      ['江西省如何实行每日新增病例具体情况说明制度？', JIANGXI_CASES],
    ] as const) {
      const { answer } = await askShared(question);
      expect(answer.answer, answer.reason).not.toBeNull();
      const quotes = answer.citations.filter((c) => c.documentId === doc);
      expect(quotes.length, question).toBeGreaterThan(1);
      for (let i = 1; i < quotes.length; i++) expect(quotes[i]!.start, question).toBeGreaterThan(quotes[i - 1]!.start);
    }
    // The two filing steps read as the notice gives them: first ask by phone, then send the papers.
    const { answer } = await askShared('北京仲裁委员会／北京国际仲裁中心相关的仲裁立案事宜如何处理？');
    expect(answer.answer!.text.replace(/\[\d+\]/g, '')).toContain('收到本会立案室的回复后再进一步安排后续工作。当事人或代理人向本会提交立案材料');
  });

  it('takes a heading numbered 四、 for a heading, and reads on to the measures it names', async () => {
    // Its own 、 once made 四、抓紧组织复工。 a sentence of substance: quoted first, it echoed the question and stopped.
    const { answer } = await askShared('如何抓紧组织复工？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations[0]!.documentId).toBe(RESUME_WORK);
    expect(answer.answer!.text).toContain('各地在做好疫情防控要求的前提下，要采取灵活措施统筹安排人员上岗');
  });

  it('reads a measure from its paragraph’s opening, which says who must do what the next sentences go on about', async () => {
    const { answer } = await askShared('北京市对各相关单位做好捐赠款物管理使用提出哪些要求?');
    expect(answer.answer, answer.reason).not.toBeNull();
    const quotes = answer.citations.filter((c) => c.documentId === DONATIONS);
    expect(quotes[0]!.quote).toMatch(/^各慈善组织要加强和完善捐赠款物使用手续和账目管理/);
    expect(quotes.map((q) => q.quote).join('')).toContain('要规范使用流程，严禁截留、挪用、积压、挤占捐赠款物');
  });

  it('reads on after a best sentence that only restates the question, as after any best sentence', async () => {
    const { answer } = await askShared('疫情期间，如何满足旅客刚性出入境需求？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations[0]!.documentId).toBe(AVIATION_QA);
    // Two sentences and no more once cut it short; the third says how (申请开通国外串飞航线), the next paragraph what else.
    expect(answer.answer!.text.replace(/\[\d+\]/g, '')).toContain('力争保证国际航线“不断航”。各航空公司也在积极想办法');
    expect(answer.answer!.text).toContain('加大公共外交力度');
  });

  it('answers from under the numbered question of a Q&A that asks what the researcher asks', async () => {
    const { answer } = await askShared('如何快速进入电子税务局办理涉税业务？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations[0]!.documentId).toBe(E_TAX_QA);
    expect(answer.answer!.sentences[0]!.text).toBe('一、如何快速进入电子税务局办理涉税业务？');
    expect(answer.answer!.text).toContain('答：纳税人通过浏览器访问税务总局官网');
  });

  it('still answers a question whose key word stands in the paragraph before the quoted sentence', async () => {
    const { answer } = await askShared('对园区内引进的人工智能全职高端人才给予多少生活补贴？');
    expect(answer.answer, answer.reason).not.toBeNull();
    expect(answer.citations[0]!.quote).toMatch(/200万元/);
  });
});
