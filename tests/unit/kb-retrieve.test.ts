/**
 * Retrieval details on real documents (lexical-only, no model needed):
 * near-identical passages collapse into one hit that names the other
 * documents, a passage continuing a better hit joins it, metadata filters,
 * and the fusion arithmetic.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../kb/config.ts';
import { KnowledgeBase } from '../../kb/kb.ts';
import { dateInRange } from '../../kb/filters.ts';
import { fuseRankings, retrieve, search as searchKnowledgeBase } from '../../search/retrieve.ts';
import type { Embedder, SearchHit } from '../../kb/types.ts';
import { ingestPaths } from '../../ingest/ingest.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const PROJECT_CORPUS = path.resolve('corpus');
const REPLY = '对市人大十七届四次会议第0056号建议的答复-学前教育学位.txt';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-retrieve-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('retrieval over the project corpus', () => {
  let kb: KnowledgeBase;
  beforeAll(async () => {
    const docs = path.join(tmp, 'docs');
    fs.mkdirSync(path.join(docs, 'copies'), { recursive: true });
    for (const name of fs.readdirSync(PROJECT_CORPUS)) fs.copyFileSync(path.join(PROJECT_CORPUS, name), path.join(docs, name));
    // The same reply filed twice, the copy with its lines re-wrapped: whitespace must not make it different.
    const text = fs.readFileSync(path.join(PROJECT_CORPUS, REPLY), 'utf8');
    fs.writeFileSync(path.join(docs, 'copies', 'reply-copy.txt'), text.replace(/。/g, '。\n'));
    kb = await KnowledgeBase.open(loadConfig({ KB_DATA_DIR: path.join(tmp, 'data') }), { embedder: null, log: () => {} });
    const report = await ingestPaths(kb, [docs]);
    expect(report.failed).toEqual([]);
  });
  afterAll(() => kb.close());

  it('collapses a duplicated passage into one hit naming the other document', async () => {
    const doc = kb.getDocument(REPLY)!;
    const body = doc.passages.find((p) => p.text.length > 80)!;
    const result = await searchKnowledgeBase(kb, { text: body.text.slice(0, 60), k: 10, mode: 'lexical' });
    const top = result.hits[0]!;
    expect([REPLY, 'copies/reply-copy.txt']).toContain(top.citation.documentId);
    expect(top.alsoIn).toEqual([top.citation.documentId === REPLY ? 'copies/reply-copy.txt' : REPLY]);
    const sameText = result.hits.filter((h) => h.text.replace(/\s/g, '') === top.text.replace(/\s/g, ''));
    expect(sameText).toHaveLength(1);
  });

  it('filters by kind, issuer, date and path prefix inside retrieval', async () => {
    const all = await searchKnowledgeBase(kb, { text: '幼儿园', k: 20, mode: 'lexical' });
    expect(new Set(all.hits.map((h) => h.kind)).size).toBeGreaterThan(1);
    const replies = await searchKnowledgeBase(kb, { text: '幼儿园', k: 20, mode: 'lexical', filters: { kind: ['suggestion-reply'] } });
    expect(replies.hits.length).toBeGreaterThan(0);
    expect(replies.hits.every((h) => h.kind === 'suggestion-reply')).toBe(true);

    const issuer = kb.getDocument(REPLY)!.metadata.issuer!;
    expect(issuer).toBeTruthy();
    const byIssuer = await searchKnowledgeBase(kb, { text: '幼儿园', k: 20, mode: 'lexical', filters: { issuer: issuer.slice(0, 5) } });
    expect(byIssuer.hits.length).toBeGreaterThan(0);
    expect(byIssuer.hits.every((h) => h.issuer?.includes(issuer.slice(0, 5)))).toBe(true);

    const year = kb.getDocument(REPLY)!.metadata.date!.slice(0, 4);
    const inYear = await searchKnowledgeBase(kb, { text: '幼儿园', k: 20, mode: 'lexical', filters: { dateFrom: year, dateTo: year } });
    expect(inYear.hits.length).toBeGreaterThan(0);
    expect(inYear.hits.every((h) => h.date?.startsWith(year))).toBe(true);

    const copies = await searchKnowledgeBase(kb, { text: '幼儿园', k: 20, mode: 'lexical', filters: { pathPrefix: 'copies/' } });
    expect(copies.hits.length).toBeGreaterThan(0);
    expect(copies.hits.every((h) => h.citation.documentId.startsWith('copies/'))).toBe(true);
  });

  it('leans on the dense list for a question whose rare words the first lexical hits lack', async () => {
    const indexes = kb.retrievalIndexes();
    const flood = kb.getDocument('对市人大十七届四次会议第0093号建议的答复-城区防洪排涝.txt')!;
    const school = kb.getDocument(REPLY)!;
    // A word only the flood reply holds (in at most 2 passages: rare here), asked together with a sentence of the
    // school reply, which the lexical list then ranks first — its top hits do not hold the word.
    const rareWord = indexes.tokenizer
      .queryTerms(flood.passages.map((p) => p.text).join(''))
      .words.find((w) => w.length >= 3 && indexes.lexical.wordShare(w) * indexes.lexical.size <= 2)!;
    expect(rareWord).toBeTruthy();
    const sentence = school.passages.find((p) => p.text.length > 80)!.text.slice(0, 40);
    // The dense side as a stand-in that always ranks one flood passage first (the lexical list ranks it low or not at all).
    const target = flood.passages.find((p) => !p.text.includes(rareWord))!;
    const targetLabel = [...indexes.passages(Array.from({ length: kb.health().passages * 2 }, (_, i) => i)).entries()].find(([, row]) => row.passage.id === target.id)![0];
    const embedder = { modelId: 'stand-in', dimension: 1, embedQueries: async (texts: string[]) => texts.map(() => new Float32Array([1])) } as unknown as Embedder;
    const dense = { embedder, search: () => [{ label: targetLabel, score: 0.9 }] };
    const rankOf = async (text: string, denseForMissingWords: number) => {
      const result = await retrieve({ ...indexes, dense, weightDense: 0.75, denseForMissingWords }, { text, k: 10, mode: 'hybrid' });
      return result.hits.findIndex((h) => h.passageId === target.id) + 1;
    };
    // Lexical found every rare word: the weight stays as configured.
    expect(await rankOf(sentence, 2)).toBe(await rankOf(sentence, 0));
    // It lacks one: the dense candidate climbs.
    const fixed = await rankOf(`${sentence}${rareWord}`, 0);
    const leaning = await rankOf(`${sentence}${rareWord}`, 2);
    expect(leaning).toBeGreaterThan(0);
    expect(fixed === 0 || leaning < fixed).toBe(true);
  });

  it('reads each passage from the store at most once per query', async () => {
    const indexes = kb.retrievalIndexes();
    const school = kb.getDocument(REPLY)!;
    const rareWord = indexes.tokenizer
      .queryTerms(school.passages.map((p) => p.text).join(''))
      .words.find((w) => w.length >= 3 && indexes.lexical.wordShare(w) * indexes.lexical.size <= 2)!;
    expect(rareWord).toBeTruthy();
    const lexicalFirst = indexes.lexical.search(rareWord, 40).map((h) => h.key);
    const embedder = { modelId: 'stand-in', dimension: 1, embedQueries: async (texts: string[]) => texts.map(() => new Float32Array([1])) } as unknown as Embedder;
    // The dense stand-in ranks the lexical list backwards: both lists hold the same passages, so every read could repeat.
    const dense = { embedder, search: () => lexicalFirst.toReversed().map((label, i) => ({ label, score: 1 - i / 100 })) };
    const asked: number[] = [];
    const passages: typeof indexes.passages = (labels) => {
      asked.push(...labels);
      return indexes.passages(labels);
    };
    const result = await retrieve({ ...indexes, passages, dense, denseForMissingWords: 2 }, { text: `2019年${rareWord}`, k: 10, mode: 'hybrid' });
    expect(result.hits.length).toBeGreaterThan(0);
    expect(asked.length).toBeGreaterThan(result.hits.length);
    expect(asked.length).toBe(new Set(asked).size);
  });

  it('lists documents with the same filters', () => {
    const page = kb.listDocuments({ filters: { pathPrefix: 'copies/' } });
    expect(page.total).toBe(1);
    expect(page.documents[0]?.id).toBe('copies/reply-copy.txt');
    const paged = kb.listDocuments({ offset: 2, limit: 3 });
    expect(paged.documents).toHaveLength(3);
    expect(paged.total).toBe(kb.health().documents);
  });
});

describeWithSharedCorpus('retrieval over NCPQA notices', () => {
  // 医养结合机构 notice: NCPQA asks for its first requirement, which a passage boundary cuts in two.
  const NOTICE = 'ncpqa/docs/2e5e12a7e6fa3895aa9b63f3c123dce8.txt';
  const QUESTION = '在新冠状疫情期间《关于进一步做好医养结合机构新冠肺炎疫情防控工作的通知》的第一个要求是什么？';
  const ANSWER_START = '完善防控工作机制。各级卫生健康行政部门要会同民政部门指导医养结合机构做好疫情防控各项工作。';
  let kb: KnowledgeBase;
  let answer: string;
  beforeAll(async () => {
    const docs = path.join(tmp, 'ncpqa', 'ncpqa', 'docs');
    fs.mkdirSync(docs, { recursive: true });
    // The notice among other notices of the same months, so the question has competitors.
    const others = fs.readdirSync(sharedPath('ncpqa', 'docs')).sort().slice(0, 40);
    for (const name of [...others, path.basename(NOTICE)]) fs.copyFileSync(sharedPath('ncpqa', 'docs', name), path.join(docs, name));
    kb = await KnowledgeBase.open(loadConfig({ KB_DATA_DIR: path.join(tmp, 'ncpqa-data') }), { embedder: null, log: () => {} });
    const report = await ingestPaths(kb, [path.join(tmp, 'ncpqa')], { root: path.join(tmp, 'ncpqa') });
    expect(report.failed).toEqual([]);
    const record = fs
      .readFileSync(sharedPath('ncpqa', 'questions.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { question: string; answer: string })
      .find((q) => q.question === QUESTION)!;
    answer = record.answer.replace(/\s/g, '');
  });
  afterAll(() => kb.close());

  it('shows the passage that continues a hit as part of it: an answer cut by a passage boundary is whole in one hit', async () => {
    expect(answer.startsWith(ANSWER_START)).toBe(true);
    const passages = kb.getDocument(NOTICE)!.passages;
    // The premise: no single passage holds the answer, two adjacent ones do.
    expect(passages.some((p) => p.text.replace(/\s/g, '').includes(answer))).toBe(false);
    const cut = passages.findIndex((p) => p.text.includes('完善防控工作机制'));
    const [first, second] = [passages[cut]!, passages[cut + 1]!];
    expect(kb.documentText(NOTICE, { start: first.start, end: second.end })!.replace(/\s/g, '')).toContain(answer);

    const { hits } = await searchKnowledgeBase(kb, { text: QUESTION, k: 10, mode: 'lexical' });
    const rank = hits.findIndex((h) => h.citation.documentId === NOTICE && h.text.replace(/\s/g, '').includes(answer));
    expect(rank).toBeGreaterThanOrEqual(0);
    expect(rank).toBeLessThan(5);
    const hit = hits[rank]!;
    expect([hit.citation.start, hit.citation.end]).toEqual([first.start, second.end]);
    expect(hit.text).toBe(kb.documentText(NOTICE, { start: first.start, end: second.end }));
    expect(hit.highlights.every(([from, to]) => to <= hit.text.length && from < to)).toBe(true);
    // Neither half is shown again on its own (a later passage may repeat the second's last short line: overlap).
    const holds = (h: SearchHit, p: { start: number; end: number }) => h.citation.documentId === NOTICE && h.citation.start <= p.start && h.citation.end >= p.end;
    expect(hits.filter((h) => holds(h, first) || holds(h, second))).toEqual([hit]);
    // Asked for single passages (the answer stage), no hit holds it.
    const single = await searchKnowledgeBase(kb, { text: QUESTION, k: 10, mode: 'lexical', joinNeighbours: false });
    const onePassage = (h: SearchHit) => kb.getDocument(h.citation.documentId)!.passages.some((p) => p.id === h.passageId && p.start === h.citation.start && p.end === h.citation.end);
    expect(single.hits.every(onePassage)).toBe(true);
    expect(hits.every(onePassage)).toBe(false);
    expect(single.hits.some((h) => h.text.replace(/\s/g, '').includes(answer))).toBe(false);
    // The first hits do not depend on how many were asked for.
    const five = await searchKnowledgeBase(kb, { text: QUESTION, k: 5, mode: 'lexical' });
    expect(five.hits.map((h) => [h.passageId, h.citation.start, h.citation.end])).toEqual(hits.slice(0, 5).map((h) => [h.passageId, h.citation.start, h.citation.end]));
  });
});

describe('fusion and date ranges', () => {
  it('weighted reciprocal rank: agreement beats a single first place', () => {
    const fused = fuseRankings({ lexical: [1, 2, 3], dense: [3, 4, 1] }, { lexical: 1, dense: 1 }, 60);
    expect(fused.map((c) => c.label).slice(0, 2)).toEqual([1, 3]);
    expect(fused[0]?.ranks).toEqual({ lexical: 1, dense: 3 });
    expect(fused[0]?.score).toBeCloseTo(1 / 61 + 1 / 63, 12);
    const lexicalHeavy = fuseRankings({ lexical: [1, 2], dense: [2, 1] }, { lexical: 3, dense: 1 }, 60);
    expect(lexicalHeavy[0]?.label).toBe(1);
  });

  it('date bounds accept years and months, inclusively', () => {
    expect(dateInRange('2024-07-15', '2024', '2024')).toBe(true);
    expect(dateInRange('2024-07-15', '2024-08', undefined)).toBe(false);
    expect(dateInRange('2024-07-15', undefined, '2024-07')).toBe(true);
    expect(dateInRange('2024-07-15', undefined, '2024-07-14')).toBe(false);
    expect(dateInRange(null, '2020', undefined)).toBe(false);
    expect(dateInRange(null, undefined, undefined)).toBe(true);
  });
});
