/**
 * The precedent finder over a real knowledge base built from corpus/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSimilar, findSimilarToDocument, MAX_PART_RETRIEVALS, splitQuery } from '../../search/precedents.ts';
import type { SearchSource } from '../../search/precedents.ts';
import { buildTestKb, type TestKb } from '../support/test-server.ts';

let t: TestKb;
beforeAll(async () => {
  t = await buildTestKb({ shared: false });
});
afterAll(() => t?.close());

const ELEVATOR_PROPOSAL =
  '关于加快老旧小区加装电梯的建议。我市大量老旧住宅没有电梯，老年人上下楼十分困难。' +
  '建议简化既有住宅加装电梯的审批流程，提高财政补贴标准。建议协调低层住户的意见，建立费用分摊机制。';

describe('splitQuery', () => {
  it('cuts a proposal into parts with exact offsets, merging short sentences, within maxParts', () => {
    const text = `标题。${ELEVATOR_PROPOSAL}\n此致`;
    const parts = splitQuery(text);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const p of parts) {
      expect(text.slice(p.start, p.end)).toBe(p.text);
      expect(p.text.length).toBeGreaterThanOrEqual(12);
    }
    expect(parts[0]!.text.startsWith('标题。')).toBe(true);
    expect(parts.at(-1)!.text.endsWith('此致')).toBe(true);
    const many = Array.from({ length: 100 }, (_, i) => `第${i}条建议要加强某某方面的工作力度。`).join('');
    const capped = splitQuery(many, 10);
    expect(capped.length).toBeLessThanOrEqual(10);
    expect(capped[0]!.start).toBe(0);
    expect(capped.at(-1)!.end).toBe(many.length);
  });
});

describe('findSimilar', () => {
  it('ranks the reply on the same problem first, with pairs in query order pointing at real paragraphs', async () => {
    const result = await findSimilar(t.kb, ELEVATOR_PROPOSAL, { k: 5 });
    const top = result.documents[0]!;
    expect(top.documentId).toMatch(/加装电梯/);
    expect(top.score).toBeGreaterThan(result.documents[1]!.score);
    expect(top.score).toBeLessThanOrEqual(1);
    expect(top.matchedParts).toBeGreaterThanOrEqual(2);
    const indexes = top.pairs.map((p) => p.query.index);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    const doc = t.kb.getDocument(top.documentId)!;
    for (const pair of top.pairs) {
      const paragraph = doc.paragraphs[pair.match.paragraphIndex]!;
      expect(paragraph.text).toBe(pair.match.text);
      expect(doc.text.slice(pair.match.citation.start, pair.match.citation.end)).toBe(pair.match.text);
      expect(pair.match.citation.headingPath).toEqual(paragraph.headingPath);
    }
    // The PDF reply carries pages: the aligned paragraphs say which page they are on.
    if (doc.format === 'pdf') expect(top.pairs.every((p) => Array.isArray(p.match.citation.pages))).toBe(true);
  });

  it('applies filters to every part', async () => {
    const result = await findSimilar(t.kb, ELEVATOR_PROPOSAL, { k: 10, filters: { kind: ['policy'] } });
    expect(result.documents.length).toBeGreaterThan(0);
    for (const d of result.documents) expect(d.kind).toBe('policy');
  });

  it('treats quotation marks in a proposal as prose, not as exact-phrase syntax', async () => {
    const quoted = '建议实施“电梯进楼”工程，对既有住宅加装电梯给予财政补贴。';
    const result = await findSimilar(t.kb, quoted, { k: 3 });
    expect(result.documents[0]?.documentId).toMatch(/加装电梯/);
  });

  it('retrieves a long text in at most MAX_PART_RETRIEVALS groups, still aligning each part', async () => {
    // Forty parts once meant forty-one full retrievals (3.1 CPU-s a request at 100k passages).
    const longText = Array.from({ length: 5 }, () => ELEVATOR_PROPOSAL).join('\n') + '\n建议将加装电梯纳入城市更新计划，统筹安排资金。';
    let lexicalSearches = 0;
    const counted: SearchSource = {
      documentExcerpt: (id, around) => t.kb.documentExcerpt(id, around),
      documentText: (id, span) => t.kb.documentText(id, span),
      wordShare: (word) => t.kb.wordShare(word),
      retrievalIndexes: () => {
        const indexes = t.kb.retrievalIndexes();
        return {
          ...indexes,
          lexical: new Proxy(indexes.lexical, {
            get: (target, key, receiver) => {
              const value = Reflect.get(target, key, receiver) as unknown;
              if (key !== 'search' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
              return (...args: unknown[]) => {
                lexicalSearches++;
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            },
          }),
        };
      },
    };
    const result = await findSimilar(counted, longText, { k: 5 });
    expect(result.parts.length).toBeGreaterThan(MAX_PART_RETRIEVALS);
    // The whole text once, then one retrieval per group (place-name lookups would add more; this text names none).
    expect(lexicalSearches).toBeLessThanOrEqual(MAX_PART_RETRIEVALS + 1);
    const top = result.documents[0]!;
    expect(top.documentId).toMatch(/加装电梯/);
    expect(top.score).toBeGreaterThan(result.documents[1]!.score);
    expect(top.score).toBeLessThanOrEqual(1);
    expect(top.matchedParts).toBeGreaterThan(MAX_PART_RETRIEVALS);
    const doc = t.kb.getDocument(top.documentId)!;
    for (const pair of top.pairs) expect(doc.text.slice(pair.match.citation.start, pair.match.citation.end)).toBe(pair.match.text);
  });

  it('finds documents like a stored one and leaves that one out', async () => {
    const id = t.kb.listDocuments({ limit: 50 }).documents.find((d) => /内涝治理三年行动/.test(d.id))!.id;
    const result = (await findSimilarToDocument(t.kb, id, { k: 3 }))!;
    expect(result.documents.map((d) => d.documentId)).not.toContain(id);
    expect(result.documents[0]!.documentId).toMatch(/防洪排涝/);
    expect(await findSimilarToDocument(t.kb, 'missing.txt')).toBeUndefined();
  });
});
