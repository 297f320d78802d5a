/**
 * Issue 13, bounded reads: a document read returns one page of paragraphs and
 * reads only that page from SQLite. The proof that rows outside the page are
 * never read: they are made unreadable (their heading path is no longer JSON)
 * in the store file itself, and the page still comes back whole.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../server/contract/fields.ts';
import { STORE_FILE } from '../../kb/store/store.ts';
import { EXCERPT_MARGIN_CHARS, WHOLE_DOCUMENT_CHARS } from '../../kb/kb.ts';
import { ADMIN_TOKEN, buildTestKb, serve, type RunningServer, type TestKb } from '../support/test-server.ts';

const PARAGRAPHS = 6000;
/** A character outside the BMP: SQLite counts it as one character, JavaScript as two. */
const ASTRAL = '\u{20000}';
const line = (i: number) => `第${i}项事项按规定办理，办理结果及时公开。`;
/** A web page of PARAGRAPHS numbered paragraphs after its title (paragraph i + 1 is line(i)). */
const longPage = (astralAt?: number) =>
  `<html><body><div class="content"><p>关于印发长文的通知</p>${Array.from({ length: PARAGRAPHS }, (_, i) => `<p>${i === astralAt ? ASTRAL : ''}${line(i)}</p>`).join('')}</div></body></html>`;

interface DocumentBody {
  paragraphs: Array<{ index: number; text: string; start: number }>;
  paragraphOffset: number;
  paragraphTotal: number;
}

