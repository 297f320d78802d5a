/**
 * What a knowledge base (kb/kb.ts) needs of its store: the seam between the
 * domain and the storage technology. The SQLite implementation is
 * kb/store/store.ts. Another one — PostgreSQL with pgvector for the vectors
 * and the analysed (pre-segmented) passage text in a column — implements this
 * interface, is handed to `KnowledgeBase.open` as `openStore`, and passes
 * tests/unit/store-contract.test.ts; ingest, retrieval and the server only
 * ever see the KnowledgeBase and are untouched.
 *
 * Labels are the store's integer passage keys: every derived index (BM25F,
 * HNSW) is keyed by them, and they are never reused for another passage.
 */
import type { AnswerFeedback, DocumentExcerpt, DocumentFailure, DocumentKind, DocumentPage, DocumentSummary, ParsedDocument, Passage, PassagePart, Place, StoredDocument, StoredFeedback } from '../types.ts';

export interface DocumentWrite {
  id: string;
  sourcePath?: string;
  contentHash: string;
  parsed: ParsedDocument;
  /** One analysed lexical form per passage, in passage order. */
  lexical: string[];
  /** One slot per passage, in passage order: its vector, or undefined for one to embed later (embedMissing); none at all when lexical-only. */
  embeddings?: Array<Float32Array | undefined>;
  /** One slot per passage: the vectors of its sentences (long documents only, kb/index/vector/sentence-vectors.ts), or undefined for none yet. */
  sentences?: Array<Array<{ text: string; vector: Float32Array }> | undefined>;
}

/** A stored sentence vector: its own key, its passage's label, the vector. */
export interface StoredSentenceVector {
  sentence: number;
  label: number;
  vector: Float32Array;
}

/** What the in-memory indexes need to know about one stored passage. */
export interface PassageIndexRow {
  label: number;
  docKey: number;
  lexical: string;
  text: string;
  /** Body, a record's citizen message (its first paragraph has role 'message') or the sign-off (heading path [CLOSING_BLOCK_HEADING]). */
  part: PassagePart;
}

/** A passage as opening needs it: the index row plus what re-analysing it takes. */
export interface PassageOpenRow extends PassageIndexRow {
  documentId: string;
  title: string;
  /** JSON of the heading path: parsed only when the passage must be re-analysed, which opening rarely needs. */
  headingPathJson: string;
}

/** What filters need about a document, kept in memory. */
export interface DocumentFilterRow {
  docKey: number;
  id: string;
  kind: DocumentKind;
  issuer: string | null;
  date: string | null;
  /** The place and year the document is about (metadata read at ingest): soft ranking evidence, see search/scope.ts. */
  place?: Place;
  year?: number;
}

export interface PassageRow {
  label: number;
  docKey: number;
  documentId: string;
  title: string;
  kind: DocumentKind;
  issuer: string | null;
  date: string | null;
  passage: Passage;
}

export interface WriteResult {
  docKey: number;
  /** Labels of the passages the write replaced (to drop from the indexes). */
  removedLabels: number[];
  added: PassageIndexRow[];
  /** The sentence vectors written with the passages. */
  addedSentences: StoredSentenceVector[];
  replaced: boolean;
  /** The replaced document's old key, when there was one. */
  removedDocKey?: number;
}

/** A stored passage with what its vector is computed from (kb/index/vector/passage-text.ts). */
export interface StoredPassageText {
  label: number;
  text: string;
  headingPath: string[];
  title: string;
  /** How many passages its document has. */
  documentPassages: number;
}

/** The model whose vectors a store holds; `profile` is its profileKey (absent in stores written before profiles). */
export interface StoredModel {
  id: string;
  dimension: number;
  profile?: string;
}

export interface DocumentStore {
  /** Identifies this store for good: files derived from it (the HNSW sidecar) record it. */
  storeId(): string;
  close(): void;
  /** Make everything written so far durable in the store's own files (SQLite: a WAL checkpoint). */
  checkpoint(): void;
  /** Size of the store's files on disk. */
  bytesOnDisk(): number;

  model(): StoredModel | undefined;
  setModel(model: Required<StoredModel> | undefined): void;
  /** Grows each time all vectors are dropped (a re-embedding): a saved vector index records the epoch it was built in. */
  vectorEpoch(): number;

  contentHash(documentId: string): string | undefined;
  /** id → content hash of every document whose id starts with `prefix` (all when empty). */
  documentHashes(prefix?: string): Map<string, string>;
  /** Replace (or add) one document with all its passages, analysed forms and vectors, atomically. */
  writeDocument(input: DocumentWrite): WriteResult;
  /** Remove a document; its key and passage labels, or undefined when there was none. */
  removeDocument(documentId: string): { docKey: number; labels: number[] } | undefined;
  /** A file that could not be indexed, remembered with its reason until it indexes or is removed. */
  recordFailure(id: string, sourcePath: string | undefined, error: string): void;
  failures(): DocumentFailure[];

