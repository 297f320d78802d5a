import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../kb/config.ts';
import { loadEmbedder, modelFiles, TransformersEmbedder } from '../../kb/index/vector/embedder.ts';
import { BGE_SMALL_ZH } from '../../kb/index/vector/profiles.ts';
import type { Embedder } from '../../kb/types.ts';
import { makeTinyModelDir } from '../../bench/random-bert.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-embedder-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

async function tinyConfig(extra: Record<string, string> = {}): Promise<Config> {
  const { modelDir, modelId } = await makeTinyModelDir();
  return loadConfig({ KB_MODEL_DIR: modelDir, KB_MODEL: modelId, KB_MODEL_DOWNLOAD: '0', ...extra });
}

async function tinyEmbedder(extra: Record<string, string> = {}): Promise<Embedder> {
  const load = await loadEmbedder(await tinyConfig(extra));
  if (!load.embedder) throw new Error(load.reason);
  return load.embedder;
}

const TEXTS = [
  '关于进一步做好高校毕业生就业创业工作的通知',
  '吉林省人力资源和社会保障厅对省政协十三届二次会议第26号委员提案的答复',
  '支持留学回国人员来吉创新创业，落实职称评聘倾斜政策。',
  'The quick brown fox 2024年第3号',
];

describe('loadEmbedder with the generated model', () => {
  let embedder: Embedder;
  const logs: string[] = [];
  beforeAll(async () => {
    const load = await loadEmbedder(await tinyConfig(), (msg) => logs.push(msg));
    if (!load.embedder) throw new Error(load.reason);
    embedder = load.embedder;
  });

  it('coalesces the queries of concurrent requests into one model call, each getting its own vector', async () => {
    const alone: Float32Array[] = [];
    for (const text of TEXTS) alone.push((await embedder.embedQueries([text]))[0]!);
    const { calls } = (embedder as TransformersEmbedder).queryCalls;
    const together = await Promise.all(TEXTS.map((text) => embedder.embedQueries([text])));
    // The first call runs at once; the three that arrive while it runs share the next.
    expect((embedder as TransformersEmbedder).queryCalls.calls - calls).toBe(2);
    together.forEach(([vector], i) => expect(dot(vector!, alone[i]!)).toBeGreaterThan(0.9999));
  });

  it('answers short queries first and never pads them to a long one: a model call blocks the event loop', async () => {
    const long = '加快既有住宅加装电梯，完善财政补贴和费用分摊机制。'.repeat(40);
    const { calls } = (embedder as TransformersEmbedder).queryCalls;
    const done: string[] = [];
    const first = embedder.embedQueries([TEXTS[0]!]).then(() => done.push('first'));
    // Arrive while the first call runs: the short ones go together before the long one, each long one alone.
    const waiting = [long, TEXTS[1]!, long.slice(0, 800), TEXTS[2]!].map((text, i) => embedder.embedQueries([text]).then(() => done.push(`q${i}`)));
    await Promise.all([first, ...waiting]);
    expect(done[0]).toBe('first');
    expect(done.slice(1, 3).sort()).toEqual(['q1', 'q3']);
    expect(done.slice(3)).toEqual(['q2', 'q0']);
    expect((embedder as TransformersEmbedder).queryCalls.calls - calls).toBe(4);
  });

  it('reports the model id and the dimension from the model, and logs the load', () => {
    expect(embedder.modelId).toBe('test/tiny-bert');
    expect(embedder.dimension).toBe(64);
    expect(logs.join('\n')).toMatch(/test\/tiny-bert \(q8, 64 dimensions, cls pooling\)/);
  });

  it('returns one L2-normalised vector of the model dimension per text', async () => {
    const vectors = await embedder.embedPassages(TEXTS);
    expect(vectors).toHaveLength(TEXTS.length);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(64);
      expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
    }
    expect(await embedder.embedPassages([])).toEqual([]);
  });

  it('gives the same vector for the same text, alone or padded in a batch, and different vectors for different texts', async () => {
    const [alone] = await embedder.embedPassages([TEXTS[0]!]);
    const [again] = await embedder.embedPassages([TEXTS[0]!]);
    expect(Array.from(again!)).toEqual(Array.from(alone!));
    const batch = await embedder.embedPassages(TEXTS);
    expect(dot(batch[0]!, alone!)).toBeGreaterThan(0.999);
    // Batches are formed by length internally; results still come back in input order.
    for (const [i, text] of TEXTS.entries()) expect(dot(batch[i]!, (await embedder.embedPassages([text]))[0]!)).toBeGreaterThan(0.999);
    for (let i = 0; i < batch.length; i++) {
      for (let j = i + 1; j < batch.length; j++) expect(dot(batch[i]!, batch[j]!)).toBeLessThan(0.99);
    }
  });

  it('prefixes queries with the bge instruction and leaves passages alone (the profile an unknown model borrows by default)', async () => {
    expect(embedder.profile).toMatchObject({ pooling: 'cls', queryPrefix: BGE_SMALL_ZH.profile.queryPrefix, passagePrefix: '', dimension: 64 });
    const [query] = await embedder.embedQueries([TEXTS[2]!]);
    const [passage] = await embedder.embedPassages([TEXTS[2]!]);
    const [prefixed] = await embedder.embedPassages([embedder.profile.queryPrefix + TEXTS[2]!]);
    expect(dot(query!, passage!)).toBeLessThan(0.999);
    expect(dot(query!, prefixed!)).toBeGreaterThan(0.9999);
  });

  it('embeds in batches of KB_EMBED_BATCH with the same results as one call', async () => {
    const small = await tinyEmbedder({ KB_EMBED_BATCH: '3' });
    const texts = [...TEXTS, ...TEXTS.map((t) => t + '。'), '短'];
    const batched = await small.embedPassages(texts);
    const whole = await embedder.embedPassages(texts);
    expect(batched).toHaveLength(texts.length);
    // int8 dynamic quantisation scales activations per batch, so batch mates move a vector very slightly.
    batched.forEach((v, i) => expect(dot(v, whole[i]!)).toBeGreaterThan(0.999));
  });

  it('truncates text longer than 512 tokens instead of failing on the position table', async () => {
    const long = '创新创业'.repeat(400);
    const [v, prefix] = await embedder.embedPassages([long, long.slice(0, 510)]);
    expect(v!.length).toBe(64);
    expect(dot(v!, prefix!)).toBeGreaterThan(0.9999); // everything past token 510 is cut
  });

  it('accepts an absolute model folder as KB_MODEL', async () => {
    const { modelDir, modelId } = await makeTinyModelDir();
    const folder = path.join(modelDir, modelId);
    const load = await loadEmbedder(loadConfig({ KB_MODEL: folder, KB_MODEL_DIR: path.join(tmp, 'unused'), KB_MODEL_DOWNLOAD: '0' }));
    expect(load.reason).toBeUndefined();
    expect(load.embedder!.modelId).toBe(folder);
    const [a] = await load.embedder!.embedPassages([TEXTS[0]!]);
    const [b] = await embedder.embedPassages([TEXTS[0]!]);
    expect(Array.from(a!)).toEqual(Array.from(b!));
  });

  it('loads the float32 file when KB_MODEL_QUANTIZED=0, close to the int8 one', async () => {
    const fp32 = await tinyEmbedder({ KB_MODEL_QUANTIZED: '0' });
    const [a] = await fp32.embedPassages([TEXTS[1]!]);
    const [b] = await embedder.embedPassages([TEXTS[1]!]);
    expect(Array.from(a!)).not.toEqual(Array.from(b!));
    expect(dot(a!, b!)).toBeGreaterThan(0.95);
  });
});

