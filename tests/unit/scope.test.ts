/**
 * A named place and year as ranking evidence (search/scope.ts): another
 * place's document yields to the place asked about, and nothing is filtered
 * out, so a national or placeless document still answers when no local one does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { questionPlaces } from '../../kb/places.ts';
import { preferScope, questionScope, scopeFactor } from '../../search/scope.ts';
import { search as searchKnowledgeBase } from '../../search/retrieve.ts';
import { ingestPaths } from '../../ingest/ingest.ts';
import { describeWithSharedCorpus, sharedPath, SHARED_CORPUS } from '../support/shared-corpus.ts';
import { buildTestKb, type TestKb } from '../support/test-server.ts';

const place = (name: string) => questionPlaces(name)[0]!;

describe('scopeFactor', () => {
  const beijing = questionScope('北京2024年计划新建多少个5G基站？');

  it('prefers the place and year asked, demotes another place and year, and leaves unknown or national documents alone', () => {
    expect(beijing.places.map((p) => p.name)).toEqual(['北京市']);
    expect(beijing.years).toEqual([2024]);
    const local = scopeFactor(beijing, { place: place('北京市'), year: 2024 });
    const district = scopeFactor(beijing, { place: place('海淀区'), year: 2024 });
    const national = scopeFactor(beijing, { place: { name: '全国', level: 0 }, year: 2024 });
    const unknown = scopeFactor(beijing, undefined);
    const elsewhere = scopeFactor(beijing, { place: place('济南市'), year: 2024 });
    const otherYear = scopeFactor(beijing, { place: place('北京市'), year: 2021 });
    expect(local).toBeGreaterThan(national);
    expect(district).toBe(local);
    expect(unknown).toBe(1);
    expect(national).toBeGreaterThan(elsewhere);
    expect(local).toBeGreaterThan(otherYear);
    expect(otherYear).toBeGreaterThan(elsewhere);
  });

  it('counts a passage that names the year asked as of that year, whatever its document is dated', () => {
    // The seed-like 0056 reply is dated 2025; its 我市于2024年修订出台… is what a question about 2024 wants.
    const dated2025 = { place: place('北京市'), year: 2025 };
    expect(scopeFactor(beijing, dated2025, undefined, false, true)).toBe(scopeFactor(beijing, { place: place('北京市'), year: 2024 }));
    expect(scopeFactor(beijing, dated2025, undefined, false, true)).toBeGreaterThan(scopeFactor(beijing, dated2025));
    expect(scopeFactor(beijing, undefined, undefined, false, true)).toBeGreaterThan(scopeFactor(beijing, undefined));
  });

  it('counts a province document for a question about one of its cities, less than the city own', () => {
    const jinan = questionScope('济南市到2023年要建成多少个5G基站？');
    expect(scopeFactor(jinan, { place: place('山东省') })).toBeGreaterThan(1);
    expect(scopeFactor(jinan, { place: place('济南市') })).toBeGreaterThan(scopeFactor(jinan, { place: place('山东省') }));
  });

  it('reorders without dropping: the only candidates, all from elsewhere, still come back', () => {
    const scope = questionScope('吉林对闲置温室每亩补贴多少钱？');
    const scopes = new Map([
      [1, { place: place('山东省') }],
      [2, { place: place('吉林省') }],
      [3, { place: { name: '全国', level: 0 as const } }],
    ]);
    const ranked = preferScope([{ label: 1, score: 0.3 }, { label: 2, score: 0.2 }, { label: 3, score: 0.18 }], scope, (l) => scopes.get(l));
    expect(ranked.map((c) => c.label)).toEqual([2, 3, 1]);
    const onlyElsewhere = preferScope([{ label: 1, score: 0.3 }], scope, (l) => scopes.get(l));
    expect(onlyElsewhere.map((c) => c.label)).toEqual([1]);
    expect(preferScope([{ label: 1, score: 0.3 }], questionScope('闲置温室每亩补贴多少钱？'), (l) => scopes.get(l))[0]!.score).toBe(0.3);
  });

  it('ranks by the years a question writes out, not by 今年 or 去年 read against today', () => {
    // 今年 in a question about a 2024 work report is 2024, whatever today's date: no year is preferred.
    expect(questionScope('北京今年要新建多少个5G基站？').years).toEqual([]);
    expect(questionScope('北京去年2023年新增了多少个5G基站？').years).toEqual([2023]);
    expect(scopeFactor(questionScope('北京去年新增了多少个5G基站？'), { place: place('北京市'), year: 2024 })).toBe(scopeFactor(questionScope('北京新增了多少个5G基站？'), { place: place('北京市'), year: 2024 }));
  });
});

describeWithSharedCorpus('a Beijing question among Shandong documents on the same topic', () => {
  let t: TestKb;
  beforeAll(async () => {
    // The shared slice holds the Shandong and Jinan digital-economy policies; the Beijing report is added.
    t = await buildTestKb({ shared: true });
    const report = await ingestPaths(t.kb, [sharedPath('pdf', '2024年北京市政府工作报告.pdf')], { root: SHARED_CORPUS });
    expect(report.failed).toEqual([]);
  });
  afterAll(() => t?.close());

  it('ranks Beijing documents above Shandong ones that repeat the topic words more often (the digital infrastructure example of issue 9)', async () => {
    for (const question of ['北京数字基础设施建设有什么目标？', '北京算力基础设施建设']) {
      const result = await searchKnowledgeBase(t.kb, { text: question, k: 4, mode: 'lexical' });
      // Unscoped, the first four are all Shandong's (policies/shandong/045, 024, 051; 053, 045, 014, 052).
      expect(result.hits[0]!.citation.documentId, question).toMatch(/^pdf\/2024年北京市政府工作报告\.pdf$|^policies\/text\/北京市/);
      expect(result.hits.filter((h) => h.citation.documentId.startsWith('policies/shandong/')).length, question).toBeLessThanOrEqual(1);
    }
  });

  it('still answers a Shandong question from Shandong documents (the place names the province they are of)', async () => {
    const result = await searchKnowledgeBase(t.kb, { text: '山东省数字强省2021年行动计划要开通多少个5G基站？', k: 5, mode: 'lexical' });
    expect(result.hits[0]!.citation.documentId).toMatch(/^policies\/shandong\//);
  });
});
