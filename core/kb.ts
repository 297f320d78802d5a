/**
 * The knowledge base: one SQLite store (the truth), a lexical index and an
 * HNSW vector index (both derived from the store and rebuilt from it), and
 * the retrieval that fuses them. The server, the CLIs and the batch ingester
 * all go through this class.
 */
import type { Config } from './config.ts';
import type {
  DocumentSummary,
  Embedder,
  IngestReport,
  KnowledgeBaseHealth,
  SearchFilters,
  SearchQuery,
  SearchResult,
  StoredDocument,
} from './types.ts';

export interface KnowledgeBaseOptions {
  /** An embedder to use; `null` means lexical-only on purpose. When absent, one is loaded from the config. */
  embedder?: Embedder | null;
  /** Why `embedder` is null, shown in health() and search notices. */
  lexicalOnlyReason?: string;
  log?: (message: string) => void;
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

/** A refusal to open the store as configured (model mismatch, unreadable data folder), with the fix in the message. */
export class KnowledgeBaseError extends Error {}

export class KnowledgeBase {
  readonly config: Config;
  readonly embedder: Embedder | null;

  private constructor(config: Config, embedder: Embedder | null) {
    this.config = config;
    this.embedder = embedder;
  }

  static async open(config: Config, options: KnowledgeBaseOptions = {}): Promise<KnowledgeBase> {
    void options;
    return new KnowledgeBase(config, null);
  }

  async search(query: SearchQuery): Promise<SearchResult> {
    void query;
    return { hits: [], mode: 'lexical', lexicalOnly: true, tookMs: 0 };
  }

  getDocument(id: string): StoredDocument | undefined {
    void id;
    return undefined;
  }

  listDocuments(options: ListDocumentsOptions = {}): { total: number; documents: DocumentSummary[] } {
    void options;
    return { total: 0, documents: [] };
  }

  health(): KnowledgeBaseHealth {
    return { documents: 0, passages: 0, mode: 'lexical-only', index: { vectors: 0, state: 'absent' } };
  }

  async ingestPaths(paths: string[], options: IngestOptions = {}): Promise<IngestReport> {
    void paths;
    void options;
    return { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [], passages: 0, seconds: 0, warnings: [] };
  }

  /** Index one file under the given document id (the upload endpoint). */
  async ingestFile(filePath: string, documentId: string): Promise<IngestFileResult> {
    void filePath;
    void documentId;
    return { status: 'failed', error: 'not implemented yet' };
  }

  /** Remove a document from the store and both indexes; false when there was no such document. */
  remove(documentId: string): boolean {
    void documentId;
    return false;
  }

  /** The stored passage vectors of a document, in passage order (empty without embeddings). */
  passageVectors(documentId: string): Array<{ passageId: string; vector: Float32Array }> {
    void documentId;
    return [];
  }

  close(): void {}
}