describe('downloading from a mirror', () => {
  it('fetches a missing model from KB_MODEL_MIRROR into KB_MODEL_DIR, which then works offline', async () => {
    const { modelDir: source, modelId } = await makeTinyModelDir();
    const requested: string[] = [];
    // A stand-in for hf-mirror.com on loopback, serving the hub's URL layout: <model>/resolve/main/<file>.
    const server = http.createServer((request, response) => {
      requested.push(request.url ?? '');
      const match = /^\/(.+)\/resolve\/main\/(.+)$/.exec(request.url ?? '');
      const file = match ? path.join(source, match[1]!, match[2]!) : '';
      if (!match || match[1] !== modelId || !fs.existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'Content-Length': fs.statSync(file).size });
      fs.createReadStream(file).pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const mirror = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    const modelDir = path.join(tmp, 'downloaded-models');
    try {
      const downloaded = await loadEmbedder(loadConfig({ KB_MODEL_DIR: modelDir, KB_MODEL: modelId, KB_MODEL_MIRROR: mirror, KB_MODEL_DOWNLOAD: '1', KB_MODEL_SOURCES: 'hub' }));
      expect(downloaded.reason).toBeUndefined();
      expect(downloaded.embedder!.dimension).toBe(64);
      expect(requested).toContain(`/${modelId}/resolve/main/onnx/model_quantized.onnx`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    for (const file of modelFiles(true)) expect(fs.existsSync(path.join(modelDir, modelId, file)), file).toBe(true);
    const offline = await loadEmbedder(loadConfig({ KB_MODEL_DIR: modelDir, KB_MODEL: modelId, KB_MODEL_DOWNLOAD: '0' }));
    expect(offline.reason).toBeUndefined();
    const [a] = await offline.embedder!.embedPassages([TEXTS[0]!]);
    const [b] = await (await tinyEmbedder()).embedPassages([TEXTS[0]!]);
    expect(Array.from(a!)).toEqual(Array.from(b!));
  });
});

describe('loadEmbedder failures come back as reasons, never exceptions', () => {
  it('says lexical-only was chosen when KB_LEXICAL_ONLY=1', async () => {
    const load = await loadEmbedder(await tinyConfig({ KB_LEXICAL_ONLY: '1' }));
    expect(load.embedder).toBeNull();
    expect(load.reason).toMatch(/KB_LEXICAL_ONLY=1/);
  });

  it('names the model, the folder and the fix when the model is missing and downloads are off', async () => {
    const modelDir = path.join(tmp, 'empty-models');
    const load = await loadEmbedder(loadConfig({ KB_MODEL_DIR: modelDir, KB_MODEL_DOWNLOAD: '0' }));
    expect(load.embedder).toBeNull();
    expect(load.reason).toContain(path.join(modelDir, 'intfloat', 'multilingual-e5-small'));
    expect(load.reason).toContain('intfloat/multilingual-e5-small');
    expect(load.reason).toMatch(/KB_MODEL_DIR/);
    expect(load.reason).toMatch(/KB_MODEL_DOWNLOAD=0/);
    expect(load.reason).toMatch(/找不到/);
  });

  it('explains an unreachable mirror promptly instead of hanging', async () => {
    // A loopback port that was free a moment ago: connection refused, no network involved.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const mirror = `http://127.0.0.1:${port}/`;
    // Only the hub source: pypi would run pip against the real index.
    const load = await loadEmbedder(loadConfig({ KB_MODEL_DIR: path.join(tmp, 'no-models'), KB_MODEL_MIRROR: mirror, KB_MODEL_DOWNLOAD: '1', KB_MODEL_SOURCES: 'hub' }));
    expect(load.embedder).toBeNull();
    expect(load.reason).toContain(mirror);
    expect(load.reason).toMatch(/ECONNREFUSED/);
    expect(load.reason).toMatch(/KB_MODEL_MIRROR/);
  });

  it('reports a corrupt ONNX file with its folder instead of crashing', async () => {
    const { modelDir, modelId } = await makeTinyModelDir();
    const brokenDir = path.join(tmp, 'broken-models');
    const target = path.join(brokenDir, modelId);
    for (const file of modelFiles(true)) {
      fs.mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
      fs.copyFileSync(path.join(modelDir, modelId, file), path.join(target, file));
    }
    const onnxFile = path.join(target, 'onnx', 'model_quantized.onnx');
    fs.writeFileSync(onnxFile, fs.readFileSync(onnxFile).subarray(0, 5000)); // a download cut short
    const load = await loadEmbedder(loadConfig({ KB_MODEL_DIR: brokenDir, KB_MODEL: modelId, KB_MODEL_DOWNLOAD: '0' }));
    expect(load.embedder).toBeNull();
    expect(load.reason).toContain(target);
    expect(load.reason).toMatch(/加载失败/);
  });
});

describeWithSharedCorpus('dense retrieval with the generated model on real passages', () => {
  it("ranks a passage first when queried with its own text behind the query instruction", async () => {
    const embedder = await tinyEmbedder();
    const lines = fs.readFileSync(sharedPath('services', 'questions-and-passages.jsonl'), 'utf8').split('\n');
    // Random weights average the tokens, so under ~40 characters the 17-character instruction outweighs the text (see makeTinyModelDir).
    const texts = lines.slice(0, 300).filter(Boolean).map((line) => (JSON.parse(line) as { passage: string }).passage.slice(0, 300));
    const passages = [...new Set(texts.filter((text) => text.length >= 40))].slice(0, 120);
    const passageVectors = await embedder.embedPassages(passages);
    const queryVectors = await embedder.embedQueries(passages);
    const misses = queryVectors.flatMap((q, i) => {
      const scores = passageVectors.map((p) => dot(p, q));
      return scores.indexOf(Math.max(...scores)) === i ? [] : [passages[i]!.slice(0, 30)];
    });
    expect(misses).toEqual([]);
  });
});
