/**
 * The embedding model's word on an answer: how close each retrieved passage
 * is to the question, as the cosine of their vectors. The question's vector is
 * the one retrieval already computed (remembered here for the few queries in
 * flight), the passages' vectors are the stored ones: no text is embedded for
 * the answer stage itself.
 *
 * Why passage vectors and not candidate sentences: the ~40 candidate sentences
 * of eight hits would cost seconds of CPU at the model's measured in-process
 * rate (int8 multilingual-e5-small, 9.1 passages per CPU-second, README),
 * far beyond the 150 ms an /api/ask may take. Reading the hits' stored vectors
 * cost 0.4 ms of CPU per ask on average (200 NCPQA questions, 17,573-passage
 * knowledge base; p95 16 ms wall with the machine at load 20).
 */
import type { Embedder, SearchHit } from '../kb/types.ts';
import { canonicalModelId, MULTILINGUAL_E5_SMALL } from '../kb/index/vector/profiles.ts';

/**
 * The answer stage's cosine thresholds (search/answer.ts) were measured on multilingual-e5-small's
 * vectors; another model's cosines live on another scale (bge's, a random-weight test model's), so
 * without thresholds measured for it the answer stage stays lexical rather than trusting numbers
 * that mean nothing there.
 */
const MEASURED_MODELS: ReadonlySet<string> = new Set([MULTILINGUAL_E5_SMALL.profile.id]);
import type { Searchable } from '../kb/kb.ts';

/**
 * Query vectors kept, least recently used dropped first: retrieval and the answer stage of one ask, the
 * page's search and ask of one question, a question asked again, a document's similar list opened again
 * (its whole-text query is up to 1,000 characters, tens of CPU-ms to embed). 512 vectors are ~1 MB with
 * their texts. Under the load check (12 questions, 50 documents' similar lists) the 32 kept before
 * missed every similar request.
 */
const REMEMBERED_QUESTIONS = 512;
const remembered = new WeakMap<Embedder, Map<string, Promise<Float32Array>>>();

/** The query vector of `text` (retrieval's trimmed question text), computed once for retrieval and the answer stage. */
export function questionVector(embedder: Embedder, text: string): Promise<Float32Array> {
  let byText = remembered.get(embedder);
  if (!byText) remembered.set(embedder, (byText = new Map()));
  const known = byText.get(text);
  if (known) {
    byText.delete(text);
    byText.set(text, known);
    return known;
  }
  const vector = embedder.embedQueries([text]).then(([v]) => {
    if (!v) throw new Error('the embedder returned no vector for the question');
    return v;
  });
  // A failed embedding (a remote server down) is not remembered: the next ask tries again.
  vector.catch(() => byText.delete(text));
  byText.set(text, vector);
  if (byText.size > REMEMBERED_QUESTIONS) byText.delete(byText.keys().next().value!);
  return vector;
}

export interface VectorSource extends Searchable {
  passageVectors(documentId: string, within?: { start: number; end: number }): Array<{ passageId: string; vector: Float32Array }>;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/**
 * The cosine between the question and each hit's passage (vectors are
 * L2-normalised), in hit order; undefined when the model is not loaded or has
 * no measured thresholds, when retrieval ran lexical-only, or when the question cannot be embedded now
 * (the answer stage then stays lexical, as without a model). A hit whose
 * passage has no stored vector gets NaN.
 */
export async function hitSimilarities(kb: VectorSource, question: string, hits: SearchHit[], mode: string): Promise<number[] | undefined> {
  const dense = kb.retrievalIndexes().dense;
  const text = question.trim();
  if (!dense || mode === 'lexical' || !text || hits.length === 0) return undefined;
  if (!MEASURED_MODELS.has(canonicalModelId(dense.embedder.modelId))) return undefined;
  let query: Float32Array;
  try {
    query = await questionVector(dense.embedder, text);
  } catch {
    return undefined;
  }
  return hits.map((hit) => {
    // The hit's own passage only (and any it overlaps): never a long document's every vector.
    const vector = kb.passageVectors(hit.citation.documentId, hit.citation).find((p) => p.passageId === hit.passageId)?.vector;
    return vector && vector.length === query.length ? dot(query, vector) : Number.NaN;
  });
}
