/**
 * Batch ingest on the project's own corpus (copied into a temp folder so the
 * test may change and delete files), with the generated tiny model behind a
 * wrapper that counts what gets embedded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../kb/config.ts';
import { loadEmbedder } from '../../kb/index/vector/embedder.ts';
import { KnowledgeBase } from '../../kb/kb.ts';
import type { Embedder } from '../../kb/types.ts';
import { makeExcluder, walkInputs } from '../../ingest/batch.ts';
import { makeTinyModelDir } from '../../bench/random-bert.ts';
import { search as searchKnowledgeBase } from '../../search/retrieve.ts';
import { ingestPaths } from '../../ingest/ingest.ts';

const PROJECT_CORPUS = path.resolve('corpus');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-batch-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Counting {
  embedder: Embedder;
  passages: number;
}

function counting(inner: Embedder): Counting {
  const counter: Counting = {
    passages: 0,
    embedder: {
      modelId: inner.modelId,
      dimension: inner.dimension,
      profile: inner.profile,
      embedQueries: (texts) => inner.embedQueries(texts),
      embedPassages: (texts) => {
        counter.passages += texts.length;
        return inner.embedPassages(texts);
      },
    },
  };
  return counter;
}

function copyCorpus(to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(PROJECT_CORPUS)) {
    if (fs.statSync(path.join(PROJECT_CORPUS, name)).isFile()) fs.copyFileSync(path.join(PROJECT_CORPUS, name), path.join(to, name));
  }
}

/** Store, lexical index and HNSW agree. */
function expectConsistent(kb: KnowledgeBase): void {
  const stats = kb.stats();
  expect(stats.lexical).toBe(stats.passages);
  expect(stats.vectors).toBe(stats.embedded);
  expect(kb.health().passages).toBe(stats.passages);
}

let baseConfig: Config;
let tiny: Embedder;

beforeAll(async () => {
  const { modelDir, modelId } = await makeTinyModelDir();
  baseConfig = loadConfig({ KB_MODEL_DIR: modelDir, KB_MODEL: modelId, KB_MODEL_DOWNLOAD: '0' });
  const load = await loadEmbedder(baseConfig);
  if (!load.embedder) throw new Error(load.reason);
  tiny = load.embedder;
});

