/**
 * The HTTP API against a real knowledge base built from corpus/ (and a slice
 * of ../shared/corpus when present), on an ephemeral loopback port.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RouteContract } from '../../server/contract/define.ts';
import { documentRoute, documentSimilarRoute, listDocumentsRoute, uploadResult, uploadRoute } from '../../server/contract/documents.ts';
import { askRoute, searchRoute, similarRoute } from '../../server/contract/search.ts';
import { healthRoute } from '../../server/contract/system.ts';
import { callOk, readError, type ErrorReply, type RouteRequest } from '../support/api-client.ts';
import { describeWithSharedCorpus } from '../support/shared-corpus.ts';
import { ADMIN_TOKEN, buildTestKb, PROJECT_CORPUS, SEED_ID, serve, type RunningServer, type TestKb } from '../support/test-server.ts';
import { CLOSING_BLOCK_HEADING } from '../../kb/types.ts';

let t: TestKb;
let srv: RunningServer;
const errorBodies: string[] = [];

beforeAll(async () => {
  t = await buildTestKb();
  srv = await serve(t.kb, t.config);
});

afterAll(async () => {
  await srv?.close();
  t?.close();
});

/** The route's 200 body, typed and checked against the route's contract. */
const ok = <C extends RouteContract>(route: C, request: RouteRequest = {}) => callOk(srv.url, route, request);
const okAt = <C extends RouteContract>(url: string, route: C, request: RouteRequest = {}) => callOk(url, route, request);

/** Any request, by hand: the reply with its body read as the contract's Error (for requests meant to fail). */
async function call(method: string, url: string, init: { json?: unknown; body?: RequestInit['body']; headers?: Record<string, string> } = {}): Promise<ErrorReply> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const reply = await readError(await fetch(`${srv.url}${url}`, { method, headers, ...(body !== undefined ? { body } : {}) }));
  if (reply.status >= 400) errorBodies.push(reply.text);
  return reply;
}

const get = (url: string) => call('GET', url);
const enc = encodeURIComponent;

/** Rebuild a quote from the paragraphs the API serves: independent of the server's own check. */
async function quoteFromServedParagraphs(documentId: string, start: number, end: number): Promise<string> {
  const doc = await ok(documentRoute, { params: { id: documentId } });
  const p = doc.paragraphs.find((x) => start >= x.start && end <= x.end);
  expect(p, `a paragraph containing [${start}, ${end}) of ${documentId}`).toBeTruthy();
  return p!.text.slice(start - p!.start, end - p!.start);
}

function expectFieldError(reply: ErrorReply, status: number, field: string) {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body?.error.field, reply.text).toBe(field);
  expect(reply.body!.error.message.length).toBeGreaterThan(0);
}

/** An upload that failed as a whole still lists each file's result beside the error. */
const failedUploadResults = (reply: ErrorReply) => z.object({ results: z.array(uploadResult) }).parse(JSON.parse(reply.text)).results;

const SAMPLE_REPLY_0093 = '对市人大十七届四次会议第0093号建议的答复-城区防洪排涝.txt';

describe('health', () => {
  it('reports counts, lexical-only mode and its reason', async () => {
    const health = await ok(healthRoute);
    expect(health.documents).toBeGreaterThanOrEqual(10);
    expect(health.passages).toBeGreaterThan(health.documents);
    expect(health.mode).toBe('lexical-only');
    expect(health.lexicalOnlyReason).toContain('向量模型');
    expect(health.index.state).toBe('absent');
    expect(health.uploads.enabled).toBe(true);
  });
});