describe('a long document is read a page at a time, at the SQL level', () => {
  let test: TestKb;
  let server: RunningServer;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const upload = async (name: string, content: string) => {
    const form = new FormData();
    form.append('files', new Blob([content]), name);
    const response = await fetch(`${server.url}/api/documents`, { method: 'POST', body: form, headers: auth });
    expect(response.status).toBe(200);
    return `uploads/${name}`;
  };
  /** Makes every paragraph of the document outside [keepFrom, keepTo] unreadable; the returned function undoes it. */
  const poisonOutside = (id: string, keepFrom: number, keepTo: number): (() => void) => {
    const db = new Database(path.join(test.dataDir, STORE_FILE));
    const outside = 'doc_key = (SELECT doc_key FROM documents WHERE id = ?) AND (idx < ? OR idx > ?)';
    try {
      const saved = db.prepare(`SELECT doc_key, idx, heading_path FROM paragraphs WHERE ${outside}`).all(id, keepFrom, keepTo) as Array<{ doc_key: number; idx: number; heading_path: string }>;
      expect(saved.length).toBeGreaterThan(0);
      db.prepare(`UPDATE paragraphs SET heading_path = 'not json' WHERE ${outside}`).run(id, keepFrom, keepTo);
      return () => {
        const restoreDb = new Database(path.join(test.dataDir, STORE_FILE));
        const restore = restoreDb.prepare('UPDATE paragraphs SET heading_path = ? WHERE doc_key = ? AND idx = ?');
        restoreDb.transaction(() => saved.forEach((r) => restore.run(r.heading_path, r.doc_key, r.idx)))();
        restoreDb.close();
      };
    } finally {
      db.close();
    }
  };
  const read = async (id: string, query = '') => {
    const response = await fetch(`${server.url}/api/documents/${encodeURIComponent(id)}${query}`);
    const text = await response.text();
    return { status: response.status, bytes: Buffer.byteLength(text), body: JSON.parse(text) as DocumentBody };
  };

  beforeAll(async () => {
    test = await buildTestKb({ shared: false, env: { KB_UPLOAD_MAX_BYTES: '4000000' } });
    server = await serve(test.kb, test.config);
  });
  afterAll(async () => {
    await server?.close();
    test?.close();
  });

  it('answers the page holding a paragraph without reading any paragraph outside it', async () => {
    const id = await upload('长文.html', longPage());
    const whole = await read(id, '?paragraph=4500');
    expect(whole.body.paragraphTotal).toBe(PARAGRAPHS + 1);
    const restore = poisonOutside(id, 4000, 5999);
    for (const query of ['?paragraph=4500', '?paragraphOffset=4000', `?at=${whole.body.paragraphs[1500]!.start + 3}`]) {
      const { status, body, bytes } = await read(id, query);
      expect(status).toBe(200);
      expect(body.paragraphOffset).toBe(4000);
      expect(body.paragraphs.map((p) => p.index)).toEqual(Array.from({ length: 2000 }, (_, i) => 4000 + i));
      expect(body.paragraphs.map((p) => p.text)).toEqual(whole.body.paragraphs.map((p) => p.text));
      expect(body.paragraphs[0]!.text).toBe(line(3999));
      // 2,000 short paragraphs with their metadata: a fixed bound, whatever the document's length.
      expect(bytes).toBeLessThan(2000 * 300);
    }
    // The unreadable rows are really there: the first page meets them.
    expect((await read(id)).status).toBe(500);
    restore();
  });

  it('slices paragraph text right after a character outside the BMP (SQLite counts it once, JavaScript twice)', async () => {
    const id = await upload('长文二.html', longPage(10));
    const { status, body } = await read(id, '?paragraph=4321');
    expect(status).toBe(200);
    expect(body.paragraphs[321]!.text).toBe(line(4320));
    const first = await read(id, '?paragraphLimit=20');
    expect(first.body.paragraphs[11]!.text).toBe(`${ASTRAL}${line(10)}`);
    expect(first.body.paragraphs[12]!.text).toBe(line(11));
  });

  it('stops a page at the character budget, and similar documents read only the opening', async () => {
    const id = await upload('长文三.html', longPage());
    const page = test.kb.documentPage(id, { offset: 100, limit: 2000, maxChars: 100 })!;
    expect(page.paragraphs.length).toBe(Math.ceil(100 / line(100).length));
    expect(test.kb.documentPage(id, { offset: 100, limit: 2000, maxChars: 0 })!.paragraphs.length).toBe(1);
    // The opening (LIMITS.similarChars characters) ends well before paragraph 2,000.
    expect(2000 * line(1000).length).toBeGreaterThan(LIMITS.similarChars);
    const restore = poisonOutside(id, 0, 1999);
    const response = await fetch(`${server.url}/api/documents/${encodeURIComponent(id)}/similar?k=3`);
    expect(response.status).toBe(200);
    restore();
  });

  it('answers, finds precedents and drafts from a long document reading only the paragraphs around the hit', async () => {
    // Paragraph 4501 holds the one sentence these requests are about; 6,000 paragraphs are far beyond WHOLE_DOCUMENT_CHARS.
    const fact = '蓝鲸湾码头夜间施工许可由区住房和城乡建设局负责审批，办理时限为五个工作日。';
    const id = await upload('长文四.html', longPage().replace(`<p>${line(4500)}</p>`, `<p>${fact}</p>`));
    expect(PARAGRAPHS * line(1).length).toBeGreaterThan(WHOLE_DOCUMENT_CHARS + 2 * EXCERPT_MARGIN_CHARS);
    // The margin either side of the hit is EXCERPT_MARGIN_CHARS characters: about 480 of these paragraphs.
    const restore = poisonOutside(id, 3900, 5100);
    try {
      const post = async (route: string, body: unknown) => {
        const response = await fetch(`${server.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
        const text = await response.text();
        expect(response.status, `${route}: ${text.slice(0, 300)}`).toBe(200);
        return text;
      };
      const asked = JSON.parse(await post('/api/ask', { question: '蓝鲸湾码头夜间施工许可由哪个部门审批？' })) as { answer: { text: string } | null; citations: Array<{ documentId: string; quote: string }> };
      expect(asked.citations.some((c) => c.documentId === id && c.quote.includes('蓝鲸湾'))).toBe(true);
      // Words of the one paragraph only (办理 or 公开 would hit every paragraph, 关于 the title, and each hit is read around it).
      const proposal = '建议明确蓝鲸湾码头夜间施工许可的审批部门。一、建议缩短蓝鲸湾码头夜间施工许可的审批时间。';
      expect(await post('/api/precedents', { text: proposal, repliesOnly: false })).toContain(fact);
      expect(await post('/api/similar', { text: proposal })).toContain(id);
      expect(await post('/api/draft', { text: proposal, repliesOnly: false })).not.toBe('');
    } finally {
      restore();
    }
  });

  it('states the caps in the OpenAPI document', async () => {
    const openapi = JSON.stringify(await (await fetch(`${server.url}/api/openapi.json`)).json());
    expect(openapi).toMatch(/"name":"paragraphLimit"[^}]*"maximum":2000/);
    expect(openapi).toContain(`${LIMITS.maxParagraphChars} 字`);
    expect(openapi).toMatch(/"name":"at"/);
  });
});