describe('batch ingest of the project corpus', () => {
  const docs = path.join(tmp, 'docs');
  const dataDir = path.join(tmp, 'data');
  let config: Config;
  let firstPassages = 0;
  const corpusFiles = fs.readdirSync(PROJECT_CORPUS).filter((n) => /\.(txt|md|pdf|docx|html)$/.test(n));

  beforeAll(() => {
    copyCorpus(docs);
    config = { ...baseConfig, dataDir };
  });

  it('adds every file, with ids relative to the folder given, and embeds each passage once', async () => {
    const counter = counting(tiny);
    const kb = await KnowledgeBase.open(config, { embedder: counter.embedder, log: () => {} });
    try {
      const report = await ingestPaths(kb, [docs]);
      expect(report.failed).toEqual([]);
      expect(report.added).toBe(corpusFiles.length);
      expect(report.passages).toBeGreaterThan(corpusFiles.length);
      expect(counter.passages).toBe(report.passages);
      firstPassages = report.passages;
      const ids = kb.listDocuments({ limit: 100 }).documents.map((d) => d.id);
      expect(ids.sort()).toEqual([...corpusFiles].sort());
      expectConsistent(kb);
      expect(kb.stats().embedded).toBe(report.passages);
    } finally {
      kb.close();
    }
  });

  it('re-ingesting unchanged files parses and embeds nothing', async () => {
    const counter = counting(tiny);
    const kb = await KnowledgeBase.open(config, { embedder: counter.embedder, log: () => {} });
    try {
      const report = await ingestPaths(kb, [docs]);
      expect(report).toMatchObject({ added: 0, updated: 0, unchanged: corpusFiles.length, removed: 0, passages: 0 });
      expect(counter.passages).toBe(0);
      expect(kb.stats().passages).toBe(firstPassages);
      expectConsistent(kb);
    } finally {
      kb.close();
    }
  });

  it('a changed file replaces its passages: the old text is gone from both indexes, the new one is found', async () => {
    const file = path.join(docs, '对省政协十二届三次会议第0137号提案的答复-高校毕业生留省.txt');
    const original = fs.readFileSync(file, 'utf8');
    expect(original).toContain('58.2%');
    fs.writeFileSync(file, original.replace('58.2%', '61.7%').replace('31.6万人', '32.9万人'));
    const counter = counting(tiny);
    const kb = await KnowledgeBase.open(config, { embedder: counter.embedder, log: () => {} });
    try {
      const before = kb.getDocument('对省政协十二届三次会议第0137号提案的答复-高校毕业生留省.txt')!;
      const report = await ingestPaths(kb, [docs]);
      expect(report).toMatchObject({ added: 0, updated: 1, unchanged: corpusFiles.length - 1 });
      const after = kb.getDocument('对省政协十二届三次会议第0137号提案的答复-高校毕业生留省.txt')!;
      expect(after.text).toContain('61.7%');
      expect(after.text).not.toContain('58.2%');
      // Only the changed file's changed passages were embedded; the others kept their vectors.
      const beforeTexts = new Set(before.passages.map((p) => p.text));
      const changed = after.passages.filter((p) => !beforeTexts.has(p.text));
      expect(changed.length).toBeGreaterThan(0);
      expect(changed.length).toBeLessThan(after.passages.length);
      expect(counter.passages).toBe(changed.length);
      expect(kb.stats().passages).toBe(firstPassages - before.passages.length + after.passages.length);
      const hits = await searchKnowledgeBase(kb, { text: '高校毕业生留省率', k: 50, mode: 'hybrid' });
      const texts = hits.hits.map((h) => h.text).join('\n');
      expect(texts).toContain('61.7%');
      expect(texts).not.toContain('58.2%');
      expectConsistent(kb);
    } finally {
      kb.close();
    }
  });

  it('--prune removes documents whose files are gone, from the store and both indexes', async () => {
    const gone = '对市人大十七届四次会议第0093号建议的答复-城区防洪排涝.txt';
    fs.rmSync(path.join(docs, gone));
    const kb = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    try {
      const passagesBefore = kb.getDocument(gone)!.passages.length;
      const statsBefore = kb.stats();
      const withoutPrune = await ingestPaths(kb, [docs]);
      expect(withoutPrune.removed).toBe(0);
      expect(kb.getDocument(gone)).toBeDefined();
      const report = await ingestPaths(kb, [docs], { prune: true });
      expect(report.removed).toBe(1);
      expect(kb.getDocument(gone)).toBeUndefined();
      const stats = kb.stats();
      expect(stats.passages).toBe(statsBefore.passages - passagesBefore);
      expect(stats.vectors).toBe(statsBefore.vectors - passagesBefore);
      const hits = await searchKnowledgeBase(kb, { text: '城区防洪排涝', k: 50, mode: 'hybrid' });
      expect(hits.hits.map((h) => h.citation.documentId)).not.toContain(gone);
      expectConsistent(kb);
    } finally {
      kb.close();
    }
    // The saved HNSW file agrees too.
    const reopened = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    try {
      expect(reopened.health().index.state).toBe('ready');
      expectConsistent(reopened);
    } finally {
      reopened.close();
    }
  });

  it('remove(id) leaves nothing behind; removing an unknown id says false', async () => {
    const id = '青州市城区内涝治理三年行动实施方案.md';
    const kb = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    try {
      const doc = kb.getDocument(id)!;
      const before = kb.stats();
      expect(await kb.write((writer) => writer.remove(id))).toBe(true);
      expect(await kb.write((writer) => writer.remove(id))).toBe(false);
      expect(kb.getDocument(id)).toBeUndefined();
      expect(kb.passageVectors(id)).toEqual([]);
      const after = kb.stats();
      expect(after.passages).toBe(before.passages - doc.passages.length);
      expect(after.vectors).toBe(before.vectors - doc.passages.length);
      const firstPassage = doc.passages[0]!.text;
      const dense = await searchKnowledgeBase(kb, { text: firstPassage, k: 20, mode: 'dense' });
      expect(dense.hits.map((h) => h.citation.documentId)).not.toContain(id);
      const lexical = await searchKnowledgeBase(kb, { text: '内涝治理三年行动', k: 50, mode: 'lexical' });
      expect(lexical.hits.map((h) => h.citation.documentId)).not.toContain(id);
      expectConsistent(kb);
    } finally {
      kb.close();
    }
  });

  it('a broken file fails alone, named with its cause; the rest of the batch is indexed', async () => {
    const mixed = path.join(tmp, 'mixed');
    fs.mkdirSync(mixed, { recursive: true });
    fs.copyFileSync(path.join(PROJECT_CORPUS, '对市人大十七届四次会议第0056号建议的答复-学前教育学位.txt'), path.join(mixed, 'good.txt'));
    fs.writeFileSync(path.join(mixed, 'broken.pdf'), '%PDF-1.7\nthis is not really a pdf\n');
    fs.writeFileSync(path.join(mixed, 'empty.txt'), '');
    const kb = await KnowledgeBase.open({ ...baseConfig, dataDir: path.join(tmp, 'data-mixed') }, { embedder: null, log: () => {} });
    try {
      const report = await ingestPaths(kb, [mixed]);
      expect(report.added).toBe(1);
      expect(report.failed.map((f) => f.file).sort()).toEqual(['broken.pdf', 'empty.txt']);
      for (const failure of report.failed) {
        expect(failure.error).toContain(failure.file);
        expect(failure.error).not.toMatch(/\n\s+at /);
      }
    } finally {
      kb.close();
    }
  });
});