describe('search', () => {
  it('returns passages with citations, highlight ranges and retriever ranks', async () => {
    const r = await ok(searchRoute, { query: { q: '城区内涝 排水管网', k: '5' } });
    expect(r.hits.length).toBeGreaterThan(0);
    expect(r.hits.length).toBeLessThanOrEqual(5);
    expect(r.lexicalOnly).toBe(true);
    const hit = r.hits[0]!;
    expect(hit.citation.documentId).toMatch(/内涝|防洪/);
    expect(hit.ranks.lexical).toBe(1);
    expect(hit.highlights.length).toBeGreaterThan(0);
    const marked = hit.highlights.map(([s, e]) => hit.text.slice(s, e)).join('|');
    expect(marked).toMatch(/内涝|排水|管网/);
    // The citation's offsets point at the passage's own text in the stored document.
    expect(await quoteFromServedParagraphs(hit.citation.documentId, hit.citation.start, hit.citation.start + 10)).toBe(hit.text.slice(0, 10));
  });

  it('applies the kind filter', async () => {
    const r = await ok(searchRoute, { query: { q: '幼儿园', kind: 'policy', k: '20' } });
    expect(r.hits.length).toBeGreaterThan(0);
    for (const hit of r.hits) expect(hit.kind).toBe('policy');
  });

  it('names the field of every bad parameter', async () => {
    expectFieldError(await get('/api/search'), 400, 'q');
    expectFieldError(await get('/api/search?q=%20%20'), 400, 'q');
    expectFieldError(await get(`/api/search?q=${enc('长'.repeat(1500))}`), 400, 'q');
    // Past Node's 16 KB header limit the HTTP layer itself refuses; the server lives on.
    expect([400, 414, 431]).toContain((await get(`/api/search?q=${enc('长'.repeat(6000))}`)).status);
    expectFieldError(await get('/api/search?q=a&q=b'), 400, 'q');
    expectFieldError(await get('/api/search?q=x&k=-1'), 400, 'k');
    expectFieldError(await get('/api/search?q=x&k=abc'), 400, 'k');
    expectFieldError(await get('/api/search?q=x&k=1e9'), 400, 'k');
    expectFieldError(await get('/api/search?q=x&mode=psychic'), 400, 'mode');
    expectFieldError(await get('/api/search?q=x&kind=memo'), 400, 'kind');
    expectFieldError(await get('/api/search?q=x&from=2024-13'), 400, 'from');
    expectFieldError(await get('/api/search?q=x&to=yesterday'), 400, 'to');
  });
});

describe('ask', () => {
  it('answers from the sample corpus with verified, paragraph-level citations', async () => {
    const r = await ok(askRoute, { body: { question: '城区内涝治理采取了哪些措施？' } });
    expect(r.answer, r.reason).not.toBeNull();
    const answer = r.answer!;
    // 采取了哪些措施 asks for a list: up to five items, one per source paragraph.
    expect(answer.list).toBe(true);
    expect(answer.sentences.length).toBeGreaterThanOrEqual(2);
    expect(answer.sentences.filter((s) => !s.continuation).length).toBeLessThanOrEqual(5);
    for (const c of r.citations) {
      expect(await quoteFromServedParagraphs(c.documentId, c.start, c.end)).toBe(c.quote);
      expect(answer.text).toContain(`${c.quote}[${c.n}]`);
    }
  });

  it('says why when nothing is relevant enough', async () => {
    const r = await ok(askRoute, { body: { question: '火星上的猫喜欢吃什么口味的罐头？' } });
    expect(r.answer).toBeNull();
    expect(r.citations).toEqual([]);
    expect(r.reason).toMatch(/没有/);
  });

  it('keeps other replies’ sign-offs (落款: signature, date, contact, cc) out of a no-answer card, yet finds one when asked who or when', async () => {
    // The sign-offs of unrelated replies match the place name alone; the card lists each document's first hit.
    const none = await ok(askRoute, { body: { question: '东川省对购买新能源汽车有什么补贴？' } });
    expect(none.hits.length).toBeGreaterThanOrEqual(5);
    const firstOfEach = new Map<string, (typeof none.hits)[number]>();
    for (const hit of none.hits) if (!firstOfEach.has(hit.citation.documentId)) firstOfEach.set(hit.citation.documentId, hit);
    expect([...firstOfEach.values()].map((hit) => hit.citation.headingPath[0])).not.toContain(CLOSING_BLOCK_HEADING);
    expect(none.hits.slice(0, 5).map((hit) => hit.citation.headingPath[0])).not.toContain(CLOSING_BLOCK_HEADING);
    for (const question of ['第0352号提案的答复是哪个单位作出的？', '第0352号提案的答复是什么时候作出的？', '第0352号提案答复的联系电话是多少？']) {
      const asked = await ok(askRoute, { body: { question } });
      const signOff = asked.hits.slice(0, 3).find((hit) => hit.citation.headingPath[0] === CLOSING_BLOCK_HEADING);
      expect(signOff?.text, question).toMatch(/东川省医疗保障局\n2025年7月8日/);
    }
    // Demoted, not dropped: the unit's name alone still finds its sign-offs.
    const named = await ok(searchRoute, { query: { q: '东川省医疗保障局', k: '10' } });
    expect(named.hits.map((hit) => hit.citation.headingPath[0])).toContain(CLOSING_BLOCK_HEADING);
  });

  it('rejects malformed requests with the field named', async () => {
    expectFieldError(await call('POST', '/api/ask', { body: '{"question": "留吉率', headers: { 'content-type': 'application/json' } }), 400, 'body');
    expectFieldError(await call('POST', '/api/ask', { json: ['留吉率'] }), 400, 'body');
    expectFieldError(await call('POST', '/api/ask', { json: {} }), 400, 'question');
    expectFieldError(await call('POST', '/api/ask', { json: { question: 42 } }), 400, 'question');
    expectFieldError(await call('POST', '/api/ask', { json: { question: '留吉率', k: 0 } }), 400, 'k');
    expectFieldError(await call('POST', '/api/ask', { json: { question: '留吉率', filters: 'policy' } }), 400, 'filters');
    expectFieldError(await call('POST', '/api/ask', { json: { question: '留吉率', filters: { kind: ['memo'] } } }), 400, 'filters.kind');
    expectFieldError(await call('POST', '/api/ask', { json: { question: '问'.repeat(501) } }), 400, 'question');
    const huge = await call('POST', '/api/ask', { json: { question: 'x'.repeat(2_000_000) } });
    expectFieldError(huge, 413, 'body');
    expect(huge.body!.error.message).toContain('1 MB');
  });
});

