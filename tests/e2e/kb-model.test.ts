/**
 * The knowledge base and its model: the dense path with the generated tiny
 * model, refusing to mix two models' vectors, re-embedding, the lexical-only
 * fallback (announced in health, search results and the CLI), and the HNSW
 * file rebuilt or reconciled from the store.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../kb/config.ts';
import { KnowledgeBase, KnowledgeBaseError } from '../../kb/kb.ts';
import { VECTOR_FILE, VECTOR_SIDECAR } from '../../kb/index/vector/vector-file.ts';
import type { Embedder } from '../../kb/types.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { search as searchKnowledgeBase } from '../../search/retrieve.ts';
import { ingestPaths } from '../../ingest/ingest.ts';
import { passageEmbeddingText } from '../../kb/index/vector/passage-text.ts';

const PROJECT_CORPUS = path.resolve('corpus');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-kbmodel-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let modelEnv: Record<string, string>;
let tiny: Embedder;

beforeAll(async () => {
  ({ env: modelEnv, embedder: tiny } = await tinyModel());
});

function configFor(name: string, extra: Record<string, string> = {}): Config {
  return loadConfig({ ...modelEnv, KB_DATA_DIR: path.join(tmp, name), ...extra });
}

/** The same vectors under another name and a different dimension, as a second model would give. */
function otherModel(inner: Embedder): Embedder {
  const widen = (vs: Float32Array[]) =>
    vs.map((v) => {
      const out = new Float32Array(v.length * 2);
      out.set(v);
      return out;
    });
  return {
    modelId: 'test/other-model',
    dimension: inner.dimension * 2,
    profile: { ...inner.profile, id: 'test/other-model', dimension: inner.dimension * 2 },
    embedQueries: async (texts) => widen(await inner.embedQueries(texts)),
    embedPassages: async (texts) => widen(await inner.embedPassages(texts)),
  };
}

describe('dense retrieval with the generated model', () => {
  let kb: KnowledgeBase;
  beforeAll(async () => {
    kb = await KnowledgeBase.open(configFor('dense'), { log: () => {} });
    const report = await ingestPaths(kb, [PROJECT_CORPUS]);
    expect(report.failed).toEqual([]);
  });
  afterAll(() => kb.close());

  it('loads the configured model itself and runs hybrid', () => {
    expect(kb.embedder?.modelId).toBe('test/tiny-bert');
    const health = kb.health();
    expect(health.mode).toBe('hybrid');
    expect(health.model).toEqual({ id: 'test/tiny-bert', dimension: tiny.dimension });
    expect(health.index.vectors).toBe(health.passages);
  });

  it("querying with what a passage's vector was computed from (title · headings ⏎ text) in dense mode ranks that passage first", async () => {
    const doc = kb.getDocument('对市人大十七届四次会议第0056号建议的答复-学前教育学位.txt')!;
    const passages = doc.passages.filter((p) => p.text.length >= 40);
    expect(passages.length).toBeGreaterThan(3);
    for (const passage of passages) {
      const embedded = passageEmbeddingText(doc.title, passage.headingPath, passage.text, doc.passages.length);
      const result = await searchKnowledgeBase(kb, { text: embedded, k: 5, mode: 'dense' });
      expect(result.mode).toBe('dense');
      expect(result.lexicalOnly).toBe(false);
      expect(result.hits[0]?.passageId).toBe(passage.id);
      expect(result.hits[0]?.ranks.dense).toBe(1);
      expect(result.hits[0]?.ranks.lexical).toBeUndefined();
    }
  });

  it('hybrid hits carry citations and the rank each retriever gave them', async () => {
    const result = await searchKnowledgeBase(kb, { text: '普惠性民办幼儿园认定', k: 5, mode: 'hybrid' });
    expect(result.mode).toBe('hybrid');
    const hit = result.hits[0]!;
    expect(hit.citation.documentId).toBe('青州市普惠性民办幼儿园认定和扶持管理办法-通知.txt');
    expect(hit.citation.title).toContain('普惠性民办幼儿园');
    expect(hit.ranks.lexical).toBeDefined();
    expect(hit.highlights.length).toBeGreaterThan(0);
    const stored = kb.getDocument(hit.citation.documentId)!;
    expect(stored.text.slice(hit.citation.start, hit.citation.end)).toBe(hit.text);
  });

  it('filters apply inside both retrievers', async () => {
    const onlyPolicies = await searchKnowledgeBase(kb, { text: '幼儿园学位', k: 10, mode: 'hybrid', filters: { kind: ['policy'] } });
    expect(onlyPolicies.hits.length).toBeGreaterThan(0);
    expect(onlyPolicies.hits.every((h) => h.kind === 'policy')).toBe(true);
    const prefix = await searchKnowledgeBase(kb, { text: '幼儿园学位', k: 10, mode: 'dense', filters: { pathPrefix: '对市人大' } });
    expect(prefix.hits.length).toBeGreaterThan(0);
    expect(prefix.hits.every((h) => h.citation.documentId.startsWith('对市人大'))).toBe(true);
    const none = await searchKnowledgeBase(kb, { text: '幼儿园学位', k: 10, mode: 'hybrid', filters: { dateFrom: '2099' } });
    expect(none.hits).toEqual([]);
  });

  it('passageVectors gives the stored vectors in passage order', () => {
    const id = '对市人大十七届四次会议第0056号建议的答复-学前教育学位.txt';
    const vectors = kb.passageVectors(id);
    expect(vectors.map((v) => v.passageId)).toEqual(kb.getDocument(id)!.passages.map((p) => p.id));
    expect(vectors[0]!.vector.length).toBe(tiny.dimension);
  });
});

