/**
 * HNSW against exact search: on random unit vectors, the approximate index
 * must return nearly the same neighbours as a brute-force scan, with the same
 * scores, before and after deletions. The oracle is a few lines that cannot be
 * wrong: every inner product, sorted.
 */
import { describe, expect, it } from 'vitest';
import { VectorIndex, type HnswParams } from '../../kb/index/vector/hnsw.ts';

const PARAMS: HnswParams = { M: 16, efConstruction: 200, ef: 100 };
const DIM = 32;
const K = 10;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
}

function unitVectors(count: number, seed: number): Float32Array[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const v = Float32Array.from({ length: DIM }, next);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

/** The exact top k of `live` labels by inner product. */
function exact(vectors: Float32Array[], live: Set<number>, query: Float32Array, k: number): number[] {
  return [...live]
    .map((label) => ({ label, score: dot(query, vectors[label]!) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((h) => h.label);
}

function recall(index: VectorIndex, vectors: Float32Array[], live: Set<number>, queries: Float32Array[]): number {
  let found = 0;
  for (const query of queries) {
    const hits = index.search(query, K);
    for (const hit of hits) {
      expect(live.has(hit.label), `removed label ${hit.label} returned`).toBe(true);
      // Scores are the exact inner products (float32 arithmetic).
      expect(hit.score).toBeCloseTo(dot(query, vectors[hit.label]!), 4);
    }
    const truth = new Set(exact(vectors, live, query, K));
    found += hits.filter((h) => truth.has(h.label)).length;
  }
  return found / (queries.length * K);
}

describe('HNSW against exact search (2,000 random 32-dimension vectors, 100 queries)', () => {
  const vectors = unitVectors(2000, 11);
  const queries = unitVectors(100, 29);
  const index = VectorIndex.create(DIM, PARAMS);
  vectors.forEach((v, label) => index.add(label, v));
  const live = new Set(vectors.keys());

  it('finds at least 95% of the exact top 10, with exact scores, best first', () => {
    expect(recall(index, vectors, live, queries)).toBeGreaterThanOrEqual(0.95);
    for (const query of queries.slice(0, 10)) {
      const scores = index.search(query, K).map((h) => h.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
  });

  it('still does after a fifth of the vectors are removed, and never returns a removed one', () => {
    const next = random(5);
    for (const label of [...live]) {
      if (next() < -0.6) {
        index.remove(label);
        live.delete(label);
      }
    }
    expect(live.size).toBeLessThan(1800);
    expect(index.count).toBe(live.size);
    expect(recall(index, vectors, live, queries)).toBeGreaterThanOrEqual(0.95);
  });
});