describe('precedent finder', () => {
  it('ranks the reply on the same problem first, with aligned paragraphs', async () => {
    const proposal =
      '关于加强城区防洪排涝能力建设的建议。近年来汛期暴雨频发，老城区多处路段积水严重，车辆被淹、商户进水。' +
      '建议加快雨污分流和排水管网改造，打通断头管，提高泵站抽排能力。建议对易涝点逐一排查整治，建立积水预警和应急抢险机制。';
    const r = await ok(similarRoute, { body: { text: proposal, k: 5 } });
    expect(r.parts.length).toBeGreaterThanOrEqual(3);
    const top = r.documents[0]!;
    expect(top.documentId).toBe(SAMPLE_REPLY_0093);
    expect(top.score).toBeGreaterThan(0);
    expect(top.pairs.length).toBeGreaterThanOrEqual(2);
    for (const pair of top.pairs) {
      expect(proposal.slice(pair.query.start, pair.query.end)).toBe(pair.query.text);
      const c = pair.match.citation;
      expect(await quoteFromServedParagraphs(c.documentId, c.start, c.end)).toBe(pair.match.text);
    }
  });

  it('finds documents similar to a stored one, leaving it out', async () => {
    const r = await ok(documentSimilarRoute, { params: { id: SAMPLE_REPLY_0093 }, query: { k: '3' } });
    expect(r.documents.length).toBeGreaterThan(0);
    expect(r.documents.map((d) => d.documentId)).not.toContain(SAMPLE_REPLY_0093);
    expect(r.documents[0]!.documentId).toMatch(/内涝|防洪/);
    expect((await get(`/api/documents/${enc('no/such.txt')}/similar`)).status).toBe(404);
  });

  it('rejects an empty or oversized text', async () => {
    expectFieldError(await call('POST', '/api/similar', { json: { text: '' } }), 400, 'text');
    expectFieldError(await call('POST', '/api/similar', { json: { text: '提'.repeat(20_001) } }), 400, 'text');
    expectFieldError(await call('POST', '/api/similar', { json: { text: '提案', k: 'ten' } }), 400, 'k');
  });
});