describe('model changes', () => {
  it('refuses to mix vectors of one model id embedded with two profiles (pooling or prefixes), and says how to fix it', async () => {
    const config = configFor('profile-mismatch');
    const kb = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    await ingestPaths(kb, [PROJECT_CORPUS]);
    kb.close();

    const repooled: Embedder = { ...tiny, profile: { ...tiny.profile, pooling: 'mean', queryPrefix: 'query: ', passagePrefix: 'passage: ' } };
    repooled.embedQueries = tiny.embedQueries.bind(tiny);
    repooled.embedPassages = tiny.embedPassages.bind(tiny);
    const refusal = await KnowledgeBase.open(config, { embedder: repooled, log: () => {} }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(KnowledgeBaseError);
    const message = (refusal as Error).message;
    expect(message).toContain('cls pooling');
    expect(message).toContain('mean pooling');
    expect(message).toContain('"passage: "');
    expect(message).toContain('npm run kb -- reembed');

    const same = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    expect(same.health().mode).toBe('hybrid');
    same.close();
  });

  it('refuses to open a store with vectors of another model, naming both and the fix; reembed switches', async () => {
    const config = configFor('mismatch');
    const kb = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    await ingestPaths(kb, [PROJECT_CORPUS]);
    const passages = kb.stats().passages;
    kb.close();

    const other = otherModel(tiny);
    const refusal = await KnowledgeBase.open(config, { embedder: other, log: () => {} }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(KnowledgeBaseError);
    const message = (refusal as Error).message;
    expect(message).toContain('test/tiny-bert');
    expect(message).toContain('test/other-model');
    expect(message).toContain(String(tiny.dimension));
    expect(message).toContain(String(other.dimension));
    expect(message).toContain('npm run kb -- reembed');

    const switched = await KnowledgeBase.open(config, { embedder: other, allowModelChange: true, log: () => {} });
    try {
      const done = await switched.write((writer) => writer.reembed());
      expect(done).toBe(passages);
      const stats = switched.stats();
      expect(stats.embedded).toBe(passages);
      expect(stats.vectors).toBe(passages);
      expect(switched.health().model).toEqual({ id: 'test/other-model', dimension: other.dimension });
    } finally {
      switched.close();
    }
    // Now the old model is the stranger.
    await expect(KnowledgeBase.open(config, { embedder: tiny, log: () => {} })).rejects.toThrow(/test\/other-model/);
  });
});

describe('a re-parse while no model is loaded', () => {
  it('keeps the vectors of unchanged passage text, and the model later embeds only the new text', async () => {
    const name = '对市人大十七届四次会议第0056号建议的答复-学前教育学位.txt';
    const corpus = path.join(tmp, 'keep-corpus');
    fs.mkdirSync(corpus, { recursive: true });
    const file = path.join(corpus, name);
    fs.copyFileSync(path.join(PROJECT_CORPUS, name), file);
    const config = configFor('keep');
    const vectorsByText = (kb: KnowledgeBase) => {
      const texts = new Map(kb.getDocument(name)!.passages.map((p) => [p.id, p.text]));
      return new Map(kb.passageVectors(name).map((v) => [texts.get(v.passageId)!, Array.from(v.vector)]));
    };

    const first = await KnowledgeBase.open(config, { log: () => {} });
    const before = await (async () => {
      try {
        expect((await ingestPaths(first, [corpus])).failed).toEqual([]);
        return vectorsByText(first);
      } finally {
        first.close();
      }
    })();
    expect(before.size).toBeGreaterThan(3);

    fs.appendFileSync(file, '\n\n六、下一步，我局将在城东片区新建公办幼儿园三所，新增学位一千零八十个，预计2027年秋季投入使用。\n');
    const lexicalOnly = await KnowledgeBase.open(config, { embedder: null, log: () => {} });
    try {
      expect(await ingestPaths(lexicalOnly, [corpus])).toMatchObject({ updated: 1, failed: [] });
      const stats = lexicalOnly.stats();
      expect(stats.embedded).toBeGreaterThan(0);
      expect(stats.embedded).toBeLessThan(stats.passages);
      const kept = vectorsByText(lexicalOnly);
      expect(kept.size).toBe(stats.embedded);
      // Every passage whose text is unchanged keeps its vector, and only those.
      const unchanged = lexicalOnly.getDocument(name)!.passages.filter((p) => before.has(p.text));
      expect(kept.size).toBe(unchanged.length);
      for (const [text, vector] of kept) expect(vector).toEqual(before.get(text));
    } finally {
      lexicalOnly.close();
    }

    const embeddedLater: string[] = [];
    const recording: Embedder = {
      ...tiny,
      embedQueries: (texts) => tiny.embedQueries(texts),
      embedPassages: (texts) => {
        embeddedLater.push(...texts);
        return tiny.embedPassages(texts);
      },
    };
    const withModel = await KnowledgeBase.open(config, { embedder: recording, log: () => {} });
    try {
      expect(await ingestPaths(withModel, [corpus])).toMatchObject({ updated: 0, failed: [] });
      const doc = withModel.getDocument(name)!;
      const added = doc.passages.filter((p) => !before.has(p.text));
      expect(added.length).toBeGreaterThan(0);
      expect(embeddedLater.sort()).toEqual(added.map((p) => passageEmbeddingText(doc.title, p.headingPath, p.text, doc.passages.length)).sort());
      const stats = withModel.stats();
      expect(stats.embedded).toBe(stats.passages);
      expect(stats.vectors).toBe(stats.passages);
      for (const [text, vector] of vectorsByText(withModel)) if (before.has(text)) expect(vector).toEqual(before.get(text));
    } finally {
      withModel.close();
    }
  });
});

describe('lexical-only fallback', () => {
  it('is announced in the log, health() and every dense or hybrid search result', async () => {
    const logs: string[] = [];
    const config = configFor('lexical', { KB_MODEL_DIR: path.join(tmp, 'no-models-here') });
    const kb = await KnowledgeBase.open(config, { log: (m) => logs.push(m) });
    try {
      expect(kb.embedder).toBeNull();
      const health = kb.health();
      expect(health.mode).toBe('lexical-only');
      expect(health.lexicalOnlyReason).toMatch(/test\/tiny-bert/);
      expect(logs.join('\n')).toMatch(/LEXICAL-ONLY/);
      const report = await ingestPaths(kb, [PROJECT_CORPUS]);
      expect(report.failed).toEqual([]);
      expect(kb.stats().embedded).toBe(0);
      for (const mode of ['hybrid', 'dense'] as const) {
        const result = await searchKnowledgeBase(kb, { text: '高校毕业生留省', mode });
        expect(result.mode).toBe('lexical');
        expect(result.lexicalOnly).toBe(true);
        expect(result.notice).toMatch(/lexical-only/);
        expect(result.hits[0]?.citation.documentId).toContain('高校毕业生留省');
      }
      const lexical = await searchKnowledgeBase(kb, { text: '高校毕业生留省', mode: 'lexical' });
      expect(lexical.notice).toBeUndefined();
    } finally {
      kb.close();
    }

    // When the model appears, the next ingest embeds what was stored without vectors.
    const withModel = await KnowledgeBase.open(configFor('lexical'), { log: () => {} });
    try {
      expect(withModel.health().mode).toBe('hybrid');
      const report = await ingestPaths(withModel, [PROJECT_CORPUS]);
      expect(report).toMatchObject({ added: 0, updated: 0, failed: [] });
      expect(report.unchanged).toBeGreaterThan(0);
      const stats = withModel.stats();
      expect(stats.embedded).toBe(stats.passages);
      expect(stats.vectors).toBe(stats.passages);
    } finally {
      withModel.close();
    }
  });

  it('the search CLI prints the notice', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'cli/search.ts', '高校毕业生留省', '--k', '2', '--data', path.join(tmp, 'lexical')],
      { encoding: 'utf8', env: { ...process.env, ...modelEnv, KB_MODEL_DIR: path.join(tmp, 'no-models-here') } },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/notice.*lexical-only/);
    expect(result.stdout).toMatch(/mode lexical \(lexical-only\)/);
    expect(result.stdout).toContain('关于进一步提升我省高校毕业生留省就业比例的建议（第0137号提案）的答复');
    expect(result.stderr).toMatch(/LEXICAL-ONLY/);
  });
});

