/**
 * The knowledge base: one SQLite store (the truth), a lexical index and an
 * HNSW vector index (both derived from the store and rebuilt from it), and
 * the retrieval that fuses them. The server, the CLIs and the batch ingester
 * all go through this class.
 *
 * Crash safety rests on three facts: each document is one store transaction;
 * passage labels are never reused; and the HNSW file's sidecar records the
 * store generation (and embedding epoch) it reflects. On open, a missing
 * HNSW file is rebuilt from the stored vectors, and a stale one is reconciled
 * (missing vectors added, vanished ones deleted) — so after a kill -9 the
 * vector index always ends up holding exactly the store's embedded passages.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import { loadEmbedder } from './index/vector/embedder.ts';
import { EmbeddingServiceError } from './index/vector/remote.ts';
import { PARSER_VERSION } from '../ingest/version.ts';
import { LexicalIndex, PolicyTokenizer, USER_DICT_FILE, isCurrentAnalysis } from './index/lexical/lexical.ts';
import { documentMatches, hasFilters, retrieve, type DenseSource, type FusionSettings, type RetrievalContext } from '../search/retrieve.ts';
import { Store, type DocumentFilterRow, type PassageIndexRow } from './store/store.ts';
import {
  DOCUMENT_KINDS,
  type DocumentFailure,
  type DocumentKind,
  type DocumentSummary,
  type Embedder,
  type IngestReport,
  type KnowledgeBaseHealth,
  type ModelProfile,
  type ModelStatus,
  type ParsedDocument,
  type SearchFilters,
  type SearchQuery,
  type SearchResult,
  type StoredDocument,
} from './types.ts';
import { VectorIndex, type HnswParams } from './index/vector/hnsw.ts';
import { describeProfile, profileKey } from './index/vector/profiles.ts';

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
}

/** Which fields of a JSONL record make a document. */
export interface JsonlFields {
  textField: string;
  titleField?: string;
  /** Without it, the 1-based line number is the record id. */
  idField?: string;
}

export interface IngestProgress {
  filesDone: number;
  filesTotal: number;
  /** Pages of paged files (PDF, scans) read so far in this batch; an OCR'd page takes seconds. */
  pagesDone: number;
  /** Passages written so far in this batch. */
  passages: number;
  elapsedSeconds: number;
  currentFile?: string;
}

export interface IngestOptions {
  /** Document ids are paths relative to this folder; default: the common root of `paths`. */
  root?: string;
  /** Sub-paths or simple globs to skip. */
  exclude?: string[];
  /** Remove documents whose files are gone (under the given paths). */
  prune?: boolean;
  jsonl?: JsonlFields;
  onProgress?: (progress: IngestProgress) => void;
}

export type IngestFileResult =
  | { status: 'added' | 'updated' | 'unchanged'; document: DocumentSummary }
  | { status: 'failed'; error: string };

export interface ListDocumentsOptions {
  filters?: SearchFilters;
  offset?: number;
  limit?: number;
}

/** A document ready to be written: parsed, with its id and the hash that says when it changed. */
export interface DocumentToIndex {
  id: string;
  sourcePath?: string;
  contentHash: string;
  parsed: ParsedDocument;
}

export type IndexOutcome = { id: string; status: 'added' | 'updated'; passages: number } | { id: string; status: 'failed'; error: string };

/** A refusal to open the store as configured (model mismatch, unreadable data folder), with the fix in the message. */
export class KnowledgeBaseError extends Error {}

export const VECTOR_FILE = 'vectors.hnsw';
export const VECTOR_SIDECAR = 'vectors.json';

interface VectorSidecar {
  generation: number;
  epoch: number;
  modelId: string;
  dimension: number;
  count: number;
}

