/**
 * Precedents per suggestion: a proposal cut at its numbering, each suggestion
 * aligned with the reply paragraph that answers it, never with courtesy
 * formulas, headings or the closing block; and the 留言答复 kind that makes
 * citizen-message replies visible to the precedent page's default filter.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPrecedents, findSimilar, type PrecedentsResult } from '../../search/precedents.ts';
import { search } from '../../search/retrieve.ts';
import { ask } from '../../search/ask.ts';
import { outlineProposal } from '../../search/suggestions.ts';
import { answersNothing, isCourtesy, isCourtesyClause } from '../../kb/text/courtesy.ts';
import { classifyHeading } from '../../ingest/structure.ts';
import { recordCollectionKind } from '../../ingest/metadata.ts';
import type { StoredDocument } from '../../kb/types.ts';
import { buildTestKb, SEED_ID, serve, type RunningServer, type TestKb } from '../support/test-server.ts';
import { describeWithSharedCorpus, SHARED_CORPUS, sharedPath } from '../support/shared-corpus.ts';
import { ingestPaths } from '../../ingest/ingest.ts';

describe('outlineProposal', () => {
  it('cuts at the numbering, keeps the title and the problem statement apart, with exact offsets', () => {
    const text = '关于加快老旧小区加装电梯的建议\n我市老旧住宅多数没有电梯。\n一、简化审批流程。\n（一）推行联合审查。\n二、提高财政补贴。\n三、建立费用分摊机制，\n由低层住户协商确定。';
    const outline = outlineProposal(text);
    expect(outline.numbered).toBe(true);
    expect(outline.title?.text).toBe('关于加快老旧小区加装电梯的建议');
    expect(outline.preamble?.text).toBe('我市老旧住宅多数没有电梯。');
    expect(outline.suggestions.map((s) => s.label)).toEqual(['一、', '二、', '三、']);
    expect(outline.suggestions[0]!.text).toBe('一、简化审批流程。\n（一）推行联合审查。');
    expect(outline.suggestions[2]!.text).toBe('三、建立费用分摊机制，\n由低层住户协商确定。');
    for (const s of outline.suggestions) expect(text.slice(s.start, s.end)).toBe(s.text);
  });

  it('takes the deeper numbering when the top level has only two items', () => {
    const text = '一、存在的问题\n养老机构护理员缺口大。\n二、几点建议\n（一）提高护理员补贴。\n（二）开展订单式培养。\n（三）拓宽职业晋升通道。';
    expect(outlineProposal(text).suggestions.map((s) => s.label)).toEqual(['（一）', '（二）', '（三）']);
  });

  it('makes one suggestion per paragraph when nothing is numbered', () => {
    const outline = outlineProposal('  建议增加社区食堂的数量。\n\n建议给高龄老人送餐上门。\n好');
    expect(outline.numbered).toBe(false);
    expect(outline.suggestions.map((s) => s.text)).toEqual(['建议增加社区食堂的数量。', '建议给高龄老人送餐上门。']);
  });
});

describe('courtesy formulas', () => {
  it('recognises the thanks, the acknowledgement and the sign-off, and not substance', () => {
    for (const clause of ['感谢您对我省人才工作的关注和建议', '此致', '祝您身体健康', '您好', '欢迎继续关心和支持我们的工作']) {
      expect(isCourtesyClause(clause)).toBe(true);
    }
    expect(isCourtesy('您在省政协十三届二次会议上提出的《关于加强人才队伍建设的建议》收悉，经认真研究办理，现答复如下：')).toBe(true);
    expect(isCourtesy('将人才回流情况纳入市县年度考核，权重由5%提高到8%。')).toBe(false);
  });
});

/** A quoted excerpt must be body text, verbatim, and neither courtesy nor a bare heading. */
function expectSubstantive(result: PrecedentsResult, load: (id: string) => StoredDocument | undefined): number {
  let checked = 0;
  for (const entry of result.bySuggestion) {
    for (const excerpt of entry.precedents) {
      const doc = load(excerpt.documentId)!;
      const paragraph = doc.paragraphs[excerpt.paragraphIndex]!;
      expect(paragraph.role).toBe('body');
      expect(doc.text.slice(excerpt.citation.start, excerpt.citation.end)).toBe(excerpt.text);
      for (const sentence of excerpt.sentences) {
        expect(doc.text.slice(sentence.start, sentence.end)).toBe(sentence.text);
        expect(isCourtesy(sentence.text), sentence.text).toBe(false);
        expect(classifyHeading(sentence.text)?.kind === 'heading', sentence.text).toBe(false);
      }
      checked++;
    }
  }
  return checked;
}

