/**
 * The knowledge base: one SQLite store (the truth), a lexical index and an
 * HNSW vector index (both derived from the store and rebuilt from it), and
 * the retrieval that fuses them. Readers (the server's queries, the search
 * CLI, the bench) use its read methods; everything that changes it goes
 * through the one IndexWriter that `write()` hands out, one piece of work at
 * a time in this process and — by the data folder's writer lock (lock.ts) —
 * one writing process at a time. Ingest orchestration lives in ingest/ and
 * writes through that writer; this module knows nothing of files or parsing.
 *
 * Crash safety rests on three facts: each document is one store transaction;
 * passage labels are never reused within a store; and the HNSW file is used
 * only when its sidecar proves which store state it reflects (vector-file.ts).
 * On open, an unprovable HNSW file is rebuilt from the stored vectors and a
 * stale one is reconciled (missing vectors added, every label the store does
 * not know removed) — so after a kill -9, or another process's writes, the
 * vector index always ends up holding exactly the store's embedded passages.
 */
import path from 'node:path';
import type { Config } from './config.ts';
import { loadEmbedder } from './index/vector/embedder.ts';
import { EmbeddingServiceError } from './index/vector/remote.ts';
import { LexicalIndex, PolicyTokenizer, USER_DICT_FILE, isCurrentAnalysis } from './index/lexical/lexical.ts';
import { DataFolderLock } from './lock.ts';
import { documentMatches, hasFilters } from './filters.ts';
import { Store, type DocumentFilterRow, type PassageIndexRow, type PassageRow } from './store/store.ts';
import type { DocumentStore, StoreOpener } from './store/document-store.ts';
import {
  DOCUMENT_KINDS,
  PASSAGE_PARTS,
  type PassagePart,
  type AnswerFeedback,
  type StoredFeedback,
  type DocumentFailure,
  type DocumentKind,
  type DocumentSummary,
  type DocumentToIndex,
  type Embedder,
  type IndexOutcome,
  type KnowledgeBaseHealth,
  type ListDocumentsOptions,
  type ModelProfile,
  type ModelStatus,
  type Place,
  type SearchFilters,
  type DocumentExcerpt,
  type DocumentPage,
  type StoredDocument,
} from './types.ts';

import { VectorIndex, type HnswParams } from './index/vector/hnsw.ts';
import { passageSentenceTexts, SentenceVectors } from './index/vector/sentence-vectors.ts';
import { describeProfile, profileKey } from './index/vector/profiles.ts';
import { LONG_DOCUMENT_PASSAGES, PASSAGE_TEXT_FORM, PREVIOUS_PASSAGE_TEXT_FORM, passageEmbeddingText } from './index/vector/passage-text.ts';
import { labelsDigest, VectorFile, type VectorIdentity } from './index/vector/vector-file.ts';

/**
 * A finder (answers, precedents, similar documents) reads a document a hit is in whole up to this many
 * characters — every document of the evaluation knowledge base (3,699 documents, the longest 32,579
 * characters) and all but 8 of the load knowledge base's 2,400 laws — and otherwise only the paragraphs
 * within EXCERPT_MARGIN_CHARS of the hit: a 5M-paragraph document a query touches must not be read whole.
 */
export const WHOLE_DOCUMENT_CHARS = 50_000;
/** Characters of context read either side of a hit in a longer document: its section, the list a sentence introduces. */
export const EXCERPT_MARGIN_CHARS = 10_000;

/** `excerpt`'s text in [start, end) of the document's offsets ('' outside what the excerpt read). */
export function excerptText(excerpt: Pick<DocumentExcerpt, 'text' | 'textStart'>, start: number, end: number): string {
  return excerpt.text.slice(Math.max(0, start - excerpt.textStart), Math.max(0, end - excerpt.textStart));
}

/** A refusal to open the store as configured (model mismatch, unreadable data folder, a writer already at work), with the fix in the message. */
export class KnowledgeBaseError extends Error {}

export interface KnowledgeBaseOptions {
  /** An embedder to use; `null` means lexical-only on purpose. When absent, one is loaded from the config. */
  embedder?: Embedder | null;
  /** Why `embedder` is null, shown in health() and search notices. */
  lexicalOnlyReason?: string;
  log?: (message: string) => void;
  /**
   * Open even though the store holds vectors of another model, dropping them
   * (what `npm run kb -- reembed` does before re-embedding). Without it such
   * a store is refused.
   */
  allowModelChange?: boolean;
  /**
   * Open for reading only: no writer lock is taken, nothing in the data
   * folder is changed (an HNSW file that needs work is rebuilt or reconciled
   * in memory only), and write() refuses. For searching beside a running writer.
   */
  readOnly?: boolean;
  /** How long to wait for another process's writer lock before giving up (default: do not wait). */
  lockWaitMs?: number;
  /** The store behind the knowledge base (kb/store/document-store.ts); default the SQLite one in the data folder. */
  openStore?: StoreOpener;
}

/** The lexical half of retrieval: BM25F over the analysed passages, by label (LexicalIndex in memory; a database's own text search in another store). */
export interface LexicalSource {
  search(query: string, k: number, accept?: (label: number) => boolean): Array<{ key: number; score: number }>;
  /** Share of the passages that hold a word (0..1). */
  wordShare(word: string): number;
  /** Passages indexed. */
  readonly size: number;
}

/** The dense half of retrieval: an embedder and a vector index searchable with a label filter. */
export interface DenseSource {
  embedder: Embedder;
  search(vector: Float32Array, k: number, accept?: (label: number) => boolean): Array<{ label: number; score: number }>;
}

/** The fusion constants (see kb/config.ts for the measurements behind the defaults). */
export interface FusionSettings {
  rrfK: number;
  weightLexical: number;
  weightDense: number;
  /** Candidates each retriever hands to fusion (at least 4k). */
  fusionDepth: number;
  /** The dense weight × (1 + this × the share of the question's rare words the first lexical hits lack); see kb/config.ts. */
  denseForMissingWords: number;
}

