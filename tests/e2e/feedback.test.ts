/**
 * Readers' 👍/👎 on answers: stored in the knowledge base, bounded for
 * anonymous posting (size caps, a per-address rate, a total), checked against
 * the documents (a made-up quote never reaches the evaluation export), never
 * touching what search reads, and exported as JSONL by the admin route and
 * `npm run kb -- feedback`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KnowledgeBase } from '../../kb/kb.ts';
import { askRoute, searchRoute } from '../../server/contract/search.ts';
import { feedbackExportRoute, feedbackRoute } from '../../server/contract/feedback.ts';
import { LIMITS } from '../../server/contract/fields.ts';
import { rateLimiter } from '../../server/routes/feedback.ts';
import { callOk, readError, send } from '../support/api-client.ts';
import { ADMIN_TOKEN, serve, servedTestKb } from '../support/test-server.ts';

const run = promisify(execFile);
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

const live = servedTestKb();

async function exportLines(url: string): Promise<Array<Record<string, unknown>>> {
  const response = await send(url, feedbackExportRoute, { headers: admin });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/application\/x-ndjson/);
  const text = await response.text();
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('feedback on answers', () => {
  it('stores a verdict on a real answer with its verified quotes, and exports it as an evaluation line', async () => {
    const ask = await callOk(live.srv.url, askRoute, { body: { question: '城区内涝治理采取了哪些措施？' } });
    expect(ask.answer).not.toBeNull();
    const citations = ask.citations.map(({ documentId, title, start, end, quote, pages }) => ({ documentId, title, start, end, quote, ...(pages ? { pages } : {}) }));
    const stored = await callOk(live.srv.url, feedbackRoute, {
      body: { question: ask.question, answer: ask.answer!.text, citations, verdict: 'up', mode: ask.mode },
    });
    expect(stored.id).toBeGreaterThan(0);
    await callOk(live.srv.url, feedbackRoute, {
      body: { question: '东川省对购买新能源汽车有什么补贴？', answer: null, citations: [], verdict: 'down', correction: '  知识库里没有，应当答“没有”  ', mode: 'lexical' },
    });

    const lines = await exportLines(live.srv.url);
    const up = lines.find((l) => l.id === `feedback-${stored.id}`)!;
    expect(up).toMatchObject({ question: ask.question, answer: ask.answer!.text, verdict: 'up', mode: ask.mode, file: citations[0]!.documentId });
    expect(up.citations).toEqual(citations);
    expect(Date.parse(up.time as string)).not.toBeNaN();
    const down = lines.find((l) => l.question === '东川省对购买新能源汽车有什么补贴？')!;
    expect(down).toMatchObject({ answer: null, verdict: 'down', correction: '知识库里没有，应当答“没有”' });
    expect(down).not.toHaveProperty('file');
    expect(down).not.toHaveProperty('model'); // lexical-only: no model took part
  });

  it('refuses quotes the knowledge base does not hold, naming the field', async () => {
    const ask = await callOk(live.srv.url, askRoute, { body: { question: '城区内涝治理采取了哪些措施？' } });
    const c = ask.citations[0]!;
    const base = { question: ask.question, answer: ask.answer!.text, verdict: 'up', mode: ask.mode };
    const forged = await readError(await send(live.srv.url, feedbackRoute, {
      body: { ...base, citations: [{ documentId: c.documentId, title: c.title, start: c.start, end: c.end, quote: `${c.quote}（伪造）` }] },
    }));
    expect(forged.status).toBe(400);
    expect(forged.body?.error.field).toBe('citations.0.quote');
    const unknown = await readError(await send(live.srv.url, feedbackRoute, {
      body: { ...base, citations: [{ documentId: 'no/such.txt', title: 'x', start: 0, end: 1, quote: 'x' }] },
    }));
    expect(unknown.status).toBe(400);
    expect(unknown.body?.error.field).toBe('citations.0.documentId');
  });

  it('bounds what an anonymous post may carry', async () => {
    const base = { question: '问题', answer: null, citations: [], verdict: 'down', mode: 'lexical' };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, correction: '更'.repeat(LIMITS.feedbackCorrectionChars + 1) }, 'correction'],
      [{ ...base, answer: '答'.repeat(LIMITS.feedbackAnswerChars + 1) }, 'answer'],
      [{ ...base, question: '问'.repeat(LIMITS.questionChars + 1) }, 'question'],
      [{ ...base, verdict: 'meh' }, 'verdict'],
      [{ ...base, mode: undefined }, 'mode'],
      [{ ...base, citations: Array.from({ length: LIMITS.feedbackCitations + 1 }, () => ({ documentId: 'a', title: 'a', start: 0, end: 1, quote: 'a' })) }, 'citations'],
      [{ ...base, extra: 1 }, 'body'],
    ];
    for (const [body, field] of cases) {
      const reply = await readError(await send(live.srv.url, feedbackRoute, { body }));
      expect(reply.status, field).toBe(400);
      expect(reply.body?.error.field ?? 'body', field).toBe(field);
    }
    const huge = await fetch(`${live.srv.url}/api/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...base, correction: 'x'.repeat(2_000_000) }) });
    expect(huge.status).toBe(413);
  });

  it('exports only with the admin token', async () => {
    expect((await send(live.srv.url, feedbackExportRoute)).status).toBe(401);
    expect((await send(live.srv.url, feedbackExportRoute, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('never changes what search finds', async () => {
    const query = { q: '城区内涝 排水管网', k: '10' };
    const before = await callOk(live.srv.url, searchRoute, { query });
    const stats = live.t.kb.stats();
    const base = { answer: null, citations: [], verdict: 'down', mode: 'lexical', correction: '城区内涝 排水管网 城区内涝 排水管网' };
    // Below the per-address rate; the contents repeat the query's words, which must not reach the index.
    for (let i = 0; i < 10; i++) await callOk(live.srv.url, feedbackRoute, { body: { ...base, question: `城区内涝 排水管网 ${i}` } });
    const after = await callOk(live.srv.url, searchRoute, { query });
    expect(after.hits.map((h) => [h.passageId, h.score])).toEqual(before.hits.map((h) => [h.passageId, h.score]));
    const { bytesOnDisk: _b1, ...counts } = stats;
    const { bytesOnDisk: _b2, ...countsAfter } = live.t.kb.stats();
    expect(countsAfter).toEqual(counts);
  });
});

describe('feedback limits', () => {
  it('allows a client address so many posts per sliding minute', () => {
    let now = 0;
    const allow = rateLimiter(3, () => now);
    expect([allow('a'), allow('a'), allow('a'), allow('a')]).toEqual([true, true, true, false]);
    expect(allow('b')).toBe(true);
    now = 59_999;
    expect(allow('a')).toBe(false);
    now = 60_000;
    expect(allow('a')).toBe(true);
  });

  it('answers 429 past the rate and past the store total, and the CLI exports what was kept', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-feedback-'));
    const config = { ...live.t.config, dataDir, feedbackMax: 3, feedbackPerMinute: 2 };
    const kb = await KnowledgeBase.open(config, { embedder: null, log: () => {} });
    const server = await serve(kb, config);
    try {
      const body = (i: number) => ({ question: `问题${i}`, answer: null, citations: [], verdict: 'down', mode: 'lexical' });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await send(server.url, feedbackRoute, { body: body(i) })).status);
      expect(statuses).toEqual([200, 200, 429]);
      // The store total: a server without the rate limit reaches it.
      await server.close();
      const unlimited = await serve(kb, { ...config, feedbackPerMinute: 1000 });
      try {
        for (let i = 2; i < 5; i++) statuses.push((await send(unlimited.url, feedbackRoute, { body: body(i) })).status);
        expect(statuses.slice(3)).toEqual([200, 429, 429]);
        const full = await readError(await send(unlimited.url, feedbackRoute, { body: body(9) }));
        expect(full.body?.error.message).toMatch(/KB_FEEDBACK_MAX/);
      } finally {
        await unlimited.close();
      }
    } finally {
      kb.close();
    }
    const out = path.join(dataDir, 'feedback.jsonl');
    const { stderr } = await run('npx', ['tsx', 'cli/kb.ts', 'feedback', '--data', dataDir, '--out', out], { env: { ...process.env, KB_LEXICAL_ONLY: '1' } });
    expect(stderr).toMatch(/3 条评价/);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { question: string; verdict: string });
    expect(lines.map((l) => l.question)).toEqual(['问题0', '问题1', '问题2']);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