describeWithSharedCorpus('precedents per suggestion (seed reply)', () => {
  let t: TestKb;
  let seed: StoredDocument;
  let proposal: string;
  beforeAll(async () => {
    t = await buildTestKb({ shared: false });
    await ingestPaths(t.kb, [sharedPath('seed')], { root: SHARED_CORPUS });
    seed = t.kb.getDocument(SEED_ID)!;
    // The seed proposal: its five suggestions are what the reply's five section headings name.
    const headings = seed.paragraphs.filter((p) => p.role === 'heading' && p.headingLevel === 1);
    expect(headings).toHaveLength(5);
    proposal = ['关于加强我省创新创业人才队伍建设的建议', ...headings.map((h) => h.text.replace(/关于[“"](.+)[”"]的建议$/, '$1'))].join('\n');
  });
  afterAll(() => t?.close());

  it("maps suggestion i to section i: the reply's best paragraph for each is in the section answering it", async () => {
    const result = await findPrecedents(t.kb, proposal);
    expect(result.outline.suggestions).toHaveLength(5);
    const reply = result.replies.find((r) => r.documentId === SEED_ID)!;
    expect(result.replies[0]!.documentId).toBe(SEED_ID);
    expect(reply.covered).toBe(5);
    reply.excerpts.forEach((excerpt, i) => {
      const section = seed.paragraphs[excerpt!.paragraphIndex]!.headingPath[0]!;
      expect(section.startsWith('一二三四五'[i]!), `suggestion ${i + 1} → ${section}`).toBe(true);
      expect(excerpt!.coverage).toBeGreaterThanOrEqual(result.coveredAt);
    });
    // Across the whole corpus too, each suggestion's first precedent is that section.
    result.bySuggestion.forEach((entry, i) => {
      expect(entry.precedents[0]!.documentId).toBe(SEED_ID);
      expect(entry.precedents[0]!.citation.headingPath[0]!.startsWith('一二三四五'[i]!)).toBe(true);
    });
  });

  it('scores are absolute: the same suggestion and paragraph score the same in another proposal', async () => {
    const alone = await findPrecedents(t.kb, proposal.split('\n')[3]!);
    const within = await findPrecedents(t.kb, proposal);
    const a = alone.bySuggestion[0]!.precedents[0]!;
    const b = within.bySuggestion[2]!.precedents[0]!;
    expect(a.citation).toEqual(b.citation);
    expect(a.coverage).toBe(b.coverage);
  });
});

