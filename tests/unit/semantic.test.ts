/**
 * The answer stage's model evidence is given only for a model whose cosine thresholds were measured, found by
 * its canonical id whatever name the vectors were recorded under.
 */
import { describe, expect, it } from 'vitest';
import { hitSimilarities, type VectorSource } from '../../search/semantic.ts';
import { canonicalModelId, MULTILINGUAL_E5_SMALL } from '../../kb/index/vector/profiles.ts';
import type { SearchHit } from '../../kb/types.ts';

function sourceWith(modelId: string): VectorSource {
  const unit = (i: number) => Float32Array.from({ length: 4 }, (_, k) => (k === i ? 1 : 0));
  const embedder = { modelId, dimension: 4, embedQueries: async (texts: string[]) => texts.map(() => unit(0)), embedPassages: async (texts: string[]) => texts.map(() => unit(1)) };
  return {
    retrievalIndexes: () => ({ dense: { embedder } }),
    passageVectors: () => [{ passageId: 'p1', vector: unit(0) }, { passageId: 'p2', vector: unit(1) }],
  } as unknown as VectorSource;
}

const hits = [{ passageId: 'p1', citation: { documentId: 'd' } }, { passageId: 'p2', citation: { documentId: 'd' } }] as SearchHit[];

describe('model evidence for the answer stage', () => {
  it('maps an embedding server’s bare model name to the measured e5 profile', async () => {
    expect(canonicalModelId('multilingual-e5-small')).toBe(MULTILINGUAL_E5_SMALL.profile.id);
    expect(await hitSimilarities(sourceWith('multilingual-e5-small'), '补贴标准是多少？', hits, 'hybrid')).toEqual([1, 0]);
    expect(await hitSimilarities(sourceWith('intfloat/multilingual-e5-small'), '补贴标准是多少？', hits, 'hybrid')).toEqual([1, 0]);
  });

  it('gives none for a model whose cosines were never measured', async () => {
    expect(await hitSimilarities(sourceWith('some/other-model'), '补贴标准是多少？', hits, 'hybrid')).toBeUndefined();
  });
});