describe('documents', () => {
  it('lists with paging and filters', async () => {
    const all = await ok(listDocumentsRoute, { query: { limit: '3' } });
    expect(all.documents.length).toBe(3);
    expect(all.total).toBeGreaterThanOrEqual(10);
    const next = await ok(listDocumentsRoute, { query: { limit: '3', offset: '3' } });
    expect(next.documents.map((d) => d.id)).not.toEqual(all.documents.map((d) => d.id));
    const replies = await ok(listDocumentsRoute, { query: { kind: 'proposal-reply,suggestion-reply', limit: '200' } });
    expect(replies.total).toBeGreaterThanOrEqual(5);
    for (const d of replies.documents) expect(['proposal-reply', 'suggestion-reply']).toContain(d.kind);
    expectFieldError(await get('/api/documents?limit=0'), 400, 'limit');
    expectFieldError(await get('/api/documents?offset=-3'), 400, 'offset');
  });

  it('serves one document with paragraphs, heading paths and pages, and never the server path', async () => {
    const pdfId = fs.readdirSync(PROJECT_CORPUS).find((f) => f.endsWith('.pdf'))!;
    const r = await ok(documentRoute, { params: { id: pdfId } });
    expect(r.id).toBe(pdfId);
    expect(r.format).toBe('pdf');
    expect(r.hasFile).toBe(true);
    // The contract's Document is strict: a sourcePath in the response would have failed the check above.
    expect('sourcePath' in r).toBe(false);
    expect(r.paragraphs.length).toBeGreaterThan(5);
    expect(r.paragraphs.some((p) => p.pages && p.pages[0] >= 2)).toBe(true);
    expect(r.paragraphs.some((p) => p.headingPath.length > 0)).toBe(true);
    const file = await fetch(`${srv.url}/api/documents/${enc(pdfId)}/file`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await file.arrayBuffer()).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const docxId = fs.readdirSync(PROJECT_CORPUS).find((f) => f.endsWith('.docx'))!;
    const docx = await fetch(`${srv.url}/api/documents/${enc(docxId)}/file`);
    expect(docx.headers.get('content-type')).toContain('wordprocessingml');
    await docx.arrayBuffer();
  });

  it('404s unknown ids, on every document route', async () => {
    for (const url of ['/api/documents/nope.txt', `/api/documents/${enc('a/b#3')}/file`, '/api/documents/nope.txt/similar']) {
      const r = await get(url);
      expect(r.status, url).toBe(404);
      expect(r.body?.error.message).toBeTruthy();
    }
    const unknownRoute = await get('/api/no-such-endpoint');
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.body?.error.message).toBe('没有这个接口：GET /api/no-such-endpoint');
    const unencodedId = await get('/api/documents/a/b/c');
    expect(unencodedId.status).toBe(404);
    expect(unencodedId.body?.error.message).toMatch(/GET \/api\/documents\/a\/b\/c.*encodeURIComponent/);
  });

  it('names the id when its percent-encoding is broken', async () => {
    expectFieldError(await get('/api/documents/%E0%A4%A/file'), 400, 'id');
  });
});