describeWithSharedCorpus('precedents never pair a suggestion with courtesy or a heading (seed and five shared replies)', () => {
  let t: TestKb;
  let messages: string[];
  beforeAll(async () => {
    t = await buildTestKb({ shared: false });
    await ingestPaths(t.kb, [sharedPath('seed')], { root: SHARED_CORPUS });
    // Five replies that thank, acknowledge and sign off the way the issue saw them paired.
    const records = fs.readFileSync(sharedPath('replies', 'messages-and-replies.jsonl'), 'utf8').split('\n').filter(Boolean)
      .map((line) => JSON.parse(line) as { id: string; subject: string; message: string; reply: string })
      .filter((r) => /感谢/.test(r.reply) && /收悉|答复如下/.test(r.reply)).slice(0, 5);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-replies-'));
    fs.writeFileSync(path.join(dir, 'five.jsonl'), records.map((r) => JSON.stringify(r)).join('\n'));
    await ingestPaths(t.kb, [path.join(dir, 'five.jsonl')], { root: dir, jsonl: { textField: 'reply', titleField: 'subject', idField: 'id' } });
    fs.rmSync(dir, { recursive: true, force: true });
    messages = records.map((r) => r.message);
  });
  afterAll(() => t?.close());

  it('quotes only substantive body sentences, verbatim', async () => {
    const seed = t.kb.getDocument(SEED_ID)!;
    const withCourtesy = seed.paragraphs.find((p) => /感谢您对我省人才工作的关注/.test(p.text))!;
    let checked = 0;
    for (const text of [seed.paragraphs.filter((p) => p.role === 'heading').map((p) => p.text).join('\n'), ...messages, '感谢您对我省人才工作的关注和建议，祝您身体健康，工作顺意。']) {
      const result = await findPrecedents(t.kb, text);
      checked += expectSubstantive(result, (id) => t.kb.getDocument(id));
      for (const entry of result.bySuggestion) expect(entry.precedents.map((p) => p.paragraphIndex)).not.toContain(withCourtesy.index);
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describeWithSharedCorpus('留言答复: citizen-message replies are their own kind', () => {
  let t: TestKb;
  let srv: RunningServer;
  let records: Array<{ id: string; subject: string; message: string; reply: string }>;
  beforeAll(async () => {
    t = await buildTestKb({ shared: false });
    const lines = fs.readFileSync(sharedPath('replies', 'messages-and-replies.jsonl'), 'utf8').split('\n').filter(Boolean);
    records = lines.slice(0, 300).map((line) => JSON.parse(line));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-replies-'));
    // A subset of the collection under its own name: 300 of 2,816 records keep the test quick.
    fs.writeFileSync(path.join(dir, 'messages-and-replies.jsonl'), lines.slice(0, 300).join('\n'));
    const report = await ingestPaths(t.kb, [dir], { root: dir, jsonl: { textField: 'reply', titleField: 'subject', idField: 'id' } });
    expect(report.added).toBe(300);
    fs.rmSync(dir, { recursive: true, force: true });
    srv = await serve(t.kb, t.config);
  });
  afterAll(async () => {
    await srv?.close();
    t?.close();
  });

  it('classifies the whole collection as message-reply, the service passages as other', () => {
    expect(t.kb.getDocument(`messages-and-replies.jsonl#${records[0]!.id}`)!.kind).toBe('message-reply');
    const health = t.kb.health();
    expect(health.kinds['message-reply']).toBe(300);
    expect(health.kinds['proposal-reply']).toBeGreaterThanOrEqual(4);
    const services = fs.readFileSync(sharedPath('services', 'questions-and-passages.jsonl'), 'utf8').split('\n').filter(Boolean)
      .slice(0, 400).map((line) => (JSON.parse(line) as { passage: string }).passage);
    expect(recordCollectionKind(services)).toBe('other');
    expect(recordCollectionKind(records.map((r) => r.reply))).toBe('message-reply');
  });

  it("returns those replies under the precedent page's default filter, and shows the kinds in /api/health", async () => {
    const health = (await (await fetch(`${srv.url}/api/health`)).json()) as { kinds: Record<string, number> };
    expect(health.kinds['message-reply']).toBe(300);
    // A new message in other words about the problem of record 0's subject.
    const record = records.find((r) => /物业/.test(r.subject))!;
    const response = await fetch(`${srv.url}/api/precedents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: record.message }),
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as PrecedentsResult;
    expect(result.replies.length).toBeGreaterThan(0);
    expect(result.replies.filter((r) => r.kind === 'message-reply').length).toBeGreaterThan(0);
    expect(result.replies.map((r) => r.documentId)).toContain(`messages-and-replies.jsonl#${record.id}`);
    for (const r of result.replies) expect(['proposal-reply', 'suggestion-reply', 'message-reply']).toContain(r.kind);
    // Unfiltered, other kinds may come too; with repliesOnly the policy documents never do.
    const bad = await fetch(`${srv.url}/api/precedents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: '养老', repliesOnly: 'yes' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('repliesOnly');
  });
});

describeWithSharedCorpus("a record's citizen message (--jsonl-message): searched, never quoted; replies that answer nothing ranked last", () => {
  let t: TestKb;
  let records: Array<{ id: string; subject: string; message: string; reply: string }>;
  const idOf = (record: { id: string }) => `messages-and-replies.jsonl#${record.id}`;
  // 123919 only forwards ("已转L6县调查、核处", "可以直接电话咨询"); 6098 answers (委托办理要带的材料).
  const FORWARDING = '123919';
  const ANSWERING = '6098';
  beforeAll(async () => {
    t = await buildTestKb({ shared: false });
    const lines = fs.readFileSync(sharedPath('replies', 'messages-and-replies.jsonl'), 'utf8').split('\n').filter(Boolean);
    const all = lines.map((line) => JSON.parse(line) as { id: string; subject: string; message: string; reply: string });
    records = [...all.slice(0, 80), ...all.filter((r) => r.id === FORWARDING || r.id === ANSWERING)];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-messages-'));
    fs.writeFileSync(path.join(dir, 'messages-and-replies.jsonl'), records.map((r) => JSON.stringify(r)).join('\n'));
    const report = await ingestPaths(t.kb, [dir], { root: dir, jsonl: { textField: 'reply', titleField: 'subject', idField: 'id', messageField: 'message' } });
    expect(report.failed).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterAll(() => t?.close());

  it('stores the message after the reply under 来信, role message, with verbatim passages; title and kind stay the reply’s', () => {
    const record = records[0]!;
    const doc = t.kb.getDocument(idOf(record))!;
    expect(doc.kind).toBe('message-reply');
    expect(doc.title).toBe(record.subject.trim());
    const message = doc.paragraphs.filter((p) => p.role === 'message');
    expect(message.length).toBeGreaterThan(0);
    expect(message.map((p) => p.text).join('')).toBe(record.message.replace(/\s+/g, ''));
    expect(doc.paragraphs.findIndex((p) => p.role === 'message')).toBeGreaterThan(doc.paragraphs.findIndex((p) => p.role === 'body'));
    const messagePassages = doc.passages.filter((p) => p.headingPath[0] === '来信');
    expect(messagePassages.length).toBeGreaterThan(0);
    for (const passage of doc.passages) expect(doc.text.slice(passage.start, passage.end)).toBe(passage.text);
  });

  it("finds a reply by its message's words, and never quotes the message as an answer or a precedent", async () => {
    for (const record of records.slice(0, 10)) {
      const question = record.message.slice(0, 60);
      const result = await search(t.kb, { text: question, k: 5, mode: 'lexical' });
      expect(result.hits[0]?.citation.documentId).toBe(idOf(record));
      const { answer } = await ask(t.kb, { question, mode: 'lexical' });
      for (const citation of answer.citations) {
        const doc = t.kb.getDocument(citation.documentId)!;
        const paragraph = doc.paragraphs.find((p) => citation.start >= p.start && citation.start < p.end)!;
        expect(paragraph.role).not.toBe('message');
      }
      const precedents = await findPrecedents(t.kb, record.message);
      for (const entry of precedents.bySuggestion) {
        for (const excerpt of entry.precedents) {
          expect(t.kb.getDocument(excerpt.documentId)!.paragraphs[excerpt.paragraphIndex]!.role).toBe('body');
        }
      }
    }
  });

  it('gives no place among question hits to a message (it holds the question, never the answer); the precedent finder still ranks them', async () => {
    for (const record of records.slice(0, 10)) {
      const question = record.message.slice(0, 60);
      // The message's own words: its message passage is the lexical list's first, and the precedent finder's search sees it.
      const withMessages = await search(t.kb, { text: question, k: 10, mode: 'lexical', withMessages: true });
      expect(withMessages.hits[0]?.citation.headingPath).toEqual(['来信']);
      const result = await search(t.kb, { text: question, k: 10, mode: 'lexical' });
      expect(result.hits.length).toBeGreaterThan(0);
      for (const hit of result.hits) expect(hit.citation.headingPath[0]).not.toBe('来信');
    }
  });

  it('tells a forwarding reply from one that answers, and ranks the forwarding one after every reply that says something', async () => {
    const forwarding = records.find((r) => r.id === FORWARDING)!;
    expect(answersNothing(forwarding.reply)).toBe(true);
    expect(answersNothing(records.find((r) => r.id === ANSWERING)!.reply)).toBe(false);
    const flagged = records.filter((r) => answersNothing(r.reply)).length;
    expect(flagged).toBeLessThan(records.length / 4);
    // Its own message as the query: retrieval finds it first, the finders list it after the replies that answer.
    expect((await search(t.kb, { text: forwarding.message, k: 5, mode: 'lexical' })).hits[0]?.citation.documentId).toBe(idOf(forwarding));
    const result = await findPrecedents(t.kb, forwarding.message, { mode: 'lexical', k: 100 });
    const ids = result.replies.map((r) => r.documentId);
    expect(ids).toContain(idOf(forwarding));
    const answering = ids.filter((id) => !answersNothing(records.find((r) => idOf(r) === id)?.reply ?? '(未知)'));
    expect(answering.length).toBeGreaterThan(0);
    expect(ids.indexOf(idOf(forwarding))).toBeGreaterThan(ids.indexOf(answering.at(-1)!));
    for (const entry of result.bySuggestion) expect(entry.precedents.map((p) => p.documentId)).not.toContain(idOf(forwarding));
    const similar = await findSimilar(t.kb, forwarding.message, { mode: 'lexical', k: 100 });
    const similarIds = similar.documents.map((d) => d.documentId);
    const substantive = similarIds.filter((id) => { const r = records.find((x) => idOf(x) === id); return !r || !answersNothing(r.reply); });
    expect(similarIds).toContain(idOf(forwarding));
    expect(similarIds.indexOf(idOf(forwarding))).toBeGreaterThan(similarIds.indexOf(substantive.at(-1)!));
  });
});
