import { describe, expect, it } from 'vitest';
import {
  firstRelevantRank,
  formatSummaryLine,
  mrrAt,
  percentile,
  recallAt,
  summarize,
  summarizeByKind,
  type RankedOutcome,
} from '../../bench/metrics.ts';

const F = false;
const T = true;
// First relevant ranks: 2, 1, 7, none, 5.
const outcomes: RankedOutcome[] = [
  { id: 'q1', kind: 'a', relevance: [F, T, F, T, F, F, F, F, F, F] },
  { id: 'q2', kind: 'a', relevance: [T, T] },
  { id: 'q3', kind: 'b', relevance: [F, F, F, F, F, F, T, F, F, F] },
  { id: 'q4', kind: 'b', relevance: [F, F, F, F, F, F, F, F, F, F] },
  { id: 'q5', kind: 'b', relevance: [F, F, F, F, T] },
];

describe('retrieval metrics on a hand-made ranking', () => {
  it('finds the first relevant rank (1-based, 0 for none)', () => {
    expect(outcomes.map((o) => firstRelevantRank(o.relevance))).toEqual([2, 1, 7, 0, 5]);
    expect(firstRelevantRank([])).toBe(0);
  });

  it('computes Recall@k as the share of queries answered within k', () => {
    expect(recallAt(1, outcomes)).toBe(1 / 5);
    expect(recallAt(4, outcomes)).toBe(2 / 5);
    expect(recallAt(5, outcomes)).toBe(3 / 5);
    expect(recallAt(10, outcomes)).toBe(4 / 5);
    expect(recallAt(10, [])).toBe(0);
  });

  it('computes MRR@k from the first relevant rank, ignoring ranks past k', () => {
    expect(mrrAt(10, outcomes)).toBeCloseTo((1 / 2 + 1 + 1 / 7 + 0 + 1 / 5) / 5, 12);
    expect(mrrAt(5, outcomes)).toBeCloseTo((1 / 2 + 1 + 1 / 5) / 5, 12);
    expect(mrrAt(1, outcomes)).toBe(1 / 5);
  });

  it('summarises overall and per kind', () => {
    const all = summarize(outcomes);
    expect(all.n).toBe(5);
    expect(all.recall).toEqual({ 1: 0.2, 5: 0.6, 10: 0.8 });
    expect(all.mrr).toBeCloseTo(1.8428571428571427 / 5, 12);

    const byKind = summarizeByKind(outcomes);
    expect([...byKind.keys()]).toEqual(['a', 'b']);
    expect(byKind.get('a')).toEqual({ n: 2, recall: { 1: 0.5, 5: 1, 10: 1 }, mrr: 0.75, mrrK: 10 });
    const b = byKind.get('b')!;
    expect(b.recall).toEqual({ 1: 0, 5: 1 / 3, 10: 2 / 3 });
    expect(b.mrr).toBeCloseTo((1 / 7 + 1 / 5) / 3, 12);
    expect(summarizeByKind([{ id: 'x', relevance: [T] }]).size).toBe(0);
  });

  it('prints the closing line in the exact format', () => {
    expect(formatSummaryLine(summarize(outcomes), 'lexical')).toBe(
      'recall@1=0.200 recall@5=0.600 recall@10=0.800 mrr@10=0.369 n=5 mode=lexical',
    );
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(percentile(Array.from({ length: 20 }, (_, i) => i + 1), 95)).toBe(19);
    expect(percentile([], 95)).toBe(0);
  });
});