  addFeedback(entry: AnswerFeedback): StoredFeedback;
  /** Every stored verdict, oldest first. */
  feedback(): IterableIterator<StoredFeedback>;
  feedbackCount(): number;

  counts(): { documents: number; passages: number; embedded: number };
  documentFilterRow(docKey: number): DocumentFilterRow | undefined;
  documentFilterRows(): IterableIterator<DocumentFilterRow>;
  /** Every passage as the in-memory indexes are rebuilt from it, in label order. */
  passageIndexRows(): IterableIterator<PassageOpenRow>;
  /** Replace analysed forms (after the analyser's version changed). */
  updateLexical(entries: Array<{ label: number; lexical: string }>): void;

  /** The labels of every stored vector, ascending: what a vector index built from this store must hold. */
  embeddedLabels(): Uint32Array;
  /** Passages stored without a vector, in label order. */
  passagesWithoutEmbedding(limit: number): StoredPassageText[];
  /** Store vectors for existing passages; the labels stored (a passage that vanished meanwhile is skipped). */
  addEmbeddings(entries: Array<{ label: number; vector: Float32Array }>): number[];
  /** Drop every vector and the model record (before re-embedding with another model). */
  dropEmbeddings(): void;
  /** Drop the vectors of the passages of documents of at least this many passages; how many were dropped. */
  dropEmbeddingsOfLongDocuments(minPassages: number): number;
  embeddingRows(): IterableIterator<{ label: number; vector: Float32Array }>;
  /** A document's stored vectors in passage order; `within`: only the passages overlapping that span of its text. */
  passageVectors(documentId: string, within?: { start: number; end: number }): Array<{ passageId: string; vector: Float32Array }>;
  /** A document's stored vectors with what they were computed from: a re-parse that keeps a passage's text, title and headings keeps its vector. */
  storedVectors(documentId: string): Array<StoredPassageText & { vector: Float32Array }>;

  /** Every sentence vector, in key order. */
  sentenceVectorRows(): IterableIterator<StoredSentenceVector>;
  /** Which passage each sentence vector belongs to, in key order (opening reads this, not the vectors, when the saved index is current). */
  sentencePassages(): Array<{ sentence: number; label: number }>;
  /** A document's sentence vectors with their sentences: a re-parse keeps a sentence's vector by its text. */
  storedSentenceVectors(documentId: string): Array<{ text: string; vector: Float32Array }>;
  /** Embedded passages of documents of at least `minPassages` passages that have no sentence vectors yet, in label order. */
  passagesWithoutSentenceVectors(minPassages: number, limit: number): StoredPassageText[];
  /** Store sentence vectors of existing passages; those stored (a passage that vanished meanwhile is skipped). */
  addSentenceVectors(entries: Array<{ label: number; text: string; vector: Float32Array }>): StoredSentenceVector[];

  /** The passages (with their document's citation fields) for a handful of labels; unknown labels are absent. */
  passagesByLabel(labels: number[]): Map<number, PassageRow>;
  /** A document's whole text and nothing else — or only [span.start, span.end) of it: checking a quote against it costs one read. */
  documentText(documentId: string, span?: { start: number; end: number }): string | undefined;
  /**
   * The paragraphs overlapping [around.start, around.end) and `margin` characters either side, the text they
   * cover and the passages within them; the whole document when its paragraphs end within `wholeUpTo` characters.
   */
  documentExcerpt(documentId: string, around: { start: number; end: number }, limits: { margin: number; wholeUpTo: number }): DocumentExcerpt | undefined;
  summary(documentId: string): DocumentSummary | undefined;
  getDocument(documentId: string): StoredDocument | undefined;
  /** One page of a document's paragraphs (at most `limit` from `offset`, cut at `maxChars`), reading only the text they cover. */
  documentPage(documentId: string, page: { offset: number; limit: number; maxChars: number }): DocumentPage | undefined;
  /** Index of the paragraph holding text offset `at` (the last one starting at or before it). */
  paragraphIndexAt(documentId: string, at: number): number | undefined;
  /** Summaries in id order; `accept` filters on the document key. */
  listSummaries(accept: (docKey: number) => boolean, offset: number, limit: number): { total: number; documents: DocumentSummary[] };
}

/** Opens (or creates) the store of a data folder; `readOnly`: a reader beside a running writer, never migrating. */
export type StoreOpener = (dataDir: string, options: { readOnly: boolean }) => DocumentStore;
