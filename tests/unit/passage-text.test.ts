/**
 * A passage's vector is computed from its document's title and heading path, then its text
 * (kb/index/vector/passage-text.ts), on the sample corpus's seed-like reply; a store whose vectors
 * were computed from another passage text form is re-embedded, not mixed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../kb/config.ts';
import { KnowledgeBase } from '../../kb/kb.ts';
import type { Embedder } from '../../kb/types.ts';
import { MULTILINGUAL_E5_SMALL } from '../../kb/index/vector/profiles.ts';
import { LONG_DOCUMENT_PASSAGES, PREVIOUS_PASSAGE_TEXT_FORM, passageEmbeddingText } from '../../kb/index/vector/passage-text.ts';
import { passageSentenceTexts } from '../../kb/index/vector/sentence-vectors.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';
import { ingestPaths } from '../../ingest/ingest.ts';

const REPLY = path.resolve('corpus', '关于省政协十二届三次会议第0215号提案的答复-社区居家养老.pdf');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-passage-text-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** An embedder of e5's profile that records what it is asked to embed; the vector only depends on the text's length. */
function recordingEmbedder(): Embedder & { passages: string[] } {
  const passages: string[] = [];
  const vectorOf = (text: string): Float32Array => {
    const v = new Float32Array(MULTILINGUAL_E5_SMALL.profile.dimension);
    v[text.length % v.length] = 1;
    return v;
  };
  return {
    modelId: MULTILINGUAL_E5_SMALL.profile.id,
    dimension: MULTILINGUAL_E5_SMALL.profile.dimension,
    profile: MULTILINGUAL_E5_SMALL.profile,
    passages,
    embedQueries: (texts) => Promise.resolve(texts.map(vectorOf)),
    embedPassages: (texts) => {
      passages.push(...texts);
      return Promise.resolve(texts.map(vectorOf));
    },
  };
}

describe('the text a passage vector is computed from', () => {
  it('puts the title and the heading path before the passage text, and leaves a bare text alone', () => {
    expect(passageEmbeddingText('关于加强养老服务的答复', ['二、', '（一）助餐'], '每餐补贴2元至5元。', 12)).toBe('关于加强养老服务的答复 · 二、 · （一）助餐\n每餐补贴2元至5元。');
    expect(passageEmbeddingText('', [], '正文', 1)).toBe('正文');
    // A long document's passages share the title and headings: their vectors are of the text alone.
    expect(passageEmbeddingText('关于加强养老服务的答复', ['二、'], '每餐补贴2元至5元。', LONG_DOCUMENT_PASSAGES)).toBe('每餐补贴2元至5元。');
  });

  it('is what the knowledge base embeds, and a store of another form is re-embedded on open', async () => {
    const config = loadConfig({ KB_DATA_DIR: path.join(tmp, 'data') });
    const first = recordingEmbedder();
    let kb = await KnowledgeBase.open(config, { embedder: first, log: () => {} });
    const report = await ingestPaths(kb, [REPLY]);
    expect(report.failed).toEqual([]);
    const doc = kb.getDocument(path.basename(REPLY))!;
    const withHeading = doc.passages.find((p) => p.headingPath.length > 0)!;
    expect(first.passages).toContain(passageEmbeddingText(doc.title, withHeading.headingPath, withHeading.text, doc.passages.length));
    expect(first.passages.every((input) => input.startsWith(doc.title))).toBe(true);
    const passageCount = doc.passages.length;
    kb.close();

    // A store written by the build before passage text forms were recorded: same model, same profile otherwise.
    const db = new Database(path.join(config.dataDir, 'kb.sqlite'));
    const key = db.prepare(`SELECT value FROM meta WHERE key = 'modelProfile'`).pluck().get() as string;
    const { passageText: _form, ...older } = JSON.parse(key) as Record<string, unknown>;
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'modelProfile'`).run(JSON.stringify(older));
    db.close();

    const second = recordingEmbedder();
    const logged: string[] = [];
    kb = await KnowledgeBase.open(config, { embedder: second, log: (line) => logged.push(line) });
    expect(logged.some((line) => line.includes('another passage text form'))).toBe(true);
    const embedded = await kb.write((writer) => writer.embedMissing());
    expect(embedded).toBe(passageCount);
    expect(second.passages).toContain(passageEmbeddingText(doc.title, withHeading.headingPath, withHeading.text, doc.passages.length));
    kb.close();
  });
});

describeWithSharedCorpus('a store of the previous form (title · headings ⏎ text everywhere)', () => {
  it("re-embeds only the passages of long documents (the Beijing work report's), as text alone; the others keep their vectors", async () => {
    const config = loadConfig({ KB_DATA_DIR: path.join(tmp, 'long') });
    const first = recordingEmbedder();
    let kb = await KnowledgeBase.open(config, { embedder: first, log: () => {} });
    const report = sharedPath('pdf', '2024年北京市政府工作报告.pdf');
    for (const file of [REPLY, report]) expect((await ingestPaths(kb, [file])).failed.map((f) => f.error)).toEqual([]);
    const long = kb.getDocument(path.basename(report))!;
    const short = kb.getDocument(path.basename(REPLY))!;
    expect(long.passages.length).toBeGreaterThanOrEqual(LONG_DOCUMENT_PASSAGES);
    expect(short.passages.length).toBeLessThan(LONG_DOCUMENT_PASSAGES);
    expect(first.passages).toContain(long.passages[5]!.text);
    kb.close();

    const db = new Database(path.join(config.dataDir, 'kb.sqlite'));
    const key = db.prepare(`SELECT value FROM meta WHERE key = 'modelProfile'`).pluck().get() as string;
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'modelProfile'`).run(JSON.stringify({ ...(JSON.parse(key) as object), passageText: PREVIOUS_PASSAGE_TEXT_FORM }));
    db.close();

    const second = recordingEmbedder();
    kb = await KnowledgeBase.open(config, { embedder: second, log: () => {} });
    expect(await kb.write((writer) => writer.embedMissing())).toBe(long.passages.length);
    // The long document's passages again, and their sentences (sentence-vectors.ts, dropped with them); nothing of the short one.
    const longTexts = long.passages.flatMap((p) => [p.text, ...passageSentenceTexts(p.text, long.passages.length)]);
    expect(new Set(second.passages)).toEqual(new Set(longTexts));
    expect(second.passages.some((text) => short.passages.some((p) => text.includes(p.text)))).toBe(false);
    expect(kb.health().index.vectors).toBe(long.passages.length + short.passages.length);
    kb.close();
  });
});
