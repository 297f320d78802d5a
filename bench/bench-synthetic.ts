/**
 * Synthetic passage vectors for the benchmark's dense side at scale.
 *
 * Embedding ~100k passages with a bge-small-shaped model takes hours on a
 * 2-core machine, and HNSW latency and recall do not depend on what the
 * vectors mean, only on how they are distributed. Real sentence embeddings
 * are clustered (passages on one topic sit together), and uniform random
 * vectors would flatter nothing and punish HNSW unrealistically (no
 * neighbourhood structure), so each passage gets a unit vector near one of
 * C cluster centres: centre + Gaussian noise of the same expected norm, so
 * two points of one cluster have cosine ≈ 0.5, as related passages do.
 * kb/index/vector/hnsw.ts measured its parameters on the same distribution.
 *
 * The vector of a text is a pure function of the text (its hash seeds the
 * generator), so repeated passages get identical vectors, as with a model.
 */
import type { Embedder } from '../kb/types.ts';
import { profileFor } from '../kb/index/vector/profiles.ts';

export const SYNTHETIC_MODEL_PREFIX = 'synthetic/clustered';

/** mulberry32: small, fast, good enough for benchmark noise. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  const norm = Math.sqrt(sum) || 1;
  for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! / norm;
  return vector;
}

export class ClusteredVectors {
  private readonly centres: Float32Array[];

  constructor(
    readonly dimension: number,
    readonly clusters: number,
    seed = 7,
  ) {
    const random = prng(seed);
    this.centres = Array.from({ length: clusters }, () => {
      const centre = new Float32Array(dimension);
      for (let i = 0; i < dimension; i++) centre[i] = gaussian(random);
      return normalise(centre);
    });
  }

  /** A unit vector near cluster `seed % clusters`, its noise drawn from `seed`. */
  point(seed: number): Float32Array {
    const random = prng(seed ^ 0x9e3779b9);
    const centre = this.centres[seed % this.clusters]!;
    const sigma = 1 / Math.sqrt(this.dimension);
    const vector = new Float32Array(this.dimension);
    for (let i = 0; i < this.dimension; i++) vector[i] = centre[i]! + sigma * gaussian(random);
    return normalise(vector);
  }

  ofText(text: string): Float32Array {
    return this.point(fnv1a(text));
  }
}

/**
 * An embedder whose passage vectors are synthetic and whose query vectors
 * come from a real model (when given), so dense query latency still includes
 * encoding the query — the part of a dense search a user waits for most.
 */
export function syntheticEmbedder(vectors: ClusteredVectors, queryModel: Embedder | null): Embedder {
  if (queryModel && queryModel.dimension !== vectors.dimension) {
    throw new Error(`query model has ${queryModel.dimension} dimensions, synthetic vectors ${vectors.dimension}`);
  }
  return {
    modelId: `${SYNTHETIC_MODEL_PREFIX}-${vectors.dimension}`,
    dimension: vectors.dimension,
    profile: queryModel?.profile ?? profileFor(`${SYNTHETIC_MODEL_PREFIX}-${vectors.dimension}`, undefined, vectors.dimension),
    embedPassages: (texts) => Promise.resolve(texts.map((text) => vectors.ofText(text))),
    embedQueries: queryModel
      ? (texts) => queryModel.embedQueries(texts)
      : (texts) => Promise.resolve(texts.map((text) => vectors.ofText(`query:${text}`))),
  };
}

/** Labels of the k largest inner products, best first: the exact answer HNSW approximates. */
export function exactTopK(matrix: Float32Array, labels: Int32Array, dimension: number, query: Float32Array, k: number): number[] {
  const bestScores = new Float64Array(k).fill(-Infinity);
  const bestRows = new Int32Array(k).fill(-1);
  const rows = labels.length;
  for (let row = 0; row < rows; row++) {
    let dot = 0;
    const base = row * dimension;
    for (let i = 0; i < dimension; i++) dot += matrix[base + i]! * query[i]!;
    if (dot <= bestScores[k - 1]!) continue;
    let at = k - 1;
    while (at > 0 && bestScores[at - 1]! < dot) {
      bestScores[at] = bestScores[at - 1]!;
      bestRows[at] = bestRows[at - 1]!;
      at--;
    }
    bestScores[at] = dot;
    bestRows[at] = row;
  }
  const out: number[] = [];
  for (const row of bestRows) if (row >= 0) out.push(labels[row]!);
  return out;
}