describe('upload and delete', () => {
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const form = (...files: Array<[string, string | Uint8Array]>) => {
    const data = new FormData();
    for (const [name, content] of files) data.append('files', new Blob([content]), name);
    return data;
  };
  const uploadText =
    '关于推进老旧小区雨水花园建设的答复\n\n一、总体情况\n\n我市今年建成雨水花园十二处，新增下凹式绿地三点五万平方米，海绵城市示范片区面积达到二十平方公里。\n';

  it('requires the admin token', async () => {
    const none = await call('POST', '/api/documents', { body: form(['a.txt', uploadText]) });
    expectFieldError(none, 401, 'authorization');
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expectFieldError(await call('POST', '/api/documents', { body: form(['a.txt', uploadText]), headers: { authorization: 'Bearer wrong' } }), 401, 'authorization');
    expectFieldError(await call('DELETE', `/api/documents/${enc(SAMPLE_REPLY_0093)}`), 401, 'authorization');
    expect((await get(`/api/documents/${enc(SAMPLE_REPLY_0093)}`)).status).toBe(200);
  });

  it('ingests uploads (UTF-8 names kept), answers from them, serves and deletes them', async () => {
    const r = await ok(uploadRoute, { form: form(['雨水花园答复.txt', uploadText], ['病毒.exe', 'MZ']), headers: auth });
    const [added, rejected] = r.results;
    expect(added!.status).toBe('added');
    expect(added!.file).toBe('雨水花园答复.txt');
    expect(added!.documentId).toBe('uploads/雨水花园答复.txt');
    expect(rejected!.status).toBe('rejected');
    expect(rejected!.error).toContain('.exe');
    expect(fs.existsSync(path.join(t.dataDir, 'uploads', '雨水花园答复.txt'))).toBe(true);

    const search = await ok(searchRoute, { query: { q: '雨水花园', k: '3' } });
    expect(search.hits[0]!.citation.documentId).toBe('uploads/雨水花园答复.txt');
    const again = await ok(uploadRoute, { form: form(['雨水花园答复.txt', uploadText]), headers: auth });
    expect(again.results[0]!.status).toBe('unchanged');
    const file = await fetch(`${srv.url}/api/documents/${enc('uploads/雨水花园答复.txt')}/file`);
    expect(file.headers.get('content-type')).toContain('text/plain');
    expect(await file.text()).toBe(uploadText);

    const del = await call('DELETE', `/api/documents/${enc('uploads/雨水花园答复.txt')}`, { headers: auth });
    expect(del.status).toBe(200);
    expect(fs.existsSync(path.join(t.dataDir, 'uploads', '雨水花园答复.txt'))).toBe(false);
    expect((await get(`/api/documents/${enc('uploads/雨水花园答复.txt')}`)).status).toBe(404);
    expect((await call('DELETE', `/api/documents/${enc('uploads/雨水花园答复.txt')}`, { headers: auth })).status).toBe(404);
    const after = await ok(searchRoute, { query: { q: '雨水花园', k: '3' } });
    expect(after.hits.map((h) => h.citation.documentId)).not.toContain('uploads/雨水花园答复.txt');
  });

  it('answers 404 for the file of a document whose original is gone', async () => {
    await ok(uploadRoute, { form: form(['会消失的文件.txt', uploadText.replace('十二处', '十三处')]), headers: auth });
    fs.rmSync(path.join(t.dataDir, 'uploads', '会消失的文件.txt'));
    const file = await get(`/api/documents/${enc('uploads/会消失的文件.txt')}/file`);
    expect(file.status).toBe(404);
    expect(file.body?.error.message).toContain('原始文件');
  });

  it('413 over the size limit, 415 for unsupported types, 422 for a corrupt file, 400 for no file', async () => {
    const big = new Uint8Array(t.config.uploadMaxBytes + 10).fill(0x41);
    const tooBig = await call('POST', '/api/documents', { body: form(['big.txt', big]), headers: auth });
    expectFieldError(tooBig, 413, 'files');
    expect(fs.readdirSync(path.join(t.dataDir, 'uploads', '.incoming'))).toEqual([]);
    const unsupported = await call('POST', '/api/documents', { body: form(['x.exe', 'MZ'], ['y.zip', 'PK']), headers: auth });
    expectFieldError(unsupported, 415, 'files');
    expect(failedUploadResults(unsupported)).toHaveLength(2);
    const corrupt = await call('POST', '/api/documents', { body: form(['坏文件.pdf', '%PDF-1.7 this is not a pdf']), headers: auth });
    expectFieldError(corrupt, 422, 'files');
    expect(failedUploadResults(corrupt)[0]!.status).toBe('failed');
    expect(corrupt.body?.error.message).toMatch(/^坏文件\.pdf：PDF/);
    expect(fs.existsSync(path.join(t.dataDir, 'uploads', '坏文件.pdf'))).toBe(false);
    expectFieldError(await call('POST', '/api/documents', { body: new FormData(), headers: auth }), 400, 'files');
    const broken = await call('POST', '/api/documents', {
      body: '--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nunterminated',
      headers: { ...auth, 'content-type': 'multipart/form-data; boundary=xyz' },
    });
    expect(broken.status).toBe(400);
  });
});

