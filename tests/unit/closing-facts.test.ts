/**
 * Every fact of a document is findable: the closing block's signing unit,
 * date, contact person and phone (and cc list) become a passage of their own,
 * cited into the closing block, on the sample corpus's real letters.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../kb/config.ts';
import { KnowledgeBase } from '../../kb/kb.ts';
import { parseFile } from '../../ingest/parse.ts';
import { search as searchKnowledgeBase } from '../../search/retrieve.ts';
import { ingestPaths } from '../../ingest/ingest.ts';

const PROJECT_CORPUS = path.resolve('corpus');
const GRADUATES = '对省政协十二届三次会议第0137号提案的答复-高校毕业生留省.txt';
const ELDERLY_CARE = '关于省政协十二届三次会议第0215号提案的答复-社区居家养老.pdf';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-facts-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('closing-block facts', () => {
  it('are one passage of their own, a verbatim slice of the closing block, never joined to the body', async () => {
    const parsed = await parseFile(path.join(PROJECT_CORPUS, GRADUATES), { passageMaxChars: 300 });
    const facts = parsed.passages.filter((p) => p.text.includes('联系电话'));
    expect(facts).toHaveLength(1);
    const [passage] = facts;
    expect(passage!.text).toBe(parsed.text.slice(passage!.start, passage!.end));
    expect(passage!.text).toContain('东川省人力资源和社会保障厅');
    expect(passage!.text).toContain('2025年6月18日');
    expect(passage!.text).toContain('周晓岚');
    expect(passage!.headingPath).toEqual(['落款']);
    const [first, last] = passage!.paragraphSpan;
    const roles = parsed.paragraphs.slice(first, last + 1).map((p) => p.role);
    expect(roles.every((role) => ['signature', 'date', 'contact', 'cc'].includes(role))).toBe(true);
    // The body's last passage ends before the sign-off starts.
    const body = parsed.passages.filter((p) => p !== passage);
    expect(body.every((p) => p.end <= parsed.paragraphs.find((q) => q.role === 'closing')!.start)).toBe(true);
  });

  describe('in a knowledge base of the sample corpus', () => {
    let kb: KnowledgeBase;
    beforeAll(async () => {
      kb = await KnowledgeBase.open(loadConfig({ KB_DATA_DIR: path.join(tmp, 'data') }), { embedder: null, log: () => {} });
      const report = await ingestPaths(kb, [PROJECT_CORPUS]);
      expect(report.failed).toEqual([]);
    });
    afterAll(() => kb.close());

    it('answers "这份答复的联系电话是多少？" within the document, with a citation into the closing block', async () => {
      const result = await searchKnowledgeBase(kb, { text: '这份答复的联系电话是多少？', k: 3, mode: 'lexical', filters: { pathPrefix: GRADUATES } });
      const top = result.hits[0]!;
      expect(top.text).toContain('0871-6539 2207');
      const doc = kb.getDocument(GRADUATES)!;
      expect(doc.text.slice(top.citation.start, top.citation.end)).toBe(top.text);
      const contact = doc.paragraphs.find((p) => p.role === 'contact')!;
      expect(top.citation.start).toBeLessThanOrEqual(contact.start);
      expect(top.citation.end).toBeGreaterThanOrEqual(contact.end);
    });

    it('finds the contact person first, and the signing unit and date among the top hits, of the document asked about', async () => {
      const filters = { pathPrefix: ELDERLY_CARE };
      const person = await searchKnowledgeBase(kb, { text: '这份答复的联系人是谁？', k: 3, mode: 'lexical', filters });
      expect(person.hits[0]!.text).toContain('联系人：刘欣然');
      expect(person.hits[0]!.citation.headingPath).toEqual(['落款']);
      // A PDF letter: the signing unit and the date come from its last page.
      const signed = await searchKnowledgeBase(kb, { text: '这份答复的落款日期是哪天？', k: 3, mode: 'lexical', filters });
      const facts = signed.hits.find((hit) => hit.citation.headingPath[0] === '落款');
      expect(facts?.text).toMatch(/东川省民政厅\n2025年6月27日/);
    });

    it('lists every letter’s contact line for the phone question asked of the whole corpus', async () => {
      const result = await searchKnowledgeBase(kb, { text: '这份答复的联系电话是多少？', k: 5, mode: 'lexical' });
      expect(result.hits).toHaveLength(5);
      for (const hit of result.hits) expect(hit.text).toMatch(/联系电话：0871-\d{4} \d{4}/);
    });
  });
});
