/**
 * The store: the one source of truth of the knowledge base, a SQLite file in
 * the data folder. Documents, their paragraphs and passages, each passage's
 * analysed lexical form and its embedding all live here; the lexical index
 * and the HNSW file are derived from it and rebuilt from it.
 *
 * Every document is written in one transaction (old rows out, new rows in),
 * so a kill -9 in the middle of a batch leaves each document either wholly
 * old or wholly new. Passage labels (the integer keys the HNSW and lexical
 * indexes use) come from AUTOINCREMENT and are never reused: a stale HNSW
 * file can therefore never confuse a deleted passage with a new one.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isLowConfidence } from '../ocr.ts';
import type { DocumentFilterRow, DocumentStore, DocumentWrite, PassageIndexRow, PassageOpenRow, PassageRow, StoredPassageText, StoredSentenceVector, WriteResult } from './document-store.ts';
import {
  CLOSING_BLOCK_HEADING,
  type DocumentExcerpt,
  type DocumentKind,
  type DocumentMetadata,
  type DocumentPage,
  type DocumentSummary,
  type PageSpan,
  type Paragraph,
  type ParagraphRole,
  type Place,
  type DocumentFailure,
  type OcrSummary,
  type AnswerFeedback,
  type Passage,
  type StoredFeedback,
  type SourceFormat,
  type StoredDocument,
  type PassagePart,
} from '../types.ts';

const SIGN_OFF_HEADING_PATH = JSON.stringify([CLOSING_BLOCK_HEADING]);

/** A passage's part from its first paragraph's role and its stored heading path (JSON). */
function passagePart(firstRole: ParagraphRole | null | undefined, headingPathJson: string): PassagePart {
  if (firstRole === 'message') return 'message';
  return headingPathJson === SIGN_OFF_HEADING_PATH ? 'signOff' : 'body';
}

/** The columns a passage's embedding text is made of (passage-text.ts), as SQLite returns them. */
interface PassageTextDb {
  label: number;
  text: string;
  heading_path: string;
  title: string;
  passage_count: number;
}

function toPassageText(r: PassageTextDb): StoredPassageText {
  return { label: r.label, text: r.text, headingPath: JSON.parse(r.heading_path) as string[], title: r.title, documentPassages: r.passage_count };
}

export const STORE_FILE = 'kb.sqlite';
/** The version SCHEMA creates; older stores are brought to it by MIGRATIONS. */
const SCHEMA_VERSION = 5;

const FAILURES_TABLE = `CREATE TABLE IF NOT EXISTS failures (
  id TEXT PRIMARY KEY,
  source_path TEXT,
  error TEXT NOT NULL,
  failed_at TEXT NOT NULL
) WITHOUT ROWID;`;

/**
 * Vectors of the sentences of long documents' passages (kb/index/vector/sentence-vectors.ts), each
 * with its passage's label and the sentence it was computed from (a re-parse keeps it by text).
 */
const SENTENCE_EMBEDDINGS_TABLE = `CREATE TABLE IF NOT EXISTS sentence_embeddings (
  sentence INTEGER PRIMARY KEY AUTOINCREMENT,
  label INTEGER NOT NULL,
  text TEXT NOT NULL,
  vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sentence_embeddings_label ON sentence_embeddings (label);`;

/** Readers' verdicts on answers (kb/types.ts AnswerFeedback as JSON): apart from the documents, read by nothing that searches. */
const FEEDBACK_TABLE = `CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at TEXT NOT NULL,
  verdict TEXT NOT NULL,
  entry TEXT NOT NULL
);`;

/**
 * Forward migrations, in order: MIGRATIONS[v - 1] takes a store from version
 * v to v + 1, inside the opening transaction. A store of a newer version than
 * this code knows is refused (it cannot be read safely).
 */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  // 1 → 2: duplicates fold on the passage texts themselves (search/retrieve.ts), so the
  // 32-bit hash of the normalised text goes; every store gets an identity that the HNSW
  // sidecar records, so a vector file can never be taken for another store's; the HNSW
  // sidecar no longer trusts a store generation, so none is kept.
  (db) => {
    db.exec("ALTER TABLE passages DROP COLUMN text_key; DELETE FROM meta WHERE key = 'generation'");
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('storeId', ?)").run(randomUUID());
  },
  // 2 → 3: OCR'd documents record their OCR'd pages and mean confidence, paragraphs and passages
  // their confidence; files that failed to index are remembered with their reason.
  (db) => {
    db.exec(`ALTER TABLE documents ADD COLUMN ocr TEXT;
      ALTER TABLE paragraphs ADD COLUMN confidence REAL;
      ALTER TABLE passages ADD COLUMN confidence REAL;
      ${FAILURES_TABLE}`);
  },
  // 3 → 4: readers' 👍/👎 and corrections on answers.
  (db) => {
    db.exec(FEEDBACK_TABLE);
  },
  // 4 → 5: sentence vectors of long documents' passages (filled by the next opener that embeds).
  (db) => {
    db.exec(SENTENCE_EMBEDDINGS_TABLE);
  },
];


