import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VectorIndex, type HnswParams } from '../../kb/index/vector/hnsw.ts';

const PARAMS: HnswParams = { M: 16, efConstruction: 200, ef: 100 };
const DIM = 16;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-hnsw-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Deterministic unit vectors, so a failure reproduces. */
function unitVectors(count: number, seed = 7): Float32Array[] {
  let state = seed;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: count }, () => {
    const v = Float32Array.from({ length: DIM }, random);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

function build(vectors: Float32Array[], capacity?: number): VectorIndex {
  const index = VectorIndex.create(DIM, PARAMS, capacity);
  vectors.forEach((v, label) => index.add(label, v));
  return index;
}

describe('VectorIndex', () => {
  const vectors = unitVectors(300);

  it('finds each vector as its own nearest neighbour with score ≈ 1, best first', () => {
    const index = build(vectors);
    expect(index.count).toBe(300);
    for (const [label, v] of vectors.entries()) {
      const hits = index.search(v, 5);
      expect(hits[0]!.label).toBe(label);
      expect(hits[0]!.score).toBeCloseTo(1, 5);
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
    }
  });

  it('returns every live vector when k exceeds the count, and nothing from an empty index', () => {
    const index = build(vectors.slice(0, 7));
    expect(index.search(vectors[0]!, 50).map((h) => h.label).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(VectorIndex.create(DIM, PARAMS).search(vectors[0]!, 10)).toEqual([]);
  });

  it('grows past its initial capacity', () => {
    const index = build(vectors, 4);
    expect(index.capacity).toBeGreaterThanOrEqual(300);
    expect(index.count).toBe(300);
    expect(index.search(vectors[299]!, 1)[0]!.label).toBe(299);
  });

  it('never returns removed labels, reuses their slots, and can bring a label back', () => {
    const index = build(vectors.slice(0, 100), 100);
    for (let label = 0; label < 100; label += 2) index.remove(label);
    index.remove(12345); // unknown: ignored
    expect(index.count).toBe(50);
    for (const v of vectors.slice(0, 100)) {
      for (const hit of index.search(v, 100)) expect(hit.label % 2).toBe(1);
    }
    expect(index.search(vectors[0]!, 100)).toHaveLength(50);
    expect([...index.labels()].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1));

    // New labels fill the 50 deleted slots: no growth.
    for (let i = 100; i < 150; i++) index.add(i, vectors[i]!);
    expect(index.capacity).toBe(100);
    expect(index.count).toBe(100);
    expect(index.search(vectors[120]!, 1)[0]!.label).toBe(120);
    for (const hit of index.search(vectors[0]!, 100)) expect(hit.label < 100 ? hit.label % 2 : 1).toBe(1);

    // A removed label whose slot was reused comes back as a new vector.
    index.add(0, vectors[0]!);
    expect(index.search(vectors[0]!, 1)[0]).toMatchObject({ label: 0 });
    expect(index.count).toBe(101);
  });

  it('replaces the vector of a label added twice', () => {
    const index = build(vectors.slice(0, 20));
    index.add(3, vectors[250]!);
    expect(index.count).toBe(20);
    expect(index.search(vectors[250]!, 1)[0]).toMatchObject({ label: 3 });
    expect(index.search(vectors[3]!, 1)[0]!.label).not.toBe(3);
  });

  it('restricts results with a filter', () => {
    const index = build(vectors.slice(0, 100));
    const hits = index.search(vectors[1]!, 10, (label) => label % 10 === 0);
    expect(hits.length).toBe(10);
    for (const hit of hits) expect(hit.label % 10).toBe(0);
  });

  it('rejects vectors of the wrong dimension', () => {
    const index = VectorIndex.create(DIM, PARAMS);
    expect(() => index.add(1, new Float32Array(DIM + 1))).toThrow(/dimension/);
    expect(() => index.search(new Float32Array(3), 1)).toThrow(/dimension/);
  });

  it('round-trips through save and load: same results, deletions kept, ef restored, slots still reusable', async () => {
    const index = build(vectors.slice(0, 200), 64);
    for (let label = 0; label < 200; label += 3) index.remove(label);
    const file = path.join(tmp, 'sub', 'passages.hnsw');
    index.save(file);
    index.save(file); // over an existing file
    expect(fs.readdirSync(path.dirname(file))).toEqual(['passages.hnsw']);

    const loaded = await VectorIndex.load(file, DIM, { ...PARAMS, ef: 77 });
    expect(loaded.ef).toBe(77); // hnswlib's readIndex alone would leave 10
    expect(loaded.count).toBe(index.count);
    for (const v of vectors.slice(0, 200)) {
      const hits = loaded.search(v, 10);
      expect(hits.map((h) => h.label)).toEqual(index.search(v, 10).map((h) => h.label));
      for (const hit of hits) expect(hit.label % 3).not.toBe(0);
    }
    const capacity = loaded.capacity;
    loaded.add(1000, vectors[250]!);
    expect(loaded.capacity).toBe(capacity);
    expect(loaded.search(vectors[250]!, 1)[0]!.label).toBe(1000);
    loaded.add(3, vectors[3]!); // a deleted label whose slot may or may not have been reused
    expect(loaded.search(vectors[3]!, 1)[0]!.label).toBe(3);
    expect(loaded.count).toBe(index.count + 2);
  });

  it('refuses a file of another dimension, a corrupt file and a missing file with the file named', async () => {
    const file = path.join(tmp, 'dim.hnsw');
    build(vectors.slice(0, 10)).save(file);
    await expect(VectorIndex.load(file, DIM * 2, PARAMS)).rejects.toThrow(/16-dimension/);
    const garbage = path.join(tmp, 'garbage.hnsw');
    fs.writeFileSync(garbage, 'not an index '.repeat(20));
    await expect(VectorIndex.load(garbage, DIM, PARAMS)).rejects.toThrow(/garbage\.hnsw/);
    const truncated = path.join(tmp, 'truncated.hnsw');
    fs.writeFileSync(truncated, fs.readFileSync(file).subarray(0, 200));
    await expect(VectorIndex.load(truncated, DIM, PARAMS)).rejects.toThrow(/truncated\.hnsw/);
    await expect(VectorIndex.load(path.join(tmp, 'absent.hnsw'), DIM, PARAMS)).rejects.toThrow(/absent\.hnsw/);
  });
});
