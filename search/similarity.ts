/**
 * Calibrated similarity: how likely a stored document answers the same
 * problem as a query text, as a probability that means the same for every
 * query. Relative scores (a rank, a share of the best) make the top result
 * look good whatever it is; a 学前教育 reply shown at 74% for a 养老 proposal
 * told the drafter nothing.
 *
 * The evidence is the embedding model's cosine between the query (with the
 * profile's query prefix) and the document's best stored passage vector —
 * absolute, it depends only on the two texts. Raw cosines are no evidence
 * alone: any two texts of one register share a large common component (e5's
 * cosine of a 养老 proposal with a 学前教育 reply is 0.89, with the 养老 reply
 * 0.93, and citizens' messages with unrelated replies reach 0.88), so both
 * vectors are first centred on the model's mean passage vector (fitted once
 * per model, not per knowledge base, so the number does not drift as
 * documents are added). The centred cosine is mapped through a logistic
 * curve fitted per model by `npm run calibrate-precedents` on
 * bench/precedents.jsonl: positives are each message with the reply that
 * answered it, negatives the same message with the replies that answered the
 * other messages, the two classes weighted equally (so 0.5 means as likely as
 * not, whatever the share of unrelated documents in a knowledge base). Models
 * without a fitted curve (search/calibration/) get no calibrated similarity;
 * the finders still give their coverage.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Searchable } from '../kb/kb.ts';
import { canonicalModelId } from '../kb/index/vector/profiles.ts';
import type { Embedder, Passage, StoredDocument } from '../kb/types.ts';
import { questionVector } from './semantic.ts';

/** P(same problem | c) = 1 / (1 + exp(−(slope · c + intercept))), c the cosine of the two vectors centred on `centre`. */
export interface SimilarityCalibration {
  slope: number;
  intercept: number;
  centre: number[];
}

/** Where a model's fitted curve lives (written by bench/calibrate-precedents.ts). */
export function calibrationFile(modelId: string): string {
  return fileURLToPath(new URL(`./calibration/${canonicalModelId(modelId).replace(/[^\w.-]+/g, '_')}.json`, import.meta.url));
}

const loaded = new Map<string, SimilarityCalibration | undefined>();

export function calibrationFor(modelId: string): SimilarityCalibration | undefined {
  const file = calibrationFile(modelId);
  if (!loaded.has(file)) {
    let calibration: SimilarityCalibration | undefined;
    try {
      calibration = JSON.parse(fs.readFileSync(file, 'utf8')) as SimilarityCalibration;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
    }
    loaded.set(file, calibration);
  }
  return loaded.get(file);
}

export function calibrated(cosine: number, calibration: Pick<SimilarityCalibration, 'slope' | 'intercept'>): number {
  return 1 / (1 + Math.exp(-(calibration.slope * cosine + calibration.intercept)));
}

/** `vector − centre`, unit length. */
export function centred(vector: Float32Array, centre: ArrayLike<number>): Float32Array {
  const out = new Float32Array(vector.length);
  let norm = 0;
  for (let i = 0; i < vector.length; i++) {
    out[i] = vector[i]! - centre[i]!;
    norm += out[i]! * out[i]!;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

/** The stored passage vectors of a document, in passage order; a KnowledgeBase provides them. */
export interface VectorSource {
  passageVectors(documentId: string, within?: { start: number; end: number }): Array<{ passageId: string; vector: Float32Array }>;
}

/**
 * The passages that are the document's own words: a record's citizen message (role 'message') is
 * searched with the reply but is not the reply, and the curve was fitted on replies' passages alone.
 */
export function ownPassages(doc: Pick<StoredDocument, 'passages' | 'paragraphs'>): Passage[] {
  const message = new Set(doc.paragraphs.filter((p) => p.role === 'message').map((p) => p.index));
  return message.size === 0 ? doc.passages : doc.passages.filter((passage) => !message.has(passage.paragraphSpan[0]));
}

export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Scores query texts against stored documents with one model's vectors and that model's curve. */
export class SimilarityScorer {
  private readonly vectors = new Map<string, Map<string, Float32Array>>();
  /** Passages whose vectors were read (a passage without a stored vector is absent from `vectors`). */
  private readonly read = new Set<string>();
  private readonly queries = new Map<string, Promise<Float32Array>>();

  private constructor(
    private readonly embedder: Embedder,
    private readonly source: VectorSource,
    readonly calibration: SimilarityCalibration,
  ) {}

  /** A scorer for `kb`, or undefined when it has no model loaded, cannot hand out vectors, or the model has no fitted curve. */
  static for(kb: Searchable & Partial<VectorSource>): SimilarityScorer | undefined {
    const dense = kb.retrievalIndexes().dense;
    if (!dense || typeof kb.passageVectors !== 'function') return undefined;
    const calibration = calibrationFor(dense.embedder.profile.id);
    return calibration ? new SimilarityScorer(dense.embedder, kb as VectorSource, calibration) : undefined;
  }

  /** The query's centred vector; the model's vector is the one retrieval computed for the same text, when it did. */
  query(text: string): Promise<Float32Array> {
    let vector = this.queries.get(text);
    if (!vector) {
      vector = questionVector(this.embedder, text).then((v) => centred(v, this.calibration.centre));
      this.queries.set(text, vector);
    }
    return vector;
  }

  /** The centred vectors of `passages` (what a finder read of a document), read once. */
  private passageVectors(documentId: string, passages: Passage[]): Map<string, Float32Array> {
    let byPassage = this.vectors.get(documentId);
    if (!byPassage || passages.some((p) => !this.read.has(`${documentId}\u0000${p.id}`))) {
      byPassage ??= new Map();
      if (passages.length === 0) return byPassage;
      // Only the span the passages cover: a long document's other passages are never read.
      const within = { start: Math.min(...passages.map((p) => p.start)), end: Math.max(...passages.map((p) => p.end)) };
      for (const p of this.source.passageVectors(documentId, within)) byPassage.set(p.passageId, centred(p.vector, this.calibration.centre));
      for (const p of passages) this.read.add(`${documentId}\u0000${p.id}`);
      this.vectors.set(documentId, byPassage);
    }
    return byPassage;
  }

  /**
   * The best centred cosine between `query` (from query()) and the document's passages — only those overlapping
   * [start, end) when a span is given (a quoted paragraph). Undefined when none has a vector.
   */
  bestCosine(query: Float32Array, documentId: string, passages: Passage[], span?: { start: number; end: number }): number | undefined {
    const byPassage = this.passageVectors(documentId, passages);
    let best: number | undefined;
    for (const passage of passages) {
      if (span && (passage.end <= span.start || passage.start >= span.end)) continue;
      const vector = byPassage.get(passage.id);
      if (!vector) continue;
      const cosine = dot(query, vector);
      if (best === undefined || cosine > best) best = cosine;
    }
    return best;
  }

  /** P(same problem) for a cosine, rounded to three places like the finders' other scores. */
  probability(cosine: number): number {
    return Math.round(calibrated(cosine, this.calibration) * 1000) / 1000;
  }
}