/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = 'SQLite format 3\u0000';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
  doc_key INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  source_path TEXT,
  content_hash TEXT NOT NULL,
  title TEXT NOT NULL,
  kind TEXT NOT NULL,
  format TEXT NOT NULL,
  metadata TEXT NOT NULL,
  issuer TEXT,
  date TEXT,
  text TEXT NOT NULL,
  warnings TEXT NOT NULL,
  needs_ocr INTEGER NOT NULL,
  page_count INTEGER,
  paragraph_count INTEGER NOT NULL,
  passage_count INTEGER NOT NULL,
  indexed_at TEXT NOT NULL,
  -- JSON {pages, confidence} when pages were OCR'd
  ocr TEXT
);
CREATE TABLE IF NOT EXISTS paragraphs (
  doc_key INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  role TEXT NOT NULL,
  heading_path TEXT NOT NULL,
  heading_level INTEGER,
  page_first INTEGER,
  page_last INTEGER,
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  -- NULL when the text is doc.text.slice(start, end), as the parser promises
  text TEXT,
  -- mean OCR confidence; NULL for text the source stated
  confidence REAL,
  PRIMARY KEY (doc_key, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passages (
  label INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_key INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  passage_id TEXT NOT NULL,
  text TEXT NOT NULL,
  heading_path TEXT NOT NULL,
  page_first INTEGER,
  page_last INTEGER,
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  para_first INTEGER NOT NULL,
  para_last INTEGER NOT NULL,
  -- the lexical analyser's storable form, so opening never re-runs jieba
  lexical TEXT NOT NULL,
  -- lowest OCR confidence of its paragraphs; NULL for text the source stated
  confidence REAL
);
CREATE INDEX IF NOT EXISTS passages_by_doc ON passages (doc_key, seq);
CREATE TABLE IF NOT EXISTS embeddings (label INTEGER PRIMARY KEY, vector BLOB NOT NULL);
${FAILURES_TABLE}
${FEEDBACK_TABLE}
${SENTENCE_EMBEDDINGS_TABLE}
`;

interface DocumentRowDb {
  doc_key: number;
  id: string;
  source_path: string | null;
  content_hash: string;
  title: string;
  kind: string;
  format: string;
  metadata: string;
  issuer: string | null;
  date: string | null;
  warnings: string;
  needs_ocr: number;
  page_count: number | null;
  paragraph_count: number;
  passage_count: number;
  indexed_at: string;
  ocr: string | null;
}

interface PassageRowDb {
  label: number;
  doc_key: number;
  seq: number;
  passage_id: string;
  text: string;
  heading_path: string;
  page_first: number | null;
  page_last: number | null;
  start: number;
  end: number;
  para_first: number;
  para_last: number;
  confidence: number | null;
}

const SUMMARY_COLUMNS =
  'doc_key, id, source_path, content_hash, title, kind, format, metadata, issuer, date, warnings, needs_ocr, page_count, paragraph_count, passage_count, indexed_at, ocr';

const FILTER_COLUMNS = "doc_key, id, kind, issuer, date, json_extract(metadata, '$.place') AS place, json_extract(metadata, '$.year') AS year";

interface FilterRowDb {
  doc_key: number;
  id: string;
  kind: string;
  issuer: string | null;
  date: string | null;
  place: string | null;
  year: number | null;
}

function toFilterRow(r: FilterRowDb): DocumentFilterRow {
  const row: DocumentFilterRow = { docKey: r.doc_key, id: r.id, kind: r.kind as DocumentKind, issuer: r.issuer, date: r.date };
  if (r.place) row.place = JSON.parse(r.place) as Place;
  if (typeof r.year === 'number') row.year = r.year;
  return row;
}

function pageSpan(first: number | null, last: number | null): PageSpan | undefined {
  return first === null || last === null ? undefined : [first, last];
}

function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

function blobToVector(blob: Buffer): Float32Array {
  // Copy: the Buffer may sit at an offset that is not 4-byte aligned.
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer);
}

function toSummary(row: DocumentRowDb): DocumentSummary {
  const summary: DocumentSummary = {
    id: row.id,
    title: row.title,
    kind: row.kind as DocumentKind,
    format: row.format as SourceFormat,
    metadata: JSON.parse(row.metadata) as DocumentMetadata,
    paragraphCount: row.paragraph_count,
    passageCount: row.passage_count,
    needsOcr: row.needs_ocr === 1,
    warnings: JSON.parse(row.warnings) as string[],
    indexedAt: row.indexed_at,
  };
  if (row.page_count !== null) summary.pageCount = row.page_count;
  if (row.ocr !== null) summary.ocr = JSON.parse(row.ocr) as OcrSummary;
  return summary;
}

function toPassage(row: PassageRowDb): Passage {
  const passage: Passage = {
    id: row.passage_id,
    text: row.text,
    headingPath: JSON.parse(row.heading_path) as string[],
    start: row.start,
    end: row.end,
    paragraphSpan: [row.para_first, row.para_last],
  };
  const pages = pageSpan(row.page_first, row.page_last);
  if (pages) passage.pages = pages;
  if (row.confidence !== null) passage.confidence = row.confidence;
  if (isLowConfidence(passage.confidence)) passage.lowConfidence = true;
  return passage;
}

const PARAGRAPH_COLUMNS = 'idx, role, heading_path, heading_level, page_first, page_last, start, end, text, confidence';

interface ParagraphRowDb {
  idx: number;
  role: string;
  heading_path: string;
  heading_level: number | null;
  page_first: number | null;
  page_last: number | null;
  start: number;
  end: number;
  /** NULL when the paragraph is the document text's [start, end) */
  text: string | null;
  confidence: number | null;
}

/** Every code point outside the Basic Multilingual Plane, as a GLOB character class. */
const ASTRAL_GLOB_RANGE = '\u{10000}-\u{10FFFF}';

/** `span` is the document text from offset `spanStart` on, covering at least this paragraph when its text is not stored. */
function toParagraph(p: ParagraphRowDb, span: string, spanStart: number): Paragraph {
  const paragraph: Paragraph = {
    index: p.idx,
    text: p.text ?? span.slice(p.start - spanStart, p.end - spanStart),
    role: p.role as ParagraphRole,
    headingPath: JSON.parse(p.heading_path) as string[],
    start: p.start,
    end: p.end,
  };
  if (p.heading_level !== null) paragraph.headingLevel = p.heading_level;
  const pages = pageSpan(p.page_first, p.page_last);
  if (pages) paragraph.pages = pages;
  if (p.confidence !== null) paragraph.confidence = p.confidence;
  if (isLowConfidence(paragraph.confidence)) paragraph.lowConfidence = true;
  return paragraph;
}

/**
 * Whether `file` holds a store already; refuses a file that cannot be one. A
 * zero-length or foreign kb.sqlite must not silently become a new, empty
 * knowledge base: its vectors and its users' documents would be orphaned.
 */
function checkStoreFile(file: string): boolean {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return false;
  }
  const reset = `要重新开始，请删除整个数据目录 ${path.dirname(file)}（To start afresh, delete the whole data folder.）`;
  if (size === 0) {
    throw new Error(`${file} 是空文件（0 字节），不是 PolicyKB 知识库；拒绝把它当作新知识库打开。${reset} (${file} is empty: not a PolicyKB store; refusing to treat it as a new one.)`);
  }
  const header = Buffer.alloc(16);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (header.toString('latin1') !== SQLITE_HEADER) {
    throw new Error(`${file} 不是 SQLite 数据库，不是 PolicyKB 知识库。${reset} (${file} is not an SQLite database: not a PolicyKB store.)`);
  }
  return true;
}

/** The schema version of an existing store; refuses a database that is foreign or newer than this code. */
function schemaVersionOf(db: Database.Database, file: string): number {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
  const row = hasMeta ? (db.prepare("SELECT value FROM meta WHERE key = 'schemaVersion'").get() as { value: string } | undefined) : undefined;
  if (!row) {
    throw new Error(`${file} 是一个 SQLite 数据库，但不是 PolicyKB 知识库（没有 schemaVersion）。 (${file} is an SQLite database but not a PolicyKB store: no schemaVersion.)`);
  }
  const version = Number(row.value);
  if (!Number.isInteger(version) || version < 1 || version > SCHEMA_VERSION) {
    throw new Error(`${file}: store schema version ${row.value}, this PolicyKB reads versions 1–${SCHEMA_VERSION}; use a newer PolicyKB or re-ingest into a new data folder`);
  }
  return version;
}

/** Bring an existing store to SCHEMA_VERSION. */
function migrate(db: Database.Database, file: string, version: number, readOnly: boolean): void {
  if (version === SCHEMA_VERSION) return;
  if (readOnly) {
    throw new Error(`${file}: store schema version ${version} must be migrated to ${SCHEMA_VERSION} first; open it once for writing (npm start, npm run ingest)`);
  }
  db.transaction(() => {
    for (let v = version; v < SCHEMA_VERSION; v++) MIGRATIONS[v - 1]!(db);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schemaVersion'").run(String(SCHEMA_VERSION));
  })();
}

export type { DocumentFilterRow, DocumentStore, DocumentWrite, PassageIndexRow, PassageOpenRow, PassageRow, StoredSentenceVector, WriteResult } from './document-store.ts';

/** The SQLite implementation of DocumentStore (kb/store/document-store.ts). */
export class Store implements DocumentStore {
  readonly file: string;
  private readonly db: Database.Database;
  /**
   * Prepared once per SQL text: answering a question reads a dozen documents,
   * three statements each. Iterated queries are prepared per call instead: a
   * statement that is still being iterated cannot run again.
   */
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  /**
   * Open (or create) the store of a data folder. `readOnly`: a reader beside a
   * running writer; it never migrates (the writer does that), and refuses a
   * store that needs it.
   */
  static open(dataDir: string, options: { readOnly?: boolean } = {}): Store {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, STORE_FILE);
    const existed = checkStoreFile(file);
    const db = new Database(file);
    try {
      // Read before anything is set: a foreign database must be left exactly as it was.
      const version = existed ? schemaVersionOf(db, file) : undefined;
      // A 512-d float32 vector is a 2 KiB blob: at SQLite's default 4 KiB page
      // only one fits per page (4.1 KB each, measured); 16 KiB pages hold seven
      // (2.3 KB each). Takes effect only when the file is new, so it must come
      // before WAL mode is switched on.
      db.pragma('page_size = 16384');
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a power cut may lose the last commits but never
      // corrupts; a killed process loses nothing that was committed.
      db.pragma('synchronous = NORMAL');
      if (version !== undefined) migrate(db, file, version, options.readOnly === true);
      else {
        db.transaction(() => {
          db.exec(SCHEMA);
          const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
          setMeta.run('schemaVersion', String(SCHEMA_VERSION));
          setMeta.run('storeId', randomUUID());
        })();
      }
    } catch (error) {
      db.close();
      throw error;
    }
    return new Store(file, db);
  }

  /** Identifies this store for good: files derived from it (the HNSW sidecar) record it. */
  storeId(): string {
    const id = this.getMeta('storeId');
    if (!id) throw new Error(`${this.file}: store has no storeId`);
    return id;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) this.statements.set(text, (statement = this.db.prepare(text)));
    return statement;
  }

  getMeta(key: string): string | undefined {
    const row = this.sql('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.sql('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  deleteMeta(key: string): void {
    this.sql('DELETE FROM meta WHERE key = ?').run(key);
  }

  /** The model whose vectors the store holds, once anything was embedded; `profile` is its profileKey (absent in stores written before profiles). */
  model(): { id: string; dimension: number; profile?: string } | undefined {
    const id = this.getMeta('modelId');
    const dimension = this.getMeta('dimension');
    const profile = this.getMeta('modelProfile');
    return id && dimension ? { id, dimension: Number(dimension), ...(profile ? { profile } : {}) } : undefined;
  }

  setModel(model: { id: string; dimension: number; profile: string } | undefined): void {
    if (model) {
      this.setMeta('modelId', model.id);
      this.setMeta('dimension', String(model.dimension));
      this.setMeta('modelProfile', model.profile);
    } else {
      this.deleteMeta('modelId');
      this.deleteMeta('dimension');
      this.deleteMeta('modelProfile');
    }
  }

  vectorEpoch(): number {
    return Number(this.getMeta('vectorEpoch') ?? 0);
  }

  /** The highest passage label ever given (labels are never reused). */
  maxLabel(): number {
    const row = this.sql("SELECT seq FROM sqlite_sequence WHERE name = 'passages'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  contentHash(documentId: string): string | undefined {
    const row = this.sql('SELECT content_hash FROM documents WHERE id = ?').get(documentId) as
      | { content_hash: string }
      | undefined;
    return row?.content_hash;
  }

  /** id → content hash of every document whose id starts with `prefix` (all when empty). */
  documentHashes(prefix = ''): Map<string, string> {
    const rows = this.sql("SELECT id, content_hash FROM documents WHERE substr(id, 1, length(?)) = ?")
      .all(prefix, prefix) as Array<{ id: string; content_hash: string }>;
    return new Map(rows.map((r) => [r.id, r.content_hash]));
  }

  /** Replace (or add) one document with all its rows, in one transaction. */
  writeDocument(input: DocumentWrite): WriteResult {
    const { parsed } = input;
    if (input.lexical.length !== parsed.passages.length) throw new Error(`${input.id}: lexical forms do not match passages`);
    if (input.embeddings && input.embeddings.length !== parsed.passages.length) {
      throw new Error(`${input.id}: embeddings do not match passages`);
    }
    if (input.sentences && input.sentences.length !== parsed.passages.length) {
      throw new Error(`${input.id}: sentence vectors do not match passages`);
    }
    const run = this.db.transaction((): WriteResult => {
      const removed = this.deleteDocumentRows(input.id);
      const meta = parsed.metadata;
      const info = this.sql(
          `INSERT INTO documents (id, source_path, content_hash, title, kind, format, metadata, issuer, date, text, warnings,
             needs_ocr, page_count, paragraph_count, passage_count, indexed_at, ocr)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.id,
          input.sourcePath ?? null,
          input.contentHash,
          parsed.title,
          parsed.kind,
          parsed.format,
          JSON.stringify(meta),
          meta.issuer ?? null,
          meta.date ?? null,
          parsed.text,
          JSON.stringify(parsed.warnings),
          parsed.needsOcr ? 1 : 0,
          parsed.pageCount ?? null,
          parsed.paragraphs.length,
          parsed.passages.length,
          new Date().toISOString(),
          parsed.ocr ? JSON.stringify(parsed.ocr) : null,
        );
      this.sql('DELETE FROM failures WHERE id = ?').run(input.id);
      const docKey = Number(info.lastInsertRowid);
      const insertParagraph = this.sql(
        `INSERT INTO paragraphs (doc_key, idx, role, heading_path, heading_level, page_first, page_last, start, end, text, confidence)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const p of parsed.paragraphs) {
        const sliceMatches = parsed.text.slice(p.start, p.end) === p.text;
        insertParagraph.run(
          docKey,
          p.index,
          p.role,
          JSON.stringify(p.headingPath),
          p.headingLevel ?? null,
          p.pages?.[0] ?? null,
          p.pages?.[1] ?? null,
          p.start,
          p.end,
          sliceMatches ? null : p.text,
          p.confidence ?? null,
        );
      }
      const insertPassage = this.sql(
        `INSERT INTO passages (doc_key, seq, passage_id, text, heading_path, page_first, page_last, start, end,
           para_first, para_last, lexical, confidence)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const insertEmbedding = this.sql('INSERT INTO embeddings (label, vector) VALUES (?, ?)');
      const insertSentence = this.sql('INSERT INTO sentence_embeddings (label, text, vector) VALUES (?, ?, ?)');
      const added: PassageIndexRow[] = [];
      const addedSentences: StoredSentenceVector[] = [];
      parsed.passages.forEach((p, seq) => {
        const lexical = input.lexical[seq] as string;
        const headingPathJson = JSON.stringify(p.headingPath);
        const row = insertPassage.run(
          docKey,
          seq,
          p.id,
          p.text,
          headingPathJson,
          p.pages?.[0] ?? null,
          p.pages?.[1] ?? null,
          p.start,
          p.end,
          p.paragraphSpan[0],
          p.paragraphSpan[1],
          lexical,
          p.confidence ?? null,
        );
        const label = Number(row.lastInsertRowid);
        const vector = input.embeddings?.[seq];
        if (vector) insertEmbedding.run(label, vectorToBlob(vector));
        for (const sentence of input.sentences?.[seq] ?? []) {
          const inserted = insertSentence.run(label, sentence.text, vectorToBlob(sentence.vector));
          addedSentences.push({ sentence: Number(inserted.lastInsertRowid), label, vector: sentence.vector });
        }
        added.push({ label, docKey, lexical, text: p.text, part: passagePart(parsed.paragraphs[p.paragraphSpan[0]]?.role, headingPathJson) });
      });
      const result: WriteResult = { docKey, removedLabels: removed?.labels ?? [], added, addedSentences, replaced: removed !== undefined };
      if (removed) result.removedDocKey = removed.docKey;
      return result;
    });
    return run.immediate();
  }

  /** Deletes every row of a document; its key and passage labels, or undefined when there was none. */
  private deleteDocumentRows(documentId: string): { docKey: number; labels: number[] } | undefined {
    const doc = this.sql('SELECT doc_key FROM documents WHERE id = ?').get(documentId) as { doc_key: number } | undefined;
    if (!doc) return undefined;
    const labels = (this.sql('SELECT label FROM passages WHERE doc_key = ?').all(doc.doc_key) as Array<{ label: number }>).map(
      (r) => r.label,
    );
    this.sql('DELETE FROM embeddings WHERE label IN (SELECT label FROM passages WHERE doc_key = ?)').run(doc.doc_key);
    this.sql('DELETE FROM sentence_embeddings WHERE label IN (SELECT label FROM passages WHERE doc_key = ?)').run(doc.doc_key);
    this.sql('DELETE FROM passages WHERE doc_key = ?').run(doc.doc_key);
    this.sql('DELETE FROM paragraphs WHERE doc_key = ?').run(doc.doc_key);
    this.sql('DELETE FROM documents WHERE doc_key = ?').run(doc.doc_key);
    return { docKey: doc.doc_key, labels };
  }

  /** A file that could not be indexed, remembered with its reason until it indexes (writeDocument) or is removed. */
  recordFailure(id: string, sourcePath: string | undefined, error: string): void {
    this.sql(`INSERT INTO failures (id, source_path, error, failed_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET source_path = excluded.source_path, error = excluded.error, failed_at = excluded.failed_at`)
      .run(id, sourcePath ?? null, error, new Date().toISOString());
  }

  failures(): DocumentFailure[] {
    const rows = this.sql('SELECT id, error, failed_at FROM failures ORDER BY id').all() as Array<{ id: string; error: string; failed_at: string }>;
    return rows.map((r) => ({ id: r.id, error: r.error, failedAt: r.failed_at }));
  }

  /** Keep a reader's verdict on an answer; the stored line, with its id and time. */
  addFeedback(entry: AnswerFeedback): StoredFeedback {
    const time = new Date().toISOString();
    const info = this.sql('INSERT INTO feedback (created_at, verdict, entry) VALUES (?, ?, ?)').run(time, entry.verdict, JSON.stringify(entry));
    return { id: Number(info.lastInsertRowid), time, ...entry };
  }

  feedbackCount(): number {
    return (this.sql('SELECT count(*) AS n FROM feedback').get() as { n: number }).n;
  }

  /** Every stored verdict, oldest first. */
  *feedback(): IterableIterator<StoredFeedback> {
    const rows = this.db.prepare('SELECT id, created_at, entry FROM feedback ORDER BY id').iterate() as IterableIterator<{ id: number; created_at: string; entry: string }>;
    for (const r of rows) yield { id: r.id, time: r.created_at, ...(JSON.parse(r.entry) as AnswerFeedback) };
  }

  /** Remove a document; its passage labels, or undefined when there was none. */
  removeDocument(documentId: string): { docKey: number; labels: number[] } | undefined {
    const run = this.db.transaction(() => {
      this.sql('DELETE FROM failures WHERE id = ?').run(documentId);
      const removed = this.deleteDocumentRows(documentId);
      return removed;
    });
    return run.immediate();
  }

  counts(): { documents: number; passages: number; embedded: number } {
    const one = (sql: string) => (this.sql(sql).get() as { n: number }).n;
    return {
      documents: one('SELECT count(*) AS n FROM documents'),
      passages: one('SELECT count(*) AS n FROM passages'),
      embedded: one('SELECT count(*) AS n FROM embeddings'),
    };
  }

  *documentFilterRows(): IterableIterator<DocumentFilterRow> {
    const rows = this.db.prepare(`SELECT ${FILTER_COLUMNS} FROM documents`).iterate() as IterableIterator<FilterRowDb>;
    for (const r of rows) yield toFilterRow(r);
  }

  documentFilterRow(docKey: number): DocumentFilterRow | undefined {
    const r = this.sql(`SELECT ${FILTER_COLUMNS} FROM documents WHERE doc_key = ?`).get(docKey) as FilterRowDb | undefined;
    return r && toFilterRow(r);
  }

  *passageIndexRows(): IterableIterator<PassageOpenRow> {
    const rows = this.db
      .prepare(
        `SELECT p.label, p.doc_key, p.lexical, p.text, p.heading_path, d.title, d.id AS document_id,
           (SELECT role FROM paragraphs WHERE doc_key = p.doc_key AND idx = p.para_first) AS first_role
         FROM passages p JOIN documents d ON d.doc_key = p.doc_key ORDER BY p.label`,
      )
      .iterate() as IterableIterator<{
      label: number;
      doc_key: number;
      lexical: string;
      text: string;
      heading_path: string;
      title: string;
      document_id: string;
      first_role: ParagraphRole | null;
    }>;
    for (const r of rows) {
      yield {
        documentId: r.document_id,
        label: r.label,
        docKey: r.doc_key,
        lexical: r.lexical,
        text: r.text,
        title: r.title,
        headingPathJson: r.heading_path,
        part: passagePart(r.first_role, r.heading_path),
      };
    }
  }

  /** Replace analysed forms (after the analyser's version changed). */
  updateLexical(entries: Array<{ label: number; lexical: string }>): void {
    this.db
      .transaction(() => {
        const update = this.sql('UPDATE passages SET lexical = ? WHERE label = ?');
        for (const e of entries) update.run(e.lexical, e.label);
      })
      .immediate();
  }

  *embeddingRows(): IterableIterator<{ label: number; vector: Float32Array }> {
    const rows = this.db.prepare('SELECT label, vector FROM embeddings ORDER BY label').iterate() as IterableIterator<{
      label: number;
      vector: Buffer;
    }>;
    for (const r of rows) yield { label: r.label, vector: blobToVector(r.vector) };
  }

  /** The labels of every stored vector, ascending: what a vector index built from this store must hold. */
  embeddedLabels(): Uint32Array {
    return Uint32Array.from(this.db.prepare('SELECT label FROM embeddings ORDER BY label').pluck().all() as number[]);
  }

  /** Passages stored without a vector (ingested while no model could be loaded), in label order. */
  passagesWithoutEmbedding(limit: number): StoredPassageText[] {
    const rows = this.sql(
        `SELECT p.label, p.text, p.heading_path, d.title, d.passage_count FROM passages p JOIN documents d ON d.doc_key = p.doc_key
         LEFT JOIN embeddings e ON e.label = p.label WHERE e.label IS NULL ORDER BY p.label LIMIT ?`,
      )
      .all(limit) as PassageTextDb[];
    return rows.map(toPassageText);
  }

  /** Store vectors for existing passages (labels whose passage vanished meanwhile are skipped). */
  addEmbeddings(entries: Array<{ label: number; vector: Float32Array }>): number[] {
    const run = this.db.transaction(() => {
      const insert = this.sql(
        'INSERT OR REPLACE INTO embeddings (label, vector) SELECT label, ? FROM passages WHERE label = ?',
      );
      const stored: number[] = [];
      for (const e of entries) if (insert.run(vectorToBlob(e.vector), e.label).changes > 0) stored.push(e.label);
      return stored;
    });
    return run.immediate();
  }

  dropEmbeddingsOfLongDocuments(minPassages: number): number {
    const ofLongDocuments = 'label IN (SELECT p.label FROM passages p JOIN documents d ON d.doc_key = p.doc_key WHERE d.passage_count >= ?)';
    this.sql(`DELETE FROM sentence_embeddings WHERE ${ofLongDocuments}`).run(minPassages);
    return this.sql(`DELETE FROM embeddings WHERE ${ofLongDocuments}`).run(minPassages).changes;
  }

  /** Drop every vector and the model record (before re-embedding with another model). */
  dropEmbeddings(): void {
    this.db
      .transaction(() => {
        this.sql('DELETE FROM embeddings').run();
        this.sql('DELETE FROM sentence_embeddings').run();
        this.setModel(undefined);
        // A new epoch tells a saved HNSW file its vectors are of the old model, even where labels match.
        this.setMeta('vectorEpoch', String(this.vectorEpoch() + 1));
      })
      .immediate();
  }

  passageVectors(documentId: string, within?: { start: number; end: number }): Array<{ passageId: string; vector: Float32Array }> {
    const rows = (within
      ? this.sql(
          `SELECT p.passage_id, e.vector FROM documents d JOIN passages p ON p.doc_key = d.doc_key
           JOIN embeddings e ON e.label = p.label WHERE d.id = ? AND p.start < ? AND p.end > ? ORDER BY p.seq`,
        ).all(documentId, within.end, within.start)
      : this.sql(
          `SELECT p.passage_id, e.vector FROM documents d JOIN passages p ON p.doc_key = d.doc_key
           JOIN embeddings e ON e.label = p.label WHERE d.id = ? ORDER BY p.seq`,
        ).all(documentId)) as Array<{ passage_id: string; vector: Buffer }>;
    return rows.map((r) => ({ passageId: r.passage_id, vector: blobToVector(r.vector) }));
  }

  /** A document's stored vectors with the text they were computed from: a re-parse that keeps a passage's text (and title and headings) keeps its vector. */
  storedVectors(documentId: string): Array<StoredPassageText & { vector: Float32Array }> {
    const rows = this.sql(
        `SELECT p.label, p.text, p.heading_path, d.title, d.passage_count, e.vector FROM documents d JOIN passages p ON p.doc_key = d.doc_key
         JOIN embeddings e ON e.label = p.label WHERE d.id = ?`,
      )
      .all(documentId) as Array<PassageTextDb & { vector: Buffer }>;
    return rows.map((r) => ({ ...toPassageText(r), vector: blobToVector(r.vector) }));
  }

  *sentenceVectorRows(): IterableIterator<StoredSentenceVector> {
    const rows = this.db.prepare('SELECT sentence, label, vector FROM sentence_embeddings ORDER BY sentence').iterate() as IterableIterator<{
      sentence: number;
      label: number;
      vector: Buffer;
    }>;
    for (const r of rows) yield { sentence: r.sentence, label: r.label, vector: blobToVector(r.vector) };
  }

  sentencePassages(): Array<{ sentence: number; label: number }> {
    return this.db.prepare('SELECT sentence, label FROM sentence_embeddings ORDER BY sentence').all() as Array<{ sentence: number; label: number }>;
  }

  storedSentenceVectors(documentId: string): Array<{ text: string; vector: Float32Array }> {
    const rows = this.sql(
        `SELECT s.text, s.vector FROM documents d JOIN passages p ON p.doc_key = d.doc_key
         JOIN sentence_embeddings s ON s.label = p.label WHERE d.id = ?`,
      )
      .all(documentId) as Array<{ text: string; vector: Buffer }>;
    return rows.map((r) => ({ text: r.text, vector: blobToVector(r.vector) }));
  }

  passagesWithoutSentenceVectors(minPassages: number, limit: number): StoredPassageText[] {
    const rows = this.sql(
        `SELECT p.label, p.text, p.heading_path, d.title, d.passage_count FROM passages p JOIN documents d ON d.doc_key = p.doc_key
         JOIN embeddings e ON e.label = p.label
         WHERE d.passage_count >= ? AND NOT EXISTS (SELECT 1 FROM sentence_embeddings s WHERE s.label = p.label)
         ORDER BY p.label LIMIT ?`,
      )
      .all(minPassages, limit) as PassageTextDb[];
    return rows.map(toPassageText);
  }

  addSentenceVectors(entries: Array<{ label: number; text: string; vector: Float32Array }>): StoredSentenceVector[] {
    const run = this.db.transaction(() => {
      const insert = this.sql('INSERT INTO sentence_embeddings (label, text, vector) SELECT label, ?, ? FROM passages WHERE label = ?');
      const stored: StoredSentenceVector[] = [];
      for (const e of entries) {
        const info = insert.run(e.text, vectorToBlob(e.vector), e.label);
        if (info.changes > 0) stored.push({ sentence: Number(info.lastInsertRowid), label: e.label, vector: e.vector });
      }
      return stored;
    });
    return run.immediate();
  }

  /** The passages (with their document's citation fields) for a handful of labels, by label; unknown labels are absent. */
  passagesByLabel(labels: number[]): Map<number, PassageRow> {
    const result = new Map<number, PassageRow>();
    if (labels.length === 0) return result;
    const placeholders = labels.map(() => '?').join(',');
    const rows = this.db
      .prepare(
        `SELECT p.label, p.doc_key, p.seq, p.passage_id, p.text, p.heading_path, p.page_first, p.page_last, p.start, p.end,
           p.para_first, p.para_last, p.confidence, d.id AS document_id, d.title, d.kind, d.issuer, d.date
         FROM passages p JOIN documents d ON d.doc_key = p.doc_key WHERE p.label IN (${placeholders})`,
      )
      .all(...labels) as Array<PassageRowDb & { document_id: string; title: string; kind: string; issuer: string | null; date: string | null }>;
    for (const r of rows) {
      result.set(r.label, {
        label: r.label,
        docKey: r.doc_key,
        documentId: r.document_id,
        title: r.title,
        kind: r.kind as DocumentKind,
        issuer: r.issuer,
        date: r.date,
        passage: toPassage(r),
      });
    }
    return result;
  }

  /** A document's whole text and nothing else (no paragraphs, no passages): checking a quote against it costs one read. */
  documentText(documentId: string, span?: { start: number; end: number }): string | undefined {
    if (span) {
      // Not .pluck(): statements are cached by their text, and others read this one's rows as objects.
      const row = this.sql('SELECT doc_key FROM documents WHERE id = ?').get(documentId) as { doc_key: number } | undefined;
      return row && this.textBetween(row.doc_key, Math.max(0, span.start), Math.max(0, span.start, span.end));
    }
    const row = this.sql('SELECT text FROM documents WHERE id = ?').get(documentId) as { text: string } | undefined;
    return row?.text;
  }

  /**
   * The paragraphs overlapping [around.start, around.end) and `margin` characters either side, with the
   * text they cover and the passages within them; the whole document when its paragraphs end within
   * `wholeUpTo` characters. Reads by key ranges only: what a finder needs of a document a hit is in.
   */
  documentExcerpt(documentId: string, around: { start: number; end: number }, limits: { margin: number; wholeUpTo: number }): DocumentExcerpt | undefined {
    const row = this.sql(`SELECT ${SUMMARY_COLUMNS} FROM documents WHERE id = ?`).get(documentId) as DocumentRowDb | undefined;
    if (!row) return undefined;
    const last = row.paragraph_count - 1;
    const endOf = this.sql('SELECT end FROM paragraphs WHERE doc_key = ? AND idx = ?').pluck();
    const length = last >= 0 ? (endOf.get(row.doc_key, last) as number) : 0;
    if (length <= limits.wholeUpTo) {
      const whole = this.getDocument(documentId)!;
      return { ...whole, textStart: 0, whole: true };
    }
    const startOf = this.sql('SELECT start FROM paragraphs WHERE doc_key = ? AND idx = ?').pluck();
    const indexAt = (at: number) => {
      let low = 0;
      let high = last;
      while (low < high) {
        const mid = Math.ceil((low + high) / 2);
        if ((startOf.get(row.doc_key, mid) as number) <= at) low = mid;
        else high = mid - 1;
      }
      return low;
    };
    const first = indexAt(around.start - limits.margin);
    const through = indexAt(around.end + limits.margin);
    const rows = this.sql(`SELECT ${PARAGRAPH_COLUMNS} FROM paragraphs WHERE doc_key = ? AND idx BETWEEN ? AND ? ORDER BY idx`)
      .all(row.doc_key, first, through) as ParagraphRowDb[];
    const textStart = rows[0]?.start ?? 0;
    const text = rows.length > 0 ? this.textBetween(row.doc_key, textStart, Math.max(...rows.map((r) => r.end))) : '';
    const passages = (
      this.sql(
        'SELECT label, doc_key, seq, passage_id, text, heading_path, page_first, page_last, start, end, para_first, para_last, confidence FROM passages WHERE doc_key = ? AND para_first >= ? AND para_last <= ? ORDER BY seq',
      ).all(row.doc_key, first, through) as PassageRowDb[]
    ).map(toPassage);
    const excerpt: DocumentExcerpt = { ...toSummary(row), text, textStart, whole: false, paragraphs: rows.map((p) => toParagraph(p, text, textStart)), passages };
    if (row.source_path) excerpt.sourcePath = row.source_path;
    return excerpt;
  }

  summary(documentId: string): DocumentSummary | undefined {
    const row = this.sql(`SELECT ${SUMMARY_COLUMNS} FROM documents WHERE id = ?`).get(documentId) as DocumentRowDb | undefined;
    return row && toSummary(row);
  }

  getDocument(documentId: string): StoredDocument | undefined {
    const row = this.sql(`SELECT ${SUMMARY_COLUMNS}, text FROM documents WHERE id = ?`).get(documentId) as
      | (DocumentRowDb & { text: string })
      | undefined;
    if (!row) return undefined;
    const paragraphRows = this.sql(`SELECT ${PARAGRAPH_COLUMNS} FROM paragraphs WHERE doc_key = ? ORDER BY idx`).all(row.doc_key) as ParagraphRowDb[];
    const paragraphs = paragraphRows.map((p) => toParagraph(p, row.text, 0));
    const passages = (
      this.sql(
          'SELECT label, doc_key, seq, passage_id, text, heading_path, page_first, page_last, start, end, para_first, para_last, confidence FROM passages WHERE doc_key = ? ORDER BY seq',
        )
        .all(row.doc_key) as PassageRowDb[]
    ).map(toPassage);
    const stored: StoredDocument = { ...toSummary(row), text: row.text, paragraphs, passages };
    if (row.source_path) stored.sourcePath = row.source_path;
    return stored;
  }

  /**
   * One page of a document's paragraphs, read by key range: at most `limit`
   * paragraph rows from `offset`, and no more once `maxChars` of paragraph
   * text are collected (always at least one). Of the document's text only the
   * span those paragraphs cover is read. A 5M-paragraph document answered
   * 458 MB in 67 s when every paragraph was loaded to slice a page.
   */
  documentPage(documentId: string, page: { offset: number; limit: number; maxChars: number }): DocumentPage | undefined {
    const row = this.sql(`SELECT ${SUMMARY_COLUMNS} FROM documents WHERE id = ?`).get(documentId) as DocumentRowDb | undefined;
    if (!row) return undefined;
    const rows = page.limit > 0
      ? (this.sql(`SELECT ${PARAGRAPH_COLUMNS} FROM paragraphs WHERE doc_key = ? AND idx >= ? ORDER BY idx LIMIT ?`)
          .all(row.doc_key, page.offset, page.limit) as ParagraphRowDb[])
      : [];
    let chars = 0;
    let kept = 0;
    while (kept < rows.length && (kept === 0 || chars < page.maxChars)) {
      const r = rows[kept]!;
      chars += r.text !== null ? r.text.length : r.end - r.start;
      kept++;
    }
    rows.length = kept;
    const span = this.textSpan(row.doc_key, rows);
    const result: DocumentPage = {
      ...toSummary(row),
      paragraphs: rows.map((p) => toParagraph(p, span.text, span.start)),
      paragraphOffset: page.offset,
      paragraphTotal: row.paragraph_count,
    };
    if (row.source_path) result.sourcePath = row.source_path;
    return result;
  }

  /**
   * The document text from the first to the last offset the rows slice (UTF-16
   * offsets, as the parser counts). SQLite's substr counts code points, which
   * agree with UTF-16 offsets until the first character outside the BMP; a
   * document with one before the span is read from its start instead.
   */
  private textSpan(docKey: number, rows: ParagraphRowDb[]): { text: string; start: number } {
    const sliced = rows.filter((r) => r.text === null);
    if (sliced.length === 0) return { text: '', start: 0 };
    const start = Math.min(...sliced.map((r) => r.start));
    const end = Math.max(...sliced.map((r) => r.end));
    return { text: this.textBetween(docKey, start, end), start };
  }

  /** The document text in [start, end) (UTF-16 offsets), read by SQLite's substr: see textSpan. */
  private textBetween(docKey: number, start: number, end: number): string {
    const direct = this.sql(
      `SELECT substr(text, 1, ?) GLOB '*[${ASTRAL_GLOB_RANGE}]*' AS astral, substr(text, ? + 1, ? - ?) AS span FROM documents WHERE doc_key = ?`,
    ).get(end, start, end, start, docKey) as { astral: number; span: string };
    if (!direct.astral) return direct.span;
    const prefix = this.sql('SELECT substr(text, 1, ?) AS prefix FROM documents WHERE doc_key = ?').get(end, docKey) as { prefix: string };
    return prefix.prefix.slice(start, end);
  }

  /** Index of the paragraph holding text offset `at` (the last one starting at or before it), by binary search on the key. */
  paragraphIndexAt(documentId: string, at: number): number | undefined {
    const row = this.sql('SELECT doc_key, paragraph_count FROM documents WHERE id = ?').get(documentId) as
      | { doc_key: number; paragraph_count: number }
      | undefined;
    if (!row || row.paragraph_count === 0) return undefined;
    const startOf = this.sql('SELECT start FROM paragraphs WHERE doc_key = ? AND idx = ?').pluck();
    let low = 0;
    let high = row.paragraph_count - 1;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if ((startOf.get(row.doc_key, mid) as number) <= at) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** Summaries in id order; `accept` filters on the in-memory filter row (docKey). */
  listSummaries(accept: (docKey: number) => boolean, offset: number, limit: number): { total: number; documents: DocumentSummary[] } {
    const rows = this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM documents ORDER BY id`).iterate() as IterableIterator<DocumentRowDb>;
    let total = 0;
    const documents: DocumentSummary[] = [];
    for (const row of rows) {
      if (!accept(row.doc_key)) continue;
      if (total >= offset && documents.length < limit) documents.push(toSummary(row));
      total++;
    }
    return { total, documents };
  }

  /** Size of the store's files on disk (database + WAL). */
  bytesOnDisk(): number {
    let total = 0;
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        total += fs.statSync(this.file + suffix).size;
      } catch {
        // absent WAL/SHM files are fine
      }
    }
    return total;
  }

  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}