describe('generated answers through an OpenAI-compatible endpoint', () => {
  it('sends numbered passages, accepts only retrieved citations and flags uncited sentences', async () => {
    const seen: Array<{ url: string | undefined; auth: string | undefined; body: { model: string; messages: Array<{ content: string }> } }> = [];
    const fake = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        seen.push({ url: req.url, auth: req.headers.authorization, body: JSON.parse(raw) });
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            choices: [{ message: { role: 'assistant', content: '城区正在改造排水管网[1]。易涝点将逐一整治。[2][99]另外天气会变好。' } }],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', () => resolve()));
    const port = (fake.address() as AddressInfo).port;
    const config = { ...t.config, llmUrl: `http://127.0.0.1:${port}/v1`, llmModel: 'fake-model', llmKey: 'sk-test' };
    const llmServer = await serve(t.kb, config);
    try {
      const body = await okAt(llmServer.url, askRoute, { body: { question: '城区内涝治理采取了哪些措施？', k: 4 } });
      expect(seen).toHaveLength(1);
      const call = seen[0]!;
      expect(call.url).toBe('/v1/chat/completions');
      expect(call.auth).toBe('Bearer sk-test');
      expect(call.body.model).toBe('fake-model');
      const prompt = call.body.messages.map((m) => m.content).join('\n');
      expect(prompt).toContain('[1]');
      expect(prompt).toContain(body.hits[0]!.text);
      expect(prompt).not.toContain('[5]');

      const g = body.generated;
      if (!g || !('text' in g)) throw new Error(`no generated answer: ${JSON.stringify(g)}`);
      expect(g.model).toBe('fake-model');
      expect(g.invalidCitations).toEqual([99]);
      expect(g.sentences.map((s) => s.citations)).toEqual([[1], [2], []]);
      expect(g.sentences.map((s) => s.uncited)).toEqual([false, false, true]);
      expect(g.uncitedSentences).toBe(1);
      expect(g.citations.map((c) => c.n)).toEqual([1, 2]);
      for (const c of g.citations) expect(await quoteFromServedParagraphs(c.documentId, c.start, c.start + 8)).toBe(c.quote.slice(0, 8));
      // The extractive answer is still there beside the generated one.
      expect(body.answer).not.toBeNull();
    } finally {
      await llmServer.close();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });

  it('reports an unreachable endpoint as an error value, not a failed request', async () => {
    const config = { ...t.config, llmUrl: 'http://127.0.0.1:9/v1', llmModel: 'nobody' };
    const s = await serve(t.kb, config);
    try {
      const body = await okAt(s.url, askRoute, { body: { question: '城区内涝治理' } });
      expect(body.generated && 'error' in body.generated ? body.generated.error : undefined).toContain('调用大模型失败');
    } finally {
      await s.close();
    }
  });
});

describeWithSharedCorpus('acceptance on the shared corpus slice', () => {
  it('answers 留吉率 with the seed reply sentence under heading 二、, quote verified', async () => {
    const r = await ok(askRoute, { body: { question: '吉林省高校毕业生留吉率是多少？' } });
    expect(r.answer, r.reason).not.toBeNull();
    const first = r.citations[0]!;
    expect(first.quote).toMatch(/留吉率超过\s*60%/);
    expect(first.documentId).toBe(SEED_ID);
    expect(first.headingPath[0]).toMatch(/^二、/);
    expect(r.answer!.sentences[0]!.text).toBe(first.quote);
    expect(await quoteFromServedParagraphs(first.documentId, first.start, first.end)).toBe(first.quote);
  });

  it('finds the seed reply among the first three precedents for a new proposal on bringing talent home', async () => {
    const proposal = [
      '关于引导在外人才回流、留住本省高校毕业生的提案',
      '近年来，我省每年有大批高校毕业生到沿海发达地区就业，在外工作的本省籍人才回乡发展的意愿虽强，但缺少渠道和平台。',
      '建议实施“人才回乡”计划，建立在外人才信息库，对回乡创业就业的人员在住房、子女入学、职称评定等方面给予支持。',
      '建议扩大高校毕业生在省内就业的岗位供给，提高毕业生留省比例，支持高校与企业共建实习基地和科研平台。',
      '建议优化创新创业环境，对引进的高层次人才给予项目资金支持，让人才愿意来、留得住。',
    ].join('\n');
    const r = await ok(similarRoute, { body: { text: proposal, k: 10 } });
    const ids = r.documents.map((d) => d.documentId);
    expect(ids.slice(0, 3)).toContain(SEED_ID);
    const seed = r.documents.find((d) => d.documentId === SEED_ID)!;
    expect(seed.pairs.length).toBeGreaterThanOrEqual(2);
  });
});

describe('robustness', () => {
  it('never leaks a stack trace and stays up after all the bad requests above', async () => {
    expect((await ok(healthRoute)).status).toBe('ok');
    expect(errorBodies.length).toBeGreaterThan(20);
    for (const body of errorBodies) {
      expect(body).not.toMatch(/\bat\s+\S+\s+\(|node_modules|\.ts:\d+|Error:/);
    }
  });
});