describe('JSONL records', () => {
  const folder = path.join(tmp, 'jsonl');
  const records = [
    { id: 'r1', subject: '小区加装电梯补贴', reply: '您好！关于既有住宅加装电梯，市住建局对符合条件的项目按每台15万元给予补贴，申请材料包括业主同意书和设计方案。' },
    { id: 'r2', subject: '幼儿园学位不足', reply: '您好！区教育局今年新增公办幼儿园学位1200个，秋季学期起在城东片区新开两所幼儿园，请关注入园报名通知。' },
    { id: 'r3', subject: '农村公路坑洼', reply: '您好！交通运输局已安排养护队伍对该路段进行修补，预计下月底前完成，并将纳入年度农村公路养护计划。' },
  ];

  beforeAll(() => {
    fs.mkdirSync(path.join(folder, 'replies'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'replies', 'messages.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    fs.writeFileSync(path.join(folder, 'replies', 'no-text.jsonl'), JSON.stringify({ id: 'x', subject: '只有标题' }) + '\n');
  });

  it('each record is a document `<file>#<record id>` titled from its title field; files lacking the text field are skipped with a warning', async () => {
    const kb = await KnowledgeBase.open({ ...baseConfig, dataDir: path.join(tmp, 'data-jsonl') }, { embedder: null, log: () => {} });
    try {
      const report = await ingestPaths(kb, [folder], { jsonl: { textField: 'reply', titleField: 'subject', idField: 'id' } });
      expect(report.failed).toEqual([]);
      expect(report.added).toBe(3);
      expect(report.warnings.map((w) => w.file)).toContain('replies/no-text.jsonl');
      const doc = kb.getDocument('replies/messages.jsonl#r2');
      expect(doc?.title).toBe('幼儿园学位不足');
      expect(doc?.format).toBe('jsonl');
      const hits = await searchKnowledgeBase(kb, { text: '加装电梯补贴', mode: 'lexical' });
      expect(hits.hits[0]?.citation.documentId).toBe('replies/messages.jsonl#r1');

      // A record dropped from the file is removed on the next run; unchanged ones are skipped.
      fs.writeFileSync(path.join(folder, 'replies', 'messages.jsonl'), records.slice(0, 2).map((r) => JSON.stringify(r)).join('\n') + '\n');
      const again = await ingestPaths(kb, [folder], { jsonl: { textField: 'reply', titleField: 'subject', idField: 'id' } });
      expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 2, removed: 1 });
      expect(kb.getDocument('replies/messages.jsonl#r3')).toBeUndefined();
    } finally {
      kb.close();
    }
  });

  it('without --jsonl-text a JSONL file is skipped with a warning, not a failure', async () => {
    const kb = await KnowledgeBase.open({ ...baseConfig, dataDir: path.join(tmp, 'data-jsonl-none') }, { embedder: null, log: () => {} });
    try {
      const report = await ingestPaths(kb, [folder]);
      expect(report.failed).toEqual([]);
      expect(report.added).toBe(0);
      expect(report.warnings.find((w) => w.file === 'replies/messages.jsonl')?.warning).toMatch(/--jsonl-text/);
    } finally {
      kb.close();
    }
  });
});

describe('walking inputs', () => {
  it('ids are relative to the common root; --exclude takes sub-paths and globs', () => {
    const root = path.join(tmp, 'walk');
    for (const file of ['a/x.txt', 'a/skip/y.txt', 'b/z.md', 'b/notes.tmp', 'b/z.draft.md', 'laws/l.md']) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), '正文');
    }
    const all = walkInputs([path.join(root, 'a'), path.join(root, 'b')], {});
    expect(all.root).toBe(root);
    expect(all.files.map((f) => f.id)).toEqual(['a/skip/y.txt', 'a/x.txt', 'b/z.draft.md', 'b/z.md']);
    const single = walkInputs([path.join(root, 'a')], {});
    expect(single.files.map((f) => f.id)).toEqual(['skip/y.txt', 'x.txt']);
    const excluded = walkInputs([root], { exclude: ['laws', 'a/skip', '*.draft.md'] });
    expect(excluded.files.map((f) => f.id)).toEqual(['a/x.txt', 'b/z.md']);
    const missing = walkInputs([path.join(root, 'nope')], {});
    expect(missing.failures[0]?.error).toMatch(/nope/);
  });

  it('a plain exclude matches a path segment anywhere, not a prefix of a name', () => {
    const excluded = makeExcluder(['laws']);
    expect(excluded('laws/a.md', '/r/laws/a.md')).toBe(true);
    expect(excluded('x/laws/a.md', '/r/x/laws/a.md')).toBe(true);
    expect(excluded('lawsuit.md', '/r/lawsuit.md')).toBe(false);
  });
});