/** Hash of a file's bytes plus what shapes its passages: a different passage bound or parser version re-parses everything. */
export function contentHash(bytes: Uint8Array | string, config: Pick<Config, 'passageMaxChars'>): string {
  return `${createHash('sha256').update(bytes).digest('hex')}:p${config.passageMaxChars}:v${PARSER_VERSION}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class KnowledgeBase {
  readonly config: Config;
  private currentEmbedder: Embedder | null;
  private currentLexicalOnlyReason: string | undefined;
  private modelStatus: ModelStatus | undefined;

  private readonly store: Store;
  private readonly log: (message: string) => void;
  private readonly tokenizer: PolicyTokenizer;
  private readonly lexical: LexicalIndex;
  private vectors: VectorIndex | null = null;
  private vectorState: KnowledgeBaseHealth['index']['state'] = 'absent';
  private vectorsDirty = false;
  private wrote = false;

  // What search needs per passage and per document, in memory: no SQL per candidate.
  private labelDoc = new Int32Array(1024);
  private readonly documents = new Map<number, DocumentFilterRow>();
  private passageCount = 0;
  private exclusiveTail: Promise<unknown> = Promise.resolve();

  private constructor(config: Config, store: Store, embedder: Embedder | null, lexicalOnlyReason: string | undefined, log: (m: string) => void) {
    this.config = config;
    this.store = store;
    this.currentEmbedder = embedder;
    this.currentLexicalOnlyReason = embedder ? undefined : lexicalOnlyReason;
    this.log = log;
    this.tokenizer = new PolicyTokenizer({ userDictPath: path.join(config.dataDir, USER_DICT_FILE) });
    this.lexical = new LexicalIndex(this.tokenizer);
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
   * stay so until embedMissing.
   */
  attachEmbedder(embedder: Embedder): Promise<void> {
    return this.exclusive(async () => {
      checkModel(this.store, embedder, false, this.log);
      await this.loadVectors({ id: embedder.modelId, dimension: embedder.dimension });
      this.currentEmbedder = embedder;
      this.currentLexicalOnlyReason = undefined;
    });
  }

  static async open(config: Config, options: KnowledgeBaseOptions = {}): Promise<KnowledgeBase> {
    const log = options.log ?? ((message: string) => console.error(message));
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
    let store: Store;
    try {
      store = Store.open(config.dataDir);
    } catch (error) {
      throw new KnowledgeBaseError(`无法打开知识库 ${config.dataDir}：${errorMessage(error)} (cannot open the store)`);
    }
    try {
      checkModel(store, embedder, options.allowModelChange === true, log);
      const kb = new KnowledgeBase(config, store, embedder, reason, log);
      kb.loadLexical();
      // Without a model the stored vectors still get maintained (a removal must leave the HNSW file too).
      const vectorModel = embedder ? { id: embedder.modelId, dimension: embedder.dimension } : store.model();
      if (vectorModel) await kb.loadVectors(vectorModel);
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
  }

  private addToMemory(row: PassageIndexRow): void {
    this.lexical.add(row.label, row.lexical, row.text);
    this.ensureLabelCapacity(row.label);
    this.labelDoc[row.label] = row.docKey;
    this.passageCount++;
  }

  private dropFromMemory(labels: number[]): void {
    for (const label of labels) {
      if (this.lexical.remove(label)) this.passageCount--;
      if (this.vectors?.has(label)) {
        this.vectors.remove(label);
        this.vectorsDirty = true;
      }
      if (label < this.labelDoc.length) {
        this.labelDoc[label] = 0;
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
    if (stale.length > 0) {
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

  private get vectorFile(): string {
    return path.join(this.config.dataDir, VECTOR_FILE);
  }

  private get sidecarFile(): string {
    return path.join(this.config.dataDir, VECTOR_SIDECAR);
  }

  private epoch(): number {
    return this.store.vectorEpoch();
  }

  private readSidecar(): VectorSidecar | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.sidecarFile, 'utf8')) as VectorSidecar;
    } catch {
      return undefined;
    }
  }

  private async loadVectors(model: { id: string; dimension: number }): Promise<void> {
    const counts = this.store.counts();
    const sidecar = this.readSidecar();
    const generation = this.store.generation();
    const sameVectors = sidecar && sidecar.epoch === this.epoch() && sidecar.modelId === model.id && sidecar.dimension === model.dimension;
    if (sameVectors && fs.existsSync(this.vectorFile)) {
      try {
        const index = await VectorIndex.load(this.vectorFile, model.dimension, this.hnswParams);
        this.vectors = index;
        if (sidecar.generation === generation && index.count === counts.embedded) {
          this.vectorState = 'ready';
          return;
        }
        const { added, removed } = this.reconcileVectors(index);
        this.log(
          `HNSW index ${this.vectorFile} was stale (generation ${sidecar.generation}, store ${generation}): reconciled from the store, +${added} −${removed} vectors, now ${index.count}`,
        );
        this.vectorState = 'rebuilt';
        this.saveVectors();
        return;
      } catch (error) {
        this.log(`HNSW index ${this.vectorFile} unreadable (${errorMessage(error)}): rebuilding from the store`);
      }
    } else if (counts.embedded > 0) {
      this.log(`HNSW index ${this.vectorFile} ${fs.existsSync(this.vectorFile) ? 'belongs to other vectors' : 'is missing'}: rebuilding from ${counts.embedded} stored vectors`);
    }
    const started = performance.now();
    const index = VectorIndex.create(model.dimension, this.hnswParams, Math.max(1024, Math.ceil(counts.embedded * 1.2)));
    for (const { label, vector } of this.store.embeddingRows()) index.add(label, vector);
    this.vectors = index;
    if (counts.embedded > 0) {
      this.log(`HNSW index rebuilt: ${index.count} vectors in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      this.vectorState = 'rebuilt';
      this.saveVectors();
    } else {
      this.vectorState = 'ready';
    }
  }

  /** Make a loaded index hold exactly the store's vectors; labels are never reused, so a label present in both is the same vector. */
  private reconcileVectors(index: VectorIndex): { added: number; removed: number } {
    let added = 0;
    let removed = 0;
    let maxLabel = 0;
    const stored = new Set<number>();
    for (const { label, vector } of this.store.embeddingRows()) {
      stored.add(label);
      maxLabel = Math.max(maxLabel, label);
      if (!index.has(label)) {
        index.add(label, vector);
        added++;
      }
    }
    if (index.count !== stored.size) {
      const highest = Math.max(maxLabel, this.store.maxLabel());
      for (let label = 0; label <= highest && index.count > stored.size; label++) {
        if (index.has(label) && !stored.has(label)) {
          index.remove(label);
          removed++;
        }
      }
    }
    return { added, removed };
  }

  /** Write the HNSW file and then its sidecar; a crash between the two only makes the next open reconcile. */
  saveVectors(): void {
    const model = this.store.model() ?? (this.embedder ? { id: this.embedder.modelId, dimension: this.embedder.dimension } : undefined);
    if (!this.vectors || !model) return;
    this.vectors.save(this.vectorFile);
    const sidecar: VectorSidecar = {
      generation: this.store.generation(),
      epoch: this.epoch(),
      modelId: model.id,
      dimension: model.dimension,
      count: this.vectors.count,
    };
    const temp = `${this.sidecarFile}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(sidecar, null, 2));
    fs.renameSync(temp, this.sidecarFile);
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

  private retrievalContext(): RetrievalContext {
    const vectors = this.vectors;
    const dense: DenseSource | null =
      this.embedder && vectors ? { embedder: this.embedder, search: (vector, k, accept) => vectors.search(vector, k, accept) } : null;
    const context: RetrievalContext = {
      lexical: this.lexical,
      tokenizer: this.tokenizer,
      dense,
      acceptFor: (filters) => this.acceptFor(filters),
      passages: (labels) => this.store.passagesByLabel(labels),
      rrfK: this.config.rrfK,
      weightLexical: this.config.weightLexical,
      weightDense: this.config.weightDense,
      fusionDepth: this.config.fusionDepth,
    };
    // One short line in every result; the technical reason is in health() and the log.
    if (!this.embedder) context.lexicalOnlyReason = this.userLexicalOnlyNotice();
    return context;
  }

  /** `fusion` overrides the configured fusion constants for this query (the tuning bench compares settings on one open store). */
  search(query: SearchQuery, fusion?: Partial<FusionSettings>): Promise<SearchResult> {
    return retrieve({ ...this.retrievalContext(), ...fusion }, query);
  }

  /** Whether any passage holds `word` (a jieba word, folded): what the answer stage asks before saying "没有". */
  knowsWord(word: string): boolean {
    return this.lexical.wordFrequency(word) > 0;
  }

  /** Share of the passages that hold `word` (0..1): how common a word is in this knowledge base. */
  wordShare(word: string): number {
    return this.lexical.size > 0 ? Math.min(1, this.lexical.wordFrequency(word) / this.lexical.size) : 0;
  }

  getDocument(id: string): StoredDocument | undefined {
    return this.store.getDocument(id);
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

  private userLexicalOnlyNotice(): string {
    const state = this.modelStatus?.state;
    if (state === 'obtaining' || state === 'loading' || state === 'embedding') {
      return '语义检索模型正在准备中，完成后自动切换为混合检索 (the embedding model is being prepared)';
    }
    if (this.config.lexicalOnly) return '已按配置关闭语义检索 (KB_LEXICAL_ONLY=1)';
    return '语义检索模型未加载，原因见 /api/health 与服务日志 (no embedding model loaded; the reason is in /api/health and the log)';
  }

  /** Store counts straight from SQLite (the CLI's `stats`, the tests' consistency checks). */
  stats(): { documents: number; passages: number; embedded: number; vectors: number; lexical: number; bytesOnDisk: number } {
    const counts = this.store.counts();
    let bytes = this.store.bytesOnDisk();
    for (const file of [this.vectorFile, this.sidecarFile]) {
      try {
        bytes += fs.statSync(file).size;
      } catch {
        // no vector files in lexical-only mode
      }
    }
    return { ...counts, vectors: this.vectors?.count ?? 0, lexical: this.lexical.size, bytesOnDisk: bytes };
  }

  /** The stored passage vectors of a document, in passage order (empty without embeddings). */
  passageVectors(documentId: string): Array<{ passageId: string; vector: Float32Array }> {
    return this.store.passageVectors(documentId);
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

  // -------------------------------------------------------------------------
  // Writing.

  /** Ingest and removal run one at a time (the server may upload while a batch runs). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusiveTail.then(work, work);
    this.exclusiveTail = run.catch(() => undefined);
    return run;
  }

  /**
   * Analyse, embed (in one call for all the documents' passages, so short
   * documents still fill the model's batches) and write each document in its
   * own transaction. A document the embedder chokes on fails alone.
   */
  async indexDocuments(items: DocumentToIndex[]): Promise<IndexOutcome[]> {
    const analysed = items.map((item) =>
      item.parsed.passages.map((p) => this.tokenizer.analyze({ text: p.text, title: item.parsed.title, headingPath: p.headingPath, documentId: item.id })),
    );
    let vectors: Array<Float32Array[] | undefined> = items.map(() => undefined);
    const failures = new Map<number, string>();
    if (this.embedder) {
      const embedder = this.embedder;
      try {
        // A changed file or a new parser version re-parses a document whose passages are mostly the same text:
        // their vectors are kept (same model: the store holds one model's vectors), only new text is embedded.
        const kept = items.map((item) => (this.store.model() ? this.store.vectorsByText(item.id) : new Map<string, Float32Array>()));
        const fresh = [...new Set(items.flatMap((item, i) => item.parsed.passages.map((p) => p.text).filter((text) => !kept[i]!.has(text))))];
        const flat = await embedByLength(embedder, fresh);
        const embedded = new Map(fresh.map((text, i) => [text, flat[i]!]));
        vectors = items.map((item, i) => item.parsed.passages.map((p) => kept[i]!.get(p.text) ?? embedded.get(p.text)!));
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
      });
      this.dropFromMemory(written.removedLabels);
      if (written.removedDocKey !== undefined) this.documents.delete(written.removedDocKey);
      const doc = this.store.documentFilterRow(written.docKey);
      if (doc) this.documents.set(written.docKey, doc);
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

  /** Files that could not be indexed, with their reasons (until they index or are removed). */
  failures(): DocumentFailure[] {
    return this.store.failures();
  }

  recordFailure(id: string, sourcePath: string | undefined, error: string): void {
    this.store.recordFailure(id, sourcePath, error);
    this.wrote = true;
  }

  /** Remove a document from the store and both indexes; false when there was no such document. */
  remove(documentId: string): boolean {
    const removed = this.store.removeDocument(documentId);
    if (!removed) return false;
    this.wrote = true;
    this.dropFromMemory(removed.labels);
    this.documents.delete(removed.docKey);
    return true;
  }

  /** Embed the passages stored without vectors (ingested while no model could be loaded). */
  async embedMissing(onProgress?: (done: number) => void): Promise<number> {
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
      const vectors = await embedByLength(embedder, batch.map((p) => p.text));
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
    return done;
  }

  /** Drop every vector and embed every passage again with the configured model. */
  reembed(onProgress?: (done: number) => void): Promise<number> {
    return this.exclusive(async () => {
      if (!this.embedder) throw new KnowledgeBaseError(`无法重新嵌入：${this.lexicalOnlyReason ?? 'no embedding model loaded'}`);
      this.store.dropEmbeddings();
      this.vectors = VectorIndex.create(this.embedder.dimension, this.hnswParams, Math.max(1024, Math.ceil(this.passageCount * 1.2)));
      this.vectorState = 'rebuilt';
      const done = await this.embedMissing(onProgress);
      this.saveVectors();
      return done;
    });
  }

  ingestPaths(paths: string[], options: IngestOptions = {}): Promise<IngestReport> {
    return this.exclusive(async () => {
      const { ingestBatch } = await import('../ingest/batch.ts');
      await this.embedMissing();
      try {
        return await ingestBatch(this, paths, options);
      } finally {
        if (this.vectorsDirty) this.saveVectors();
      }
    });
  }

  /**
   * Index one file under the given document id (the upload endpoint).
   * `storedAt` is where the file will live once indexed (an upload is read
   * from its temporary file and moved there only after it was indexed): the
   * recorded source path and the name its format is routed by.
   */
  ingestFile(filePath: string, documentId: string, options: { storedAt?: string } = {}): Promise<IngestFileResult> {
    const storedAt = options.storedAt ?? filePath;
    return this.exclusive(async (): Promise<IngestFileResult> => {
      try {
        const [{ parsePool }, { readSourceFile }, { storedHashFor }] = await Promise.all([
          import('../ingest/parse-pool.ts'),
          import('../ingest/extract/index.ts'),
          import('../ingest/extract/ocr/pool.ts'),
        ]);
        const bytes = await readSourceFile(filePath, { maxBytes: this.config.parse.maxFileMb * 1024 * 1024 });
        const hash = contentHash(bytes, this.config);
        const existing = this.store.contentHash(documentId);
        if (existing === hash) {
          const summary = this.store.summary(documentId);
          if (summary) return { status: 'unchanged', document: summary };
        }
        const parsed = await parsePool(this.config.parse).parse({ bytes, file: storedAt, displayPath: documentId, passageMaxChars: this.config.passageMaxChars, ocr: this.config.ocr });
        const [outcome] = await this.indexDocuments([{ id: documentId, sourcePath: path.resolve(storedAt), contentHash: storedHashFor(hash, parsed), parsed }]);
        if (!outcome || outcome.status === 'failed') {
          const error = outcome?.error ?? `${documentId}：未写入`;
          this.recordFailure(documentId, storedAt, error);
          return { status: 'failed', error };
        }
        const summary = this.store.summary(documentId);
        if (!summary) return { status: 'failed', error: `${documentId}：写入后找不到文档` };
        return { status: outcome.status, document: summary };
      } catch (error) {
        this.recordFailure(documentId, storedAt, errorMessage(error));
        return { status: 'failed', error: errorMessage(error) };
      }
    });
  }

  close(): void {
    if (this.vectorsDirty) this.saveVectors();
    if (this.wrote) this.store.checkpoint();
    this.store.close();
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

/** Refuse to mix vectors of two models, or of one model pooled or prefixed two ways; name both and the fix. */
function checkModel(store: Store, embedder: Embedder | null, allowChange: boolean, log: (m: string) => void): void {
  const stored = store.model();
  if (!stored || !embedder) return;
  const current = modelRecord(embedder);
  if (stored.id === current.id && stored.dimension === current.dimension && (stored.profile ?? current.profile) === current.profile) {
    // A store written before profiles were recorded was built by this model's only way of embedding then.
    if (!stored.profile) store.setModel(current);
    return;
  }
  if (store.counts().embedded === 0) {
    store.setModel(undefined);
    return;
  }
  const was = stored.profile ? describeProfile(JSON.parse(stored.profile) as ModelProfile) : `${stored.id} (${stored.dimension} dimensions)`;
  const now = describeProfile(embedder.profile);
  if (allowChange) {
    log(`store holds vectors of ${was}; dropping them for ${now}`);
    store.dropEmbeddings();
    return;
  }
  // The data folder is named in the command: the store may be an eval or bench folder, not KB_DATA_DIR.
  const reembed = `npm run kb -- reembed --data ${path.dirname(store.file)}`;
  throw new KnowledgeBaseError(
    `知识库 ${store.file} 中的向量来自模型 ${was}，而当前配置的模型是 ${now}，两者不能混用。` +
      `请运行 \`${reembed}\` 用当前模型重新嵌入，或把 KB_MODEL 改回 ${stored.id}。 ` +
      `The store holds vectors of ${was} but the configured model is ${now}. ` +
      `Run \`${reembed}\` to re-embed with the configured model, or set KB_MODEL=${stored.id}.`,
  );
}
