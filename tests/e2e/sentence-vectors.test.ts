/**
 * Sentence vectors of long documents (kb/index/vector/sentence-vectors.ts): a passage of a document of
 * ≥ LONG_DOCUMENT_PASSAGES passages is found by the vector of one of its sentences, its vectors follow
 * the document through re-opening and removal, and a store written before them gets them on the next
 * embedMissing. The generated test model's vectors mean nothing, so queries here are the sentences'
 * own texts: the query vector then equals the sentence's (the embedder below embeds queries as
 * passages), which the passage's own vector does not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../kb/config.ts';
import { KnowledgeBase } from '../../kb/kb.ts';
import { LONG_DOCUMENT_PASSAGES } from '../../kb/index/vector/passage-text.ts';
import { STORE_FILE } from '../../kb/store/store.ts';
import type { Embedder } from '../../kb/types.ts';
import { ingestPaths } from '../../ingest/ingest.ts';
import { search } from '../../search/retrieve.ts';
import { tinyModel } from '../support/tiny-model.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-sentences-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let embedder: Embedder;
let modelEnv: Record<string, string>;
const corpus = path.join(tmp, 'corpus');
/** The sentence looked for: the second of a three-sentence paragraph in the middle of the report. */
const SOUGHT = '全市新增医保移动支付定点医院二百一十五家，患者在手机上即可完成医保结算。';

/** A work report long enough to count as long (about 75 passages), each paragraph three sentences. */
function longReport(): string {
  const topics = ['养老服务', '学前教育', '公共交通', '污水处理', '体育赛事', '数字经济', '城市更新', '农村公路'];
  const paragraphs: string[] = ['北京市2024年政府工作报告（测试稿）'];
  for (let i = 1; i <= 150; i++) {
    const topic = topics[i % topics.length]!;
    const middle = i === 75 ? SOUGHT : `${topic}领域第${i}项任务完成年度目标，累计投入资金${i * 3}亿元。`;
    paragraphs.push(`（${i}）持续推进${topic}工作，按照全年部署稳步实施第${i}批重点项目，项目覆盖全市各区并接受群众监督。${middle}下一步将继续完善第${i}项${topic}配套政策，确保各项举措落地见效。`);
  }
  return paragraphs.join('\n\n');
}

beforeAll(async () => {
  const tiny = await tinyModel();
  modelEnv = tiny.env;
  // Queries embedded as passages: a query that is a stored sentence's text gets that sentence's vector.
  const inner = tiny.embedder;
  embedder = { modelId: inner.modelId, dimension: inner.dimension, profile: inner.profile, embedQueries: (texts) => inner.embedPassages(texts), embedPassages: (texts) => inner.embedPassages(texts) };
  fs.mkdirSync(corpus, { recursive: true });
  fs.writeFileSync(path.join(corpus, '工作报告.txt'), longReport());
  fs.copyFileSync(path.resolve('corpus', fs.readdirSync('corpus').find((f) => f.endsWith('.txt'))!), path.join(corpus, 'short.txt'));
});

function configFor(name: string): Config {
  return loadConfig({ ...modelEnv, KB_DATA_DIR: path.join(tmp, name) });
}

function sentenceRows(config: Config): Array<{ title: string; n: number }> {
  const db = new Database(path.join(config.dataDir, STORE_FILE), { readonly: true });
  try {
    return db
      .prepare('SELECT d.title, count(s.sentence) AS n FROM documents d JOIN passages p ON p.doc_key = d.doc_key LEFT JOIN sentence_embeddings s ON s.label = p.label GROUP BY d.doc_key')
      .all() as Array<{ title: string; n: number }>;
  } finally {
    db.close();
  }
}

describe('sentence vectors of long documents', () => {
  it('find a long document\'s passage by one of its sentences, after re-opening too, and leave with the document', async () => {
    const config = configFor('find');
    const kb = await KnowledgeBase.open(config, { embedder, log: () => {} });
    const report = await ingestPaths(kb, [corpus], { root: corpus });
    expect(report.failed).toEqual([]);
    const reportDoc = kb.getDocument('工作报告.txt')!;
    expect(reportDoc.passages.length).toBeGreaterThanOrEqual(LONG_DOCUMENT_PASSAGES);
    const counts = new Map(sentenceRows(config).map((r) => [r.title, r.n]));
    // Long: every passage has its sentences (three or more each); short: none.
    expect(counts.get(reportDoc.title)).toBeGreaterThanOrEqual(reportDoc.passages.length * 3);
    expect([...counts].filter(([title]) => title !== reportDoc.title).every(([, n]) => n === 0)).toBe(true);

    const holder = reportDoc.passages.find((p) => p.text.includes(SOUGHT))!;
    const [query] = await embedder.embedQueries([SOUGHT]);
    const own = kb.passageVectors('工作报告.txt').find((v) => v.passageId === holder.id)!.vector;
    const cosine = own.reduce((sum, x, i) => sum + x * query![i]!, 0);
    // The passage's own vector is not the sentence's: only the sentence vector makes it an exact match.
    expect(cosine).toBeLessThan(0.999);
    const found = await search(kb, { text: SOUGHT, k: 5, mode: 'dense' });
    expect(found.hits[0]!.text).toContain(SOUGHT);
    expect(found.hits[0]!.score).toBeGreaterThan(0.999);
    kb.close();
    expect(fs.existsSync(path.join(config.dataDir, 'sentences.hnsw'))).toBe(true);

    const reopened = await KnowledgeBase.open(config, { embedder, log: () => {} });
    try {
      expect((await search(reopened, { text: SOUGHT, k: 5, mode: 'dense' })).hits[0]!.text).toContain(SOUGHT);
      expect(await reopened.write((writer) => writer.remove('工作报告.txt'))).toBe(true);
      const after = await search(reopened, { text: SOUGHT, k: 5, mode: 'dense' });
      expect(after.hits.every((h) => h.citation.documentId !== '工作报告.txt')).toBe(true);
      expect(sentenceRows(config).every((r) => r.n === 0)).toBe(true);
    } finally {
      reopened.close();
    }
  });

  it('a store written before sentence vectors gets them from embedMissing, and then finds by them', async () => {
    const config = configFor('older');
    const kb = await KnowledgeBase.open(config, { embedder, log: () => {} });
    await ingestPaths(kb, [corpus], { root: corpus });
    kb.close();
    const db = new Database(path.join(config.dataDir, STORE_FILE));
    db.exec('DELETE FROM sentence_embeddings');
    db.close();
    fs.rmSync(path.join(config.dataDir, 'sentences.hnsw'), { force: true });

    const older = await KnowledgeBase.open(config, { embedder, log: () => {} });
    try {
      expect((await search(older, { text: SOUGHT, k: 5, mode: 'dense' })).hits[0]?.score ?? 0).toBeLessThan(0.999);
      await older.write((writer) => writer.embedMissing());
      const found = await search(older, { text: SOUGHT, k: 5, mode: 'dense' });
      expect(found.hits[0]!.text).toContain(SOUGHT);
      expect(found.hits[0]!.score).toBeGreaterThan(0.999);
      expect(sentenceRows(config).find((r) => r.title === older.getDocument('工作报告.txt')!.title)!.n).toBeGreaterThan(0);
    } finally {
      older.close();
    }
  });
});