/** What retrieval (search/retrieve.ts) reads: the derived indexes and the passages they point to, and how to fuse. */
export interface RetrievalIndexes extends FusionSettings {
  lexical: LexicalSource;
  tokenizer: PolicyTokenizer;
  /** null in lexical-only mode. */
  dense: DenseSource | null;
  lexicalOnlyReason?: string;
  /** Label filter for a query's filters (undefined: no filter). */
  acceptFor(filters: SearchFilters | undefined): ((label: number) => boolean) | undefined;
  /** Passages with their citation fields, for a handful of labels. */
  passages(labels: number[]): Map<number, PassageRow>;
  /** [span.start, span.end) of a document's text: what a hit spanning two adjacent passages shows. */
  documentText(documentId: string, span: { start: number; end: number }): string | undefined;
  /** The place and year of a passage's document, when known (an in-memory lookup). */
  scopeOf?(label: number): { place?: Place; year?: number } | undefined;
  /** Which part of its document a passage is (an in-memory lookup); absent while every passage is body. */
  partOf?(label: number): PassagePart;
  /** How many passages of each part are indexed, when partOf is there (a filter on a part costs only when it has passages). */
  partCounts?: Readonly<Record<PassagePart, number>>;
}

/** Anything retrieval can search: a KnowledgeBase, or a stand-in in tests. */
export interface Searchable {
  retrievalIndexes(): RetrievalIndexes;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The one write path of a knowledge base, handed out by KnowledgeBase.write()
 * and valid only while that piece of work runs. Ingest (ingest/ingest.ts),
 * uploads, removal and re-embedding all write through it.
 */
export class IndexWriter {
  private open = true;

  /** @internal Only KnowledgeBase.write() makes writers. */
  constructor(private readonly kb: WritableKnowledgeBase) {}

  private get target(): WritableKnowledgeBase {
    if (!this.open) throw new Error('IndexWriter used after its write() ended');
    return this.kb;
  }

  /** @internal */
  close(): void {
    this.open = false;
  }

  get config(): Config {
    return this.target.config;
  }

  /** Whether written passages get vectors (an embedder is loaded). */
  get embeds(): boolean {
    return this.target.embedder !== null;
  }

  storedHash(documentId: string): string | undefined {
    return this.target.storedHash(documentId);
  }

  storedHashes(prefix = ''): Map<string, string> {
    return this.target.storedHashes(prefix);
  }

  summary(documentId: string): DocumentSummary | undefined {
    return this.target.summary(documentId);
  }

  /**
   * Analyse, embed (in one call for all the documents' passages, so short
   * documents still fill the model's batches) and write each document in its
   * own transaction. A document the embedder chokes on fails alone.
   */
  indexDocuments(items: DocumentToIndex[]): Promise<IndexOutcome[]> {
    return this.target.indexDocuments(items);
  }

  /** Remove a document from the store and both indexes; false when there was no such document. */
  remove(documentId: string): boolean {
    return this.target.removeDocument(documentId);
  }

  /** Keep a file that could not be indexed, with its reason, until it indexes or is removed. */
  recordFailure(documentId: string, sourcePath: string | undefined, error: string): void {
    this.target.recordFailure(documentId, sourcePath, error);
  }

  /** Embed the passages stored without vectors (ingested while no model could be loaded). */
  embedMissing(onProgress?: (done: number) => void): Promise<number> {
    return this.target.embedMissing(onProgress);
  }

  /** Drop every vector and embed every passage again with the configured model. */
  reembed(onProgress?: (done: number) => void): Promise<number> {
    return this.target.reembed(onProgress);
  }

  /** Save the vector index if it changed (a long batch does so every few hundred documents and at its end), so a crash loses little index work. */
  checkpoint(): void {
    this.target.saveVectors();
  }
}

/** What IndexWriter calls on its knowledge base: the write half, not reachable otherwise. */
interface WritableKnowledgeBase {
  readonly config: Config;
  readonly embedder: Embedder | null;
  storedHash(documentId: string): string | undefined;
  storedHashes(prefix: string): Map<string, string>;
  summary(documentId: string): DocumentSummary | undefined;
  indexDocuments(items: DocumentToIndex[]): Promise<IndexOutcome[]>;
  removeDocument(documentId: string): boolean;
  recordFailure(documentId: string, sourcePath: string | undefined, error: string): void;
  embedMissing(onProgress?: (done: number) => void): Promise<number>;
  reembed(onProgress?: (done: number) => void): Promise<number>;
  saveVectors(): void;
}

export class KnowledgeBase implements Searchable {
  readonly config: Config;
  readonly readOnly: boolean;
  private currentEmbedder: Embedder | null;
  private currentLexicalOnlyReason: string | undefined;
  private modelStatus: ModelStatus | undefined;

  private readonly store: DocumentStore;
  private readonly lock: DataFolderLock | undefined;
  private readonly log: (message: string) => void;
  private readonly tokenizer: PolicyTokenizer;
  private readonly lexical: LexicalIndex;
  private readonly vectorFile: VectorFile;
  private vectors: VectorIndex | null = null;
  /** Sentence vectors of long documents' passages (sentence-vectors.ts), loaded with the passage index. */
  private sentences: SentenceVectors | null = null;
  private vectorState: KnowledgeBaseHealth['index']['state'] = 'absent';
  private vectorsDirty = false;
  private wrote = false;
  private closed = false;

  // What search needs per passage and per document, in memory: no SQL per candidate.
  private labelDoc = new Int32Array(1024);
  /** Each label's part, as its index in PASSAGE_PARTS (0: body). */
  private labelPart = new Uint8Array(1024);
  private readonly partCounts: Record<PassagePart, number> = { body: 0, message: 0, signOff: 0 };
  private readonly documents = new Map<number, DocumentFilterRow>();
  private passageCount = 0;
  private writeTail: Promise<unknown> = Promise.resolve();