describe('the HNSW file is derived from the store', () => {
  it('is rebuilt when missing and reconciled when stale, always matching the store', async () => {
    const config = configFor('derived');
    const kb = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    await ingestPaths(kb, [PROJECT_CORPUS]);
    const embedded = kb.stats().embedded;
    kb.close();

    fs.rmSync(path.join(config.dataDir, VECTOR_FILE));
    const logs: string[] = [];
    const rebuilt = await KnowledgeBase.open(config, { embedder: tiny, log: (m) => logs.push(m) });
    expect(rebuilt.health().index).toEqual({ vectors: embedded, state: 'rebuilt' });
    expect(logs.join('\n')).toMatch(/missing: rebuilding/);
    // Remove a document but make the saved file stale, as a kill before saving would.
    const sidecar = fs.readFileSync(path.join(config.dataDir, VECTOR_SIDECAR), 'utf8');
    const victim = rebuilt.getDocument('青州市城区内涝治理三年行动实施方案.md')!;
    expect(await rebuilt.write((writer) => writer.remove(victim.id))).toBe(true);
    const vectorBytes = fs.readFileSync(path.join(config.dataDir, VECTOR_FILE));
    rebuilt.close();
    fs.writeFileSync(path.join(config.dataDir, VECTOR_FILE), vectorBytes);
    fs.writeFileSync(path.join(config.dataDir, VECTOR_SIDECAR), sidecar);

    const reconciled = await KnowledgeBase.open(config, { embedder: tiny, log: (m) => logs.push(m) });
    try {
      expect(logs.join('\n')).toMatch(/stale/);
      const stats = reconciled.stats();
      expect(stats.embedded).toBe(embedded - victim.passages.length);
      expect(stats.vectors).toBe(stats.embedded);
      const dense = await searchKnowledgeBase(reconciled, { text: victim.passages[0]!.text, k: 20, mode: 'dense' });
      expect(dense.hits.map((h) => h.citation.documentId)).not.toContain(victim.id);
    } finally {
      reconciled.close();
    }
  });
});
