/**
 * Sentence vectors of long documents: each passage of a document of at least
 * LONG_DOCUMENT_PASSAGES passages also gets one vector per sentence, and dense
 * retrieval scores such a passage by the best of its own vector and its
 * sentences' (max-sim). A work report's 300-character passage lists six
 * achievements; its vector is their average, so "北京有多少家医院看病可以用手机
 * 付医保的钱？" finds the report's topic but not the passage whose one sentence
 * holds 医保移动支付. Retrieval still returns and cites the passage.
 *
 * Measured 2026-11-29 on the evaluation corpus (22,392 passages; the 3,199 of its
 * long documents gave 12,808 sentences of ≥ SENTENCE_MIN_CHARS characters),
 * multilingual-e5-small int8, dense alone, exact search, citizens' messages left
 * out; R@5 / R@10 / MRR@10, passage vectors → max-sim:
 * bench/longdoc-heldout.jsonl (25, never tuned on) 0.520 / 0.640 / 0.389 → 0.680 / 0.760 / 0.523;
 * bench/longdoc-heldout2.jsonl (25, never tuned on) 0.760 / 0.760 / 0.575 → 0.880 / 0.880 / 0.727;
 * bench/longdoc-tuning.jsonl (25) 0.640 / 0.720 / 0.502 → 0.680 / 0.880 / 0.629;
 * bench/paraphrase-heldout.jsonl (37, never tuned on) 0.378 / 0.514 / 0.320 → 0.514 / 0.676 / 0.391;
 * bench/paraphrase.jsonl (42) 0.429 / 0.500 / 0.308 → 0.500 / 0.548 / 0.349;
 * bench/scoped.jsonl (42) 0.786 / 0.833 / 0.623 → 0.810 / 0.833 / 0.614;
 * NCPQA (658, short notices: long documents only compete) 0.749 / 0.807 / 0.592 → 0.742 / 0.795 / 0.575.
 * Sentence scores lowered by 0.01–0.03 before the max gave back NCPQA but lost most of
 * the long-document gain, so the plain max is used (nothing fitted). Averaging passage and best
 * sentence was between the two on every set. Short documents keep one vector per
 * passage: their passages carry title and headings in the vector (passage-text.ts),
 * which their sentences alone would lose.
 *
 * The sentence index is a second HNSW file beside the passages' (sentences.hnsw), proved by
 * its own sidecar like the first; a store written before it fills it on the next open
 * that embeds (embedMissing).
 */
import { splitSentences } from '../../text/sentences.ts';
import type { DocumentStore } from '../../store/document-store.ts';
import { VectorIndex, type HnswParams, type VectorHit } from './hnsw.ts';
import { LONG_DOCUMENT_PASSAGES } from './passage-text.ts';
import { labelsDigest, VectorFile, type VectorIdentity } from './vector-file.ts';

/** Shorter sentences (一、…, 其中：) say too little to be found by themselves. */
export const SENTENCE_MIN_CHARS = 8;

/**
 * The texts a passage's sentence vectors are computed from: nothing outside long documents; in them its
 * sentences of at least SENTENCE_MIN_CHARS characters, or the passage itself when it has fewer than two
 * (so every embedded passage of a long document has at least one, and "has none yet" means "to embed").
 */
export function passageSentenceTexts(text: string, documentPassages: number): string[] {
  if (documentPassages < LONG_DOCUMENT_PASSAGES) return [];
  const sentences = splitSentences(text)
    .map((span) => text.slice(span.start, span.end).trim())
    .filter((sentence) => sentence.length >= SENTENCE_MIN_CHARS);
  return sentences.length >= 2 ? sentences : [text];
}

/** The sentence index of a knowledge base, with which passage each sentence belongs to. */
export class SentenceVectors {
  private index: VectorIndex;
  private readonly passageOf = new Map<number, number>();
  private readonly sentencesOf = new Map<number, number[]>();
  private dirty = false;

  private constructor(
    index: VectorIndex,
    private readonly file: VectorFile,
  ) {
    this.index = index;
  }

  /** The saved index when its sidecar proves it holds exactly the store's sentence vectors; otherwise rebuilt from the store. */
  static async open(store: DocumentStore, dataDir: string, identity: VectorIdentity, params: HnswParams, log: (message: string) => void): Promise<SentenceVectors> {
    const file = new VectorFile(dataDir, 'sentences');
    const rows = store.sentencePassages();
    const loaded = await file.load(identity, params);
    if (loaded.status === 'loaded' && loaded.sidecar.labels === labelsDigest(rows.map((r) => r.sentence))) {
      const vectors = new SentenceVectors(loaded.index, file);
      for (const { sentence, label } of rows) vectors.remember(sentence, label);
      return vectors;
    }
    const vectors = new SentenceVectors(VectorIndex.create(identity.dimension, params, Math.max(1024, Math.ceil(rows.length * 1.2))), file);
    if (rows.length > 0) {
      log(`sentence index ${file.file} ${loaded.status === 'loaded' ? 'holds other sentences than the store' : loaded.reason}: rebuilding from ${rows.length} stored vectors`);
      for (const row of store.sentenceVectorRows()) vectors.add(row.sentence, row.label, row.vector);
    }
    return vectors;
  }

  get count(): number {
    return this.index.count;
  }

  private remember(sentence: number, label: number): void {
    this.passageOf.set(sentence, label);
    const list = this.sentencesOf.get(label);
    if (list) list.push(sentence);
    else this.sentencesOf.set(label, [sentence]);
  }

  add(sentence: number, label: number, vector: Float32Array): void {
    this.index.add(sentence, vector);
    this.remember(sentence, label);
    this.dirty = true;
  }

  /** Forget the sentences of passages that were removed or replaced. */
  dropPassages(labels: Iterable<number>): void {
    for (const label of labels) {
      for (const sentence of this.sentencesOf.get(label) ?? []) {
        this.index.remove(sentence);
        this.passageOf.delete(sentence);
        this.dirty = true;
      }
      this.sentencesOf.delete(label);
    }
  }

  /** Drop everything (a re-embedding). */
  clear(dimension: number, params: HnswParams): void {
    this.index = VectorIndex.create(dimension, params);
    this.passageOf.clear();
    this.sentencesOf.clear();
    this.dirty = true;
  }

  /**
   * The passage hits of the passage index, each passage scored by the best of its own vector and its
   * sentences' among the k nearest sentences; passages found by a sentence alone join. Best first, at most k.
   */
  rescore(passageHits: VectorHit[], query: Float32Array, k: number, accept?: (label: number) => boolean): VectorHit[] {
    if (this.index.count === 0) return passageHits;
    const best = new Map(passageHits.map((hit) => [hit.label, hit.score]));
    const acceptSentence = accept && ((sentence: number) => {
      const label = this.passageOf.get(sentence);
      return label !== undefined && accept(label);
    });
    for (const hit of this.index.search(query, k, acceptSentence)) {
      const label = this.passageOf.get(hit.label);
      if (label !== undefined && hit.score > (best.get(label) ?? -Infinity)) best.set(label, hit.score);
    }
    return [...best].map(([label, score]) => ({ label, score })).sort((a, b) => b.score - a.score).slice(0, k);
  }

  /** Written when changed (never for a read-only store: the caller decides). */
  save(identity: VectorIdentity): void {
    if (!this.dirty) return;
    this.file.save(this.index, identity);
    this.dirty = false;
  }

  bytesOnDisk(): number {
    return this.file.bytesOnDisk();
  }
}