  private constructor(
    config: Config,
    store: DocumentStore,
    lock: DataFolderLock | undefined,
    embedder: Embedder | null,
    lexicalOnlyReason: string | undefined,
    log: (m: string) => void,
  ) {
    this.config = config;
    this.store = store;
    this.lock = lock;
    this.readOnly = lock === undefined;
    this.currentEmbedder = embedder;
    this.currentLexicalOnlyReason = embedder ? undefined : lexicalOnlyReason;
    this.log = log;
    this.tokenizer = new PolicyTokenizer({ userDictPath: path.join(config.dataDir, USER_DICT_FILE) });
    this.lexical = new LexicalIndex(this.tokenizer);
    this.vectorFile = new VectorFile(config.dataDir);
  }

  static async open(config: Config, options: KnowledgeBaseOptions = {}): Promise<KnowledgeBase> {
    const log = options.log ?? ((message: string) => console.error(message));
    let lock: DataFolderLock | undefined;
    if (!options.readOnly) {
      try {
        lock = await DataFolderLock.acquire(config.dataDir, {
          waitMs: options.lockWaitMs ?? 0,
          onWait: (holder) =>
            log(`waiting for the writer lock of ${config.dataDir}, held by ${holder ? `process ${holder.pid} (${holder.command})` : 'another process'} …`),
        });
      } catch (error) {
        throw new KnowledgeBaseError(errorMessage(error));
      }
    }
    try {
      let embedder: Embedder | null;
      let reason: string | undefined = options.lexicalOnlyReason;
      if (options.embedder !== undefined) {
        embedder = options.embedder;
        if (!embedder) reason ??= '未配置嵌入模型，只使用关键词检索。 No embedding model was given; search is lexical-only.';
      } else {
        const loaded = await loadEmbedder(config, log);
        embedder = loaded.embedder;
        reason = loaded.reason;
      }
      let store: DocumentStore;
      try {
        store = (options.openStore ?? Store.open)(config.dataDir, { readOnly: options.readOnly === true });
      } catch (error) {
        throw new KnowledgeBaseError(`无法打开知识库 ${config.dataDir}：${errorMessage(error)} (cannot open the store)`);
      }
      try {
        checkModel(store, config.dataDir, embedder, options.allowModelChange === true && !options.readOnly, !options.readOnly, log);
        const kb = new KnowledgeBase(config, store, lock, embedder, reason, log);
        kb.loadLexical();
        // Without a model the vector file is left alone (KB_LEXICAL_ONLY never touches it); the next
        // open with a model reconciles it with whatever was written meanwhile.
        if (embedder) await kb.loadVectors({ id: embedder.modelId, dimension: embedder.dimension });
        const counts = store.counts();
        if (embedder && counts.embedded < counts.passages) {
          log(
            `${counts.passages - counts.embedded} of ${counts.passages} passages have no vectors yet (stored while no model was loaded): ` +
              'dense search misses them until they are embedded (npm start, npm run ingest and npm run kb -- reembed do it)',
          );
        }
        // A caller that passes `embedder: null` chose lexical-only and says so itself; a model that failed to load is announced here.
        if (!embedder && options.embedder === undefined) log(`知识库为纯关键词模式 (LEXICAL-ONLY)：${reason ?? '没有加载向量模型 (no embedding model loaded)'}`);
        return kb;
      } catch (error) {
        store.close();
        throw error;
      }
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /** The model that embeds queries and passages; null while lexical-only (it can arrive later: attachEmbedder). */
  get embedder(): Embedder | null {
    return this.currentEmbedder;
  }

  /** Why there is no embedder, with the technical detail (health and the log; search results get a short notice). */
  get lexicalOnlyReason(): string | undefined {
    return this.currentLexicalOnlyReason;
  }

  setLexicalOnlyReason(reason: string): void {
    if (!this.currentEmbedder) this.currentLexicalOnlyReason = reason;
  }

  /** Progress of a model being obtained in the background (server/model-startup.ts), shown by health(). */
  setModelStatus(status: ModelStatus): void {
    this.modelStatus = status;
  }

  /**
   * Switch a knowledge base opened lexical-only to `embedder` (once `npm
   * start` has obtained the model). Refuses, like open(), a model whose
   * vectors would mix with the stored ones. Passages stored without vectors
   * stay so until embedMissing. Queued behind every write, so no write sees
   * the model change under it.
   */
  attachEmbedder(embedder: Embedder): Promise<void> {
    const run = async () => {
      checkModel(this.store, this.config.dataDir, embedder, false, !this.readOnly, this.log);
      await this.loadVectors({ id: embedder.modelId, dimension: embedder.dimension });
      this.currentEmbedder = embedder;
      this.currentLexicalOnlyReason = undefined;
    };
    const next = this.writeTail.then(run, run);
    this.writeTail = next.catch(() => undefined);
    return next;
  }

  // -------------------------------------------------------------------------
  // Opening: rebuild the derived indexes from the store.

  private ensureLabelCapacity(label: number): void {
    if (label < this.labelDoc.length) return;
    let size = this.labelDoc.length;
    while (size <= label) size *= 2;
    const docs = new Int32Array(size);
    docs.set(this.labelDoc);
    this.labelDoc = docs;
    const parts = new Uint8Array(size);
    parts.set(this.labelPart);
    this.labelPart = parts;
  }

  private addToMemory(row: PassageIndexRow): void {
    this.lexical.add(row.label, row.lexical, row.text);
    this.ensureLabelCapacity(row.label);
    this.labelDoc[row.label] = row.docKey;
    this.labelPart[row.label] = PASSAGE_PARTS.indexOf(row.part);
    this.partCounts[row.part]++;
    this.passageCount++;
  }

  private dropFromMemory(labels: number[]): void {
    this.sentences?.dropPassages(labels);
    for (const label of labels) {
      if (this.lexical.remove(label)) this.passageCount--;
      if (this.vectors?.has(label)) {
        this.vectors.remove(label);
        this.vectorsDirty = true;
      }
      if (label < this.labelDoc.length) {
        if (this.labelDoc[label] !== 0) this.partCounts[PASSAGE_PARTS[this.labelPart[label]!]!]--;
        this.labelDoc[label] = 0;
        this.labelPart[label] = 0;
      }
    }
  }

  private loadLexical(): void {
    const started = performance.now();
    for (const doc of this.store.documentFilterRows()) this.documents.set(doc.docKey, doc);
    const stale: Array<{ label: number; lexical: string }> = [];
    for (const row of this.store.passageIndexRows()) {
      if (!isCurrentAnalysis(row.lexical)) {
        // The analyser changed since this passage was stored: analyse it again once, and keep the new form.
        row.lexical = this.tokenizer.analyze({ text: row.text, title: row.title, headingPath: JSON.parse(row.headingPathJson) as string[], documentId: row.documentId });
        stale.push({ label: row.label, lexical: row.lexical });
      }
      this.addToMemory(row);
    }
    if (stale.length > 0 && !this.readOnly) {
      this.store.updateLexical(stale);
      this.log(`lexical: re-analysed ${stale.length} passages stored by an older analyser`);
    }
    // Build the postings now, so the first query after opening does not pay for it.
    this.lexical.prepare();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (this.passageCount > 0) this.log(`lexical index: ${this.passageCount} passages of ${this.documents.size} documents loaded in ${seconds} s`);
  }

  private get hnswParams(): HnswParams {
    return { M: this.config.hnswM, efConstruction: this.config.hnswEfConstruction, ef: this.config.hnswEf };
  }

  /** Which vectors an index of this store must hold, label set aside; undefined before anything was embedded. */
  private vectorIdentity(): VectorIdentity | undefined {
    const model = this.store.model() ?? (this.embedder ? { id: this.embedder.modelId, dimension: this.embedder.dimension } : undefined);
    if (!model) return undefined;
    return { storeId: this.store.storeId(), epoch: this.store.vectorEpoch(), modelId: model.id, dimension: model.dimension };
  }

  private async loadVectors(model: { id: string; dimension: number }): Promise<void> {
    await this.loadPassageVectors(model);
    const identity: VectorIdentity = { storeId: this.store.storeId(), epoch: this.store.vectorEpoch(), modelId: model.id, dimension: model.dimension };
    this.sentences = await SentenceVectors.open(this.store, this.config.dataDir, identity, this.hnswParams, this.log);
    if (!this.readOnly) this.sentences.save(identity);
  }

  private async loadPassageVectors(model: { id: string; dimension: number }): Promise<void> {
    const identity: VectorIdentity = { storeId: this.store.storeId(), epoch: this.store.vectorEpoch(), modelId: model.id, dimension: model.dimension };
    const stored = this.store.embeddedLabels();
    const file = this.vectorFile.file;
    const loaded = await this.vectorFile.load(identity, this.hnswParams);
    if (loaded.status === 'loaded') {
      const index = loaded.index;
      this.vectors = index;
      if (loaded.sidecar.labels === labelsDigest(stored)) {
        this.vectorState = 'ready';
        return;
      }
      const { added, removed } = this.reconcileVectors(index, stored);
      this.log(`HNSW index ${file} was stale (it held ${loaded.sidecar.count} vectors, the store ${stored.length}): reconciled from the store, +${added} −${removed} vectors, now ${index.count}`);
      this.vectorState = 'rebuilt';
      this.vectorsDirty = true;
      if (!this.readOnly) this.saveVectors();
      return;
    }
    if (stored.length > 0) this.log(`HNSW index ${file} ${loaded.reason}: rebuilding from ${stored.length} stored vectors`);
    const started = performance.now();
    const index = VectorIndex.create(model.dimension, this.hnswParams, Math.max(1024, Math.ceil(stored.length * 1.2)));
    for (const { label, vector } of this.store.embeddingRows()) index.add(label, vector);
    this.vectors = index;
    if (stored.length > 0) {
      this.log(`HNSW index rebuilt: ${index.count} vectors in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      this.vectorState = 'rebuilt';
      this.vectorsDirty = true;
      if (!this.readOnly) this.saveVectors();
    } else {
      this.vectorState = 'ready';
    }
  }

  /**
   * Make a loaded index hold exactly the store's vectors: add what it lacks,
   * remove every label the store does not know (however high: a store
   * recreated under it starts its labels again). Labels are never reused
   * within one store, and the sidecar proved it is this store's index, so a
   * label present in both is the same vector.
   */
  private reconcileVectors(index: VectorIndex, storedLabels: Uint32Array): { added: number; removed: number } {
    const stored = new Set(storedLabels);
    let removed = 0;
    for (const label of [...index.labels()]) {
      if (!stored.has(label)) {
        index.remove(label);
        removed++;
      }
    }
    let added = 0;
    for (const { label, vector } of this.store.embeddingRows()) {
      if (!index.has(label)) {
        index.add(label, vector);
        added++;
      }
    }
    return { added, removed };
  }

  /** Write the HNSW file and its sidecar if they changed (never in read-only mode). */
  private saveVectors(): void {
    const identity = this.vectorIdentity();
    if (!identity || this.readOnly) return;
    this.sentences?.save(identity);
    if (!this.vectors || !this.vectorsDirty) return;
    this.vectorFile.save(this.vectors, identity);
    this.vectorsDirty = false;
  }

  // -------------------------------------------------------------------------
  // Reading.

  private acceptFor(filters: SearchFilters | undefined): ((label: number) => boolean) | undefined {
    if (!hasFilters(filters)) return undefined;
    let maxKey = 0;
    for (const key of this.documents.keys()) maxKey = Math.max(maxKey, key);
    const accepted = new Uint8Array(maxKey + 1);
    for (const [key, doc] of this.documents) if (documentMatches(doc, filters)) accepted[key] = 1;
    const labelDoc = this.labelDoc;
    return (label) => label < labelDoc.length && accepted[labelDoc[label]!] === 1;
  }

  /** The indexes search/retrieve.ts reads, as they stand now. */
  retrievalIndexes(): RetrievalIndexes {
    const vectors = this.vectors;
    const sentences = this.sentences;
    const dense: DenseSource | null =
      this.embedder && vectors
        ? {
            embedder: this.embedder,
            search: (vector, k, accept) => {
              const hits = vectors.search(vector, k, accept);
              return sentences ? sentences.rescore(hits, vector, k, accept) : hits;
            },
          }
        : null;
    const indexes: RetrievalIndexes = {
      lexical: this.lexical,
      tokenizer: this.tokenizer,
      dense,
      acceptFor: (filters) => this.acceptFor(filters),
      passages: (labels) => this.store.passagesByLabel(labels),
      documentText: (documentId, span) => this.store.documentText(documentId, span),
      scopeOf: (label) => (label < this.labelDoc.length ? this.documents.get(this.labelDoc[label]!) : undefined),
      rrfK: this.config.rrfK,
      weightLexical: this.config.weightLexical,
      weightDense: this.config.weightDense,
      fusionDepth: this.config.fusionDepth,
      denseForMissingWords: this.config.denseForMissingWords,
    };
    // With body passages only no lookup is installed: a filter costs the HNSW walk a JS call per visited node.
    if (this.partCounts.message > 0 || this.partCounts.signOff > 0) {
      const parts = this.labelPart;
      indexes.partOf = (label) => (label < parts.length ? PASSAGE_PARTS[parts[label]!]! : 'body');
      indexes.partCounts = { ...this.partCounts };
    }
    // One short line in every result; the technical reason is in health() and the log.
    if (!this.embedder) indexes.lexicalOnlyReason = this.userLexicalOnlyNotice();
    return indexes;
  }

  private userLexicalOnlyNotice(): string {
    const state = this.modelStatus?.state;
    if (state === 'obtaining' || state === 'loading' || state === 'embedding') {
      return '语义检索模型正在准备中，完成后自动切换为混合检索 (the embedding model is being prepared)';
    }
    if (this.config.lexicalOnly) return '已按配置关闭语义检索 (KB_LEXICAL_ONLY=1)';
    return '语义检索模型未加载，原因见 /api/health 与服务日志 (no embedding model loaded; the reason is in /api/health and the log)';
  }

  /** Whether any passage holds `word` (a jieba word, folded): what the answer stage asks before saying "没有". */
  knowsWord(word: string): boolean {
    return this.lexical.wordFrequency(word) > 0;
  }

  /**
   * Whether some passage may hold `text` (folded): every pair of adjacent characters in it occurs in some
   * passage. False means no passage holds it — 电竞 is in no jieba word list and so never a word, yet it is
   * a subject the knowledge base can be said to lack.
   */
  mayHoldText(text: string): boolean {
    for (let i = 0; i + 2 <= text.length; i++) if (this.lexical.bigramFrequency(text.slice(i, i + 2)) === 0) return false;
    return true;
  }

  /** Share of the passages that hold `word` (0..1): how common a word is in this knowledge base. */
  wordShare(word: string): number {
    return this.lexical.wordShare(word);
  }

  getDocument(id: string): StoredDocument | undefined {
    return this.store.getDocument(id);
  }

  /** One page of a document's paragraphs, read by key range (never the whole document). */
  documentPage(id: string, page: { offset: number; limit: number; maxChars: number }): DocumentPage | undefined {
    return this.store.documentPage(id, page);
  }

  /** Index of the paragraph that holds text offset `at`. */
  paragraphIndexAt(id: string, at: number): number | undefined {
    return this.store.paragraphIndexAt(id, at);
  }

  /** A document's text alone — or only [span.start, span.end) of it — without reading its paragraphs and passages. */
  documentText(id: string, span?: { start: number; end: number }): string | undefined {
    return this.store.documentText(id, span);
  }

  /**
   * What a finder reads of a document one of its hits is in: the whole document up to
   * WHOLE_DOCUMENT_CHARS, else the paragraphs within EXCERPT_MARGIN_CHARS of [around.start, around.end).
   */
  documentExcerpt(id: string, around: { start: number; end: number }): DocumentExcerpt | undefined {
    return this.store.documentExcerpt(id, around, { margin: EXCERPT_MARGIN_CHARS, wholeUpTo: WHOLE_DOCUMENT_CHARS });
  }

  listDocuments(options: ListDocumentsOptions = {}): { total: number; documents: DocumentSummary[] } {
    const { filters } = options;
    const accept = hasFilters(filters)
      ? (key: number) => {
          const doc = this.documents.get(key);
          return doc !== undefined && documentMatches(doc, filters);
        }
      : () => true;
    return this.store.listSummaries(accept, Math.max(0, options.offset ?? 0), Math.max(0, options.limit ?? 50));
  }

  health(): KnowledgeBaseHealth {
    const model = this.store.model() ?? (this.embedder ? { id: this.embedder.modelId, dimension: this.embedder.dimension } : undefined);
    const health: KnowledgeBaseHealth = {
      documents: this.documents.size,
      kinds: this.kindCounts(),
      passages: this.passageCount,
      mode: this.embedder ? 'hybrid' : 'lexical-only',
      index: { vectors: this.vectors?.count ?? 0, state: this.vectors ? this.vectorState : 'absent' },
    };
    if (model) health.model = { id: model.id, dimension: model.dimension };
    if (!this.embedder) health.lexicalOnlyReason = this.lexicalOnlyReason ?? 'no embedding model loaded';
    if (this.modelStatus) health.modelStatus = { ...this.modelStatus };
    return health;
  }

  private kindCounts(): Record<DocumentKind, number> {
    const counts = Object.fromEntries(DOCUMENT_KINDS.map((kind) => [kind, 0])) as Record<DocumentKind, number>;
    for (const doc of this.documents.values()) counts[doc.kind] = (counts[doc.kind] ?? 0) + 1;
    return counts;
  }

  /**
   * Store counts straight from SQLite (the CLI's `stats`, the tests' consistency checks); `vectors` is
   * the loaded index's count, or without a model the saved file's.
   */
  stats(): { documents: number; passages: number; embedded: number; vectors: number; lexical: number; bytesOnDisk: number } {
    const counts = this.store.counts();
    const bytes = this.store.bytesOnDisk() + this.vectorFile.bytesOnDisk() + (this.sentences?.bytesOnDisk() ?? 0);
    return { ...counts, vectors: this.vectors?.count ?? this.vectorFile.savedCount() ?? 0, lexical: this.lexical.size, bytesOnDisk: bytes };
  }

  /** The stored passage vectors of a document, in passage order (empty without embeddings); `within`: only those overlapping that span. */
  passageVectors(documentId: string, within?: { start: number; end: number }): Array<{ passageId: string; vector: Float32Array }> {
    return this.store.passageVectors(documentId, within);
  }

  /** The content hash stored for a document (undefined when it is not indexed). */
  storedHash(documentId: string): string | undefined {
    return this.store.contentHash(documentId);
  }

  /** id → content hash of the documents whose ids start with `prefix`. */
  storedHashes(prefix = ''): Map<string, string> {
    return this.store.documentHashes(prefix);
  }

  summary(documentId: string): DocumentSummary | undefined {
    return this.store.summary(documentId);
  }

  /** Files that could not be indexed, with their reasons (until they index or are removed). */
  failures(): DocumentFailure[] {
    return this.store.failures();
  }

  /**
   * Keep a reader's verdict on an answer; undefined when the store already
   * holds KB_FEEDBACK_MAX of them. Not queued behind write(): it is one
   * synchronous insert into a table no index reads, so it can neither wait
   * minutes behind an OCR'd upload nor land inside a document's transaction.
   */
  recordFeedback(entry: AnswerFeedback): StoredFeedback | undefined {
    if (this.readOnly) throw new KnowledgeBaseError(`知识库 ${this.config.dataDir} 以只读方式打开，不能写入 (opened read-only: cannot write)`);
    if (this.store.feedbackCount() >= this.config.feedbackMax) return undefined;
    this.wrote = true;
    return this.store.addFeedback(entry);
  }

  /** Every stored verdict, oldest first (the JSONL export). */
  feedback(): IterableIterator<StoredFeedback> {
    return this.store.feedback();
  }

  // -------------------------------------------------------------------------
  // Writing: only through the IndexWriter that write() hands out.

  /**
   * Run `work` with the knowledge base's IndexWriter, after every write
   * started before it (the server may take an upload while a batch runs).
   * The HNSW file is saved by checkpoint() and at close, not after every
   * write: an upload must not rewrite a 200 MB file, and the store is the truth.
   */
  write<T>(work: (writer: IndexWriter) => Promise<T> | T): Promise<T> {
    if (this.readOnly) {
      return Promise.reject(new KnowledgeBaseError(`知识库 ${this.config.dataDir} 以只读方式打开，不能写入 (opened read-only: cannot write)`));
    }
    const run = async (): Promise<T> => {
      const writer = new IndexWriter({
        config: this.config,
        embedder: this.embedder,
        storedHash: (id) => this.storedHash(id),
        storedHashes: (prefix) => this.storedHashes(prefix),
        summary: (id) => this.summary(id),
        indexDocuments: (items) => this.indexDocuments(items),
        removeDocument: (id) => this.removeDocument(id),
        recordFailure: (id, sourcePath, error) => {
          this.store.recordFailure(id, sourcePath, error);
          this.wrote = true;
        },
        embedMissing: (onProgress) => this.embedMissing(onProgress),
        reembed: (onProgress) => this.reembed(onProgress),
        saveVectors: () => this.saveVectors(),
      });
      try {
        return await work(writer);
      } finally {
        writer.close();
      }
    };
    const next = this.writeTail.then(run, run);
    this.writeTail = next.catch(() => undefined);
    return next;
  }

  private async indexDocuments(items: DocumentToIndex[]): Promise<IndexOutcome[]> {
    const analysed = items.map((item) =>
      item.parsed.passages.map((p) => this.tokenizer.analyze({ text: p.text, title: item.parsed.title, headingPath: p.headingPath, documentId: item.id })),
    );
    let vectors: Array<Array<Float32Array | undefined> | undefined> = items.map(() => undefined);
    const failures = new Map<number, string>();
    // A changed file or a new parser version re-parses a document whose passages are mostly the same text:
    // their vectors are kept (same model: the store holds one model's vectors), only new text is embedded.
    // Without a model loaded now (lexical-only, or still being obtained) they are kept all the same and the
    // rest waits for embedMissing: a parser upgrade started before the model loads must not cost a re-embedding.
    const kept = items.map((item) =>
      this.store.model()
        ? new Map(this.store.storedVectors(item.id).map((row) => [passageEmbeddingText(row.title, row.headingPath, row.text, row.documentPassages), row.vector]))
        : new Map<string, Float32Array>(),
    );
    const inputs = items.map((item) => item.parsed.passages.map((p) => passageEmbeddingText(item.parsed.title, p.headingPath, p.text, item.parsed.passages.length)));
    // A long document's passage is embedded as its text alone, so a one-sentence passage's sentence vector is its own.
    const sentenceInputs = items.map((item) => item.parsed.passages.map((p) => passageSentenceTexts(p.text, item.parsed.passages.length)));
    for (const [i, item] of items.entries()) {
      if (!this.store.model() || !sentenceInputs[i]!.some((texts) => texts.length > 0)) continue;
      for (const row of this.store.storedSentenceVectors(item.id)) if (!kept[i]!.has(row.text)) kept[i]!.set(row.text, row.vector);
    }
    let sentenceVectors: Array<Array<Array<{ text: string; vector: Float32Array }> | undefined> | undefined> = items.map(() => undefined);
    const sentencesOf = (i: number, known: (text: string) => Float32Array | undefined) =>
      sentenceInputs[i]!.some((texts) => texts.length > 0)
        ? sentenceInputs[i]!.map((texts) => {
            const found = texts.map((text) => ({ text, vector: known(text) }));
            return texts.length > 0 && found.every((s) => s.vector) ? (found as Array<{ text: string; vector: Float32Array }>) : undefined;
          })
        : undefined;
    if (!this.embedder) {
      vectors = inputs.map((texts, i) => (kept[i]!.size > 0 ? texts.map((text) => kept[i]!.get(text)) : undefined));
      sentenceVectors = items.map((_, i) => sentencesOf(i, (text) => kept[i]!.get(text)));
    } else {
      const embedder = this.embedder;
      try {
        const fresh = [...new Set(items.flatMap((_, i) => [...inputs[i]!, ...sentenceInputs[i]!.flat()].filter((text) => !kept[i]!.has(text))))];
        const flat = await embedByLength(embedder, fresh);
        const embedded = new Map(fresh.map((text, i) => [text, flat[i]!]));
        vectors = inputs.map((texts, i) => texts.map((text) => kept[i]!.get(text) ?? embedded.get(text)!));
        sentenceVectors = items.map((_, i) => sentencesOf(i, (text) => kept[i]!.get(text) ?? embedded.get(text)));
      } catch (error) {
        // A server that is down or answers garbage would fail every document the same way: stop the batch, write nothing of this group.
        if (error instanceof EmbeddingServiceError && error.scope === 'service') {
          throw new KnowledgeBaseError(
            `${error.message}。本批次已停止，已写入的文档保持完整；服务恢复后重新运行即可（已完成的文件会被跳过）。 ` +
              `The batch stopped; documents already written are intact. Run it again when the server is back (finished files are skipped).`,
          );
        }
        if (items.length === 1) failures.set(0, `嵌入失败（embedding failed）：${errorMessage(error)}`);
        else {
          const outcomes: IndexOutcome[] = [];
          for (const item of items) outcomes.push(...(await this.indexDocuments([item])));
          return outcomes;
        }
      }
    }
    return items.map((item, i): IndexOutcome => {
      const failure = failures.get(i);
      if (failure) return { id: item.id, status: 'failed', error: `${item.id}：${failure}` };
      const embeddings = vectors[i];
      if (embeddings && embeddings.length > 0 && !this.store.model() && this.embedder) {
        this.store.setModel(modelRecord(this.embedder));
      }
      this.wrote = true;
      const written = this.store.writeDocument({
        id: item.id,
        ...(item.sourcePath ? { sourcePath: item.sourcePath } : {}),
        contentHash: item.contentHash,
        parsed: item.parsed,
        lexical: analysed[i] ?? [],
        ...(embeddings ? { embeddings } : {}),
        ...(sentenceVectors[i] ? { sentences: sentenceVectors[i] } : {}),
      });
      this.dropFromMemory(written.removedLabels);
      if (written.removedDocKey !== undefined) this.documents.delete(written.removedDocKey);
      const doc = this.store.documentFilterRow(written.docKey);
      if (doc) this.documents.set(written.docKey, doc);
      for (const row of written.addedSentences) this.sentences?.add(row.sentence, row.label, row.vector);
      written.added.forEach((row, seq) => {
        this.addToMemory(row);
        const vector = embeddings?.[seq];
        if (vector && this.vectors) {
          this.vectors.add(row.label, vector);
          this.vectorsDirty = true;
        }
      });
      return { id: item.id, status: written.replaced ? 'updated' : 'added', passages: written.added.length };
    });
  }

  private removeDocument(documentId: string): boolean {
    const removed = this.store.removeDocument(documentId);
    if (!removed) return false;
    this.wrote = true;
    this.dropFromMemory(removed.labels);
    this.documents.delete(removed.docKey);
    return true;
  }

  private async embedMissing(onProgress?: (done: number) => void): Promise<number> {
    if (!this.embedder || !this.vectors) return 0;
    const embedder = this.embedder;
    const counts = this.store.counts();
    const missing = counts.passages - counts.embedded;
    // Without a caller's progress, say what is happening: a large store takes minutes before an ingest starts its files.
    if (!onProgress && missing > 0) this.log(`embedding ${missing} passages stored without vectors with ${embedder.modelId} …`);
    let lastLog = Date.now();
    let done = 0;
    for (;;) {
      const batch = this.store.passagesWithoutEmbedding(256);
      if (batch.length === 0) break;
      const vectors = await embedByLength(embedder, batch.map((p) => passageEmbeddingText(p.title, p.headingPath, p.text, p.documentPassages)));
      if (!this.store.model()) this.store.setModel(modelRecord(embedder));
      const entries = batch.map((p, i) => ({ label: p.label, vector: vectors[i]! }));
      const stored = new Set(this.store.addEmbeddings(entries));
      for (const entry of entries) if (stored.has(entry.label)) this.vectors.add(entry.label, entry.vector);
      this.vectorsDirty = true;
      done += batch.length;
      if (onProgress) onProgress(done);
      else if (Date.now() - lastLog >= 10_000) {
        lastLog = Date.now();
        this.log(`  embedded ${done}/${missing} passages`);
      }
      if (done % 5120 === 0) this.saveVectors();
    }
    if (done > 0) {
      this.saveVectors();
      this.log(`embedded ${done} passages that had been stored without vectors`);
    }
    await this.embedMissingSentences(embedder);
    return done;
  }

  /** Sentence vectors for the embedded passages of long documents that have none (a store written before them, an ingest without a model). */
  private async embedMissingSentences(embedder: Embedder): Promise<void> {
    const sentences = this.sentences;
    if (!sentences) return;
    let passages = 0;
    let lastLog = Date.now();
    for (;;) {
      const batch = this.store.passagesWithoutSentenceVectors(LONG_DOCUMENT_PASSAGES, 64);
      if (batch.length === 0) break;
      if (passages === 0) this.log(`embedding the sentences of long documents' passages (sentence vectors) with ${embedder.modelId} …`);
      const texts = batch.map((p) => passageSentenceTexts(p.text, p.documentPassages));
      const unique = [...new Set(texts.flat())];
      const flat = await embedByLength(embedder, unique);
      const vectorOf = new Map(unique.map((text, i) => [text, flat[i]!]));
      const stored = this.store.addSentenceVectors(batch.flatMap((p, i) => texts[i]!.map((text) => ({ label: p.label, text, vector: vectorOf.get(text)! }))));
      for (const row of stored) sentences.add(row.sentence, row.label, row.vector);
      passages += batch.length;
      if (Date.now() - lastLog >= 10_000) {
        lastLog = Date.now();
        this.log(`  embedded the sentences of ${passages} passages`);
      }
      if (passages % 1024 === 0) this.saveVectors();
    }
    if (passages > 0) {
      this.saveVectors();
      this.log(`embedded the sentences of ${passages} passages of long documents (${sentences.count} sentence vectors)`);
    }
  }

  private async reembed(onProgress?: (done: number) => void): Promise<number> {
    if (!this.embedder) throw new KnowledgeBaseError(`无法重新嵌入：${this.lexicalOnlyReason ?? 'no embedding model loaded'}`);
    this.store.dropEmbeddings();
    this.vectors = VectorIndex.create(this.embedder.dimension, this.hnswParams, Math.max(1024, Math.ceil(this.passageCount * 1.2)));
    this.sentences?.clear(this.embedder.dimension, this.hnswParams);
    this.vectorState = 'rebuilt';
    this.vectorsDirty = true;
    const done = await this.embedMissing(onProgress);
    this.saveVectors();
    return done;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.vectorsDirty) this.saveVectors();
      if (this.wrote) this.store.checkpoint();
      this.store.close();
    } finally {
      this.lock?.release();
    }
  }
}

/**
 * Embed in order of length and hand the vectors back in the caller's order:
 * the model pads every batch to its longest text, so batches of similar
 * lengths waste less compute on padding (short headings beside full passages).
 */
async function embedByLength(embedder: Embedder, texts: string[]): Promise<Float32Array[]> {
  const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
  const vectors = await embedder.embedPassages(order.map((i) => texts[i]!));
  const result = new Array<Float32Array>(texts.length);
  order.forEach((original, sorted) => {
    result[original] = vectors[sorted]!;
  });
  return result;
}

function modelRecord(embedder: Embedder): { id: string; dimension: number; profile: string } {
  return { id: embedder.modelId, dimension: embedder.dimension, profile: profileKey(embedder.profile) };
}

function passageForm(profileKey: string): unknown {
  return (JSON.parse(profileKey) as Record<string, unknown>).passageText;
}

/** Two model records that differ in nothing but the passage text form (profileKey's passageText). */
function samePassageModel(stored: { id: string; dimension: number; profile?: string }, current: { id: string; dimension: number; profile: string }): boolean {
  if (stored.id !== current.id || stored.dimension !== current.dimension || !stored.profile) return false;
  const withoutForm = (key: string): string => {
    const { passageText: _form, ...rest } = JSON.parse(key) as Record<string, unknown>;
    return JSON.stringify(rest);
  };
  return withoutForm(stored.profile) === withoutForm(current.profile);
}

/** Refuse to mix vectors of two models, or of one model pooled or prefixed two ways; name both and the fix. */
function checkModel(store: DocumentStore, dataDir: string, embedder: Embedder | null, allowChange: boolean, mayWrite: boolean, log: (m: string) => void): void {
  const stored = store.model();
  if (!stored || !embedder) return;
  const current = modelRecord(embedder);
  if (stored.id === current.id && stored.dimension === current.dimension && (stored.profile ?? current.profile) === current.profile) {
    // A store written before profiles were recorded was built by this model's only way of embedding then.
    if (!stored.profile && mayWrite) store.setModel(current);
    return;
  }
  const was = stored.profile ? describeProfile(JSON.parse(stored.profile) as ModelProfile) : `${stored.id} (${stored.dimension} dimensions)`;
  const now = describeProfile(embedder.profile);
  if (store.counts().embedded === 0) {
    if (mayWrite) store.setModel(undefined);
    return;
  }
  if (samePassageModel(stored, current)) {
    // The model is the one configured; only PolicyKB's passage text (passage-text.ts) changed. Nothing to ask the
    // user: the vectors are dropped and every opener that embeds (npm start, ingest, reembed) fills them again.
    if (mayWrite) {
      if (passageForm(stored.profile!) === PREVIOUS_PASSAGE_TEXT_FORM && passageForm(current.profile) === PASSAGE_TEXT_FORM) {
        // Only long documents' passages are embedded otherwise now: the rest keep their vectors.
        const dropped = store.dropEmbeddingsOfLongDocuments(LONG_DOCUMENT_PASSAGES);
        store.setModel(current);
        log(`store holds ${stored.id} vectors of the previous passage text form; re-embedding the ${dropped} passages of its documents of ≥ ${LONG_DOCUMENT_PASSAGES} passages`);
        return;
      }
      log(`store holds ${stored.id} vectors of another passage text form; re-embedding its ${store.counts().embedded} passages`);
      store.dropEmbeddings();
    }
    return;
  }
  if (allowChange) {
    log(`store holds vectors of ${was}; dropping them for ${now}`);
    store.dropEmbeddings();
    return;
  }
  // The data folder is named in the command: the store may be an eval or bench folder, not KB_DATA_DIR.
  const reembed = `npm run kb -- reembed --data ${dataDir}`;
  throw new KnowledgeBaseError(
    `知识库 ${dataDir} 中的向量来自模型 ${was}，而当前配置的模型是 ${now}，两者不能混用。` +
      `请运行 \`${reembed}\` 用当前模型重新嵌入，或把 KB_MODEL 改回 ${stored.id}。 ` +
      `The store holds vectors of ${was} but the configured model is ${now}. ` +
      `Run \`${reembed}\` to re-embed with the configured model, or set KB_MODEL=${stored.id}.`,
  );
}
