/**
 * Extractive answers over a real knowledge base (corpus/ plus, when present,
 * the seed reply with its PDF and DOCX renditions from ../shared/corpus).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractAnswer, verifyCitations } from '../core/answer.ts';
import { splitSentences } from '../core/sentences.ts';
import { PolicyTokenizer } from '../core/tokenizer.ts';
import type { StoredDocument } from '../core/types.ts';
import { describeWithSharedCorpus, sharedPath, SHARED_CORPUS } from './shared-corpus.ts';
import { buildTestKb, SEED_ID, type TestKb } from './support/test-server.ts';

let t: TestKb;
const tokenizer = new PolicyTokenizer();

beforeAll(async () => {
  t = await buildTestKb({ shared: false });
});
afterAll(() => t?.close());

async function ask(question: string, k = 8) {
  const result = await t.kb.search({ text: question, k });
  return { hits: result.hits, answer: extractAnswer(question, result.hits, t.kb, { questionWords: tokenizer.queryTerms(question).words }) };
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
    const floodHits = (await t.kb.search({ text: '城区内涝 排水', k: 8 })).hits;
    expect(floodHits.length).toBeGreaterThan(0);
    const question = '灵活就业人员医保补贴多少？';
    const off = extractAnswer(question, floodHits, t.kb, { questionWords: tokenizer.queryTerms(question).words });
    expect(off.answer).toBeNull();
    expect(off.reason).toMatch(/覆盖/);
    const none = extractAnswer('任何问题', [], t.kb);
    expect(none.answer).toBeNull();
    expect(none.reason).toMatch(/没有找到/);
  });

  it('verifyCitations names a quote that is not the stored text', async () => {
    const { answer } = await ask('城区内涝治理采取了哪些措施？');
    const c = answer.citations[0]!;
    expect(verifyCitations([{ ...c, quote: `${c.quote}。` }], t.kb)).toHaveLength(1);
    expect(verifyCitations([{ ...c, documentId: 'gone.txt' }], t.kb)[0]).toContain('不存在');
  });
});

describeWithSharedCorpus('extractAnswer with the seed reply in three renditions', () => {
  it('answers 留吉率 from the seed, quoting the sentence once even though the PDF and DOCX say it too', async () => {
    const report = await t.kb.ingestPaths([sharedPath('seed'), sharedPath('generated', '提案答复-公文版式.pdf'), sharedPath('generated', '提案答复-公文版式.docx')], {
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
