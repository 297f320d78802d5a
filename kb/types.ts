/**
 * The domain of PolicyKB in one place: what a government document is once
 * read (paragraphs under a heading tree, with pages and offsets), the passages
 * cut from it for retrieval, and the citations every answer points back to.
 *
 * Offsets: every `start`/`end` is a half-open [start, end) range of UTF-16
 * code units into `ParsedDocument.text`, the document's normalised full text,
 * which is the paragraph texts joined by "\n". So
 * `doc.text.slice(p.start, p.end) === p.text` holds for every paragraph, and a
 * citation's quote can always be checked against the stored text.
 */

/** `message-reply`: a department's official reply to a citizen's message (留言答复), from a JSONL record or a web page. */
export type DocumentKind = 'proposal-reply' | 'suggestion-reply' | 'message-reply' | 'policy' | 'other';
export const DOCUMENT_KINDS: readonly DocumentKind[] = ['proposal-reply', 'suggestion-reply', 'message-reply', 'policy', 'other'];
/** The kinds that answer someone: what the precedent finder searches by default. */
export const REPLY_KINDS: readonly DocumentKind[] = ['proposal-reply', 'suggestion-reply', 'message-reply'];

export type SourceFormat = 'pdf' | 'docx' | 'doc' | 'ofd' | 'image' | 'html' | 'txt' | 'md' | 'jsonl';

/** 1-based [first, last] pages a paragraph or passage lies on (PDF only). */
export type PageSpan = [first: number, last: number];

/** Metadata recovered by rules from the text; absent fields are left out. */
export interface DocumentMetadata {
  /** 发文字号, e.g. 吉人社函〔2024〕126号 (brackets normalised to 〔〕). */
  docNumber?: string;
  /** e.g. 省政协十三届二次会议 */
  session?: string;
  /** 第26号提案 → 26 */
  proposalNumber?: number;
  /** The deputy or member who made the proposal (宫健泽). */
  proposer?: string;
  /** 《…》 title of the proposal or suggestion being answered. */
  proposalTitle?: string;
  /** The signing unit (落款单位). */
  issuer?: string;
  /** ISO date of signing, e.g. 2024-07-15. */
  date?: string;
  /** The 抄送 list. */
  cc?: string[];
  /** The addressee line without its colon (宫健泽委员). */
  addressee?: string;
  /** 联系人/联系电话 lines, kept verbatim. */
  contact?: string;
  /** The place the document is about (issuer, title, opening text), see kb/places.ts. */
  place?: Place;
  /** The year it is about: its date's, else the first its title names. */
  year?: number;
}

/** An administrative division a text is about, or the whole country (level 0, 全国). */
export interface Place {
  /** 全国, or the division's name (山东省, 济南市). */
  name: string;
  /** GB/T 2260 code, when the division is in the data set. */
  code?: string;
  level: 0 | 1 | 2 | 3;
  /** The province it lies in (absent for 全国). */
  province?: string;
  /** The prefecture, for a county. */
  city?: string;
}

/**
 * What a paragraph is in the letter's anatomy. Only `heading` paragraphs shape
 * `headingPath`; `body` paragraphs are what answers quote.
 */
export type ParagraphRole =
  | 'title'
  | 'docNumber'
  | 'addressee'
  | 'heading'
  | 'body'
  | 'closing' // 此致 / 特此答复 / 敬礼
  | 'signature' // signing unit
  | 'date'
  | 'contact'
  | 'cc'
  | 'note' // 印发 lines, attachments list, anything after the sign-off
  | 'table-header' // a table's column headings, cells joined by TABLE_CELL_SEPARATOR
  | 'table-row' // one row of a table, each cell led by its column heading (ingest/extract/table.ts)
  | 'message'; // the citizen's message a record's reply answers (--jsonl-message): searched, never quoted as an answer

/**
 * Cells of a table row are joined with this in the row's text, in the
 * document text and the viewer alike: " | " reads as a column break in an
 * answer, and a "|" inside a cell is written "｜" so the split is exact.
 */
export const TABLE_CELL_SEPARATOR = ' | ';
/** Between a column heading and its cell in a row's text: "正确写法：《关于……的函》". */
export const TABLE_HEADING_MARK = '：';

/** Where a sign-off passage (signature, date, contact, cc lines) is cited: the sign-off has no heading of its own; also a word people search for. */
export const CLOSING_BLOCK_HEADING = '落款';

/**
 * Which part of its document a passage is, for ranking: the body; a record's citizen message
 * (the question, never an answer); or the sign-off (its heading path is [CLOSING_BLOCK_HEADING]).
 */
export const PASSAGE_PARTS = ['body', 'message', 'signOff'] as const;
export type PassagePart = (typeof PASSAGE_PARTS)[number];

export interface Paragraph {
  /** Position in the document, 0-based. */
  index: number;
  text: string;
  role: ParagraphRole;
  /** Heading texts from the top level down to the section this paragraph is in; a heading's own path ends with itself. */
  headingPath: string[];
  /** For headings: 1 = 第X编/章 or 一、 … deeper numbers for deeper levels. */
  headingLevel?: number;
  pages?: PageSpan;
  start: number;
  end: number;
  /** OCR'd paragraphs: mean character confidence, 0–1 (absent for text the source stated). */
  confidence?: number;
  /** Set when read back from the store and the confidence is below kb/ocr.ts's bound. */
  lowConfidence?: true;
}

export interface Passage {
  /** Stable id derived from the content: parsing the same file twice gives the same ids. */
  id: string;
  text: string;
  headingPath: string[];
  pages?: PageSpan;
  start: number;
  end: number;
  /** Indices of the first and last paragraph the passage covers. */
  paragraphSpan: [first: number, last: number];
  /** OCR'd passages: the lowest confidence of their paragraphs, 0–1. */
  confidence?: number;
  /** Set when read back from the store and the confidence is below kb/ocr.ts's bound: quote with a warning. */
  lowConfidence?: true;
}

export interface ParsedDocument {
  /** The path as given to the parser (or `<file>#<record id>` for a JSONL record). */
  file: string;
  format: SourceFormat;
  kind: DocumentKind;
  title: string;
  metadata: DocumentMetadata;
  /** Normalised full text: paragraph texts joined by "\n". */
  text: string;
  paragraphs: Paragraph[];
  passages: Passage[];
  /** Human-readable problems that did not stop parsing, in Chinese where users read them (e.g. 第3页没有文本层，需要 OCR). */
  warnings: string[];
  /** True when some page had no text layer: the document is incomplete until OCR. */
  needsOcr: boolean;
  pageCount?: number;
  /** Pages read by OCR (wholly, or a picture on them) and the OCR'd text's mean character confidence, 0–1. */
  ocr?: OcrSummary;
}

/** A file that could not be indexed, kept with its reason so the document list can show it. */
export interface DocumentFailure {
  id: string;
  error: string;
  /** ISO timestamp of the last failed attempt. */
  failedAt: string;
}

export interface OcrSummary {
  pages: number;
  confidence: number;
}

// ---------------------------------------------------------------------------
// Extraction: what a format reader hands to the cleaning stage.

/** One line of text as the source laid it out. Layout fields exist only where the format has layout (PDF). */
export interface SourceLine {
  text: string;
  /** Left edge, in PDF points from the page's left. */
  x?: number;
  /** Right edge. */
  right?: number;
  /** Baseline from the page top (grows downwards). */
  y?: number;
  /** Dominant font size of the line. */
  fontSize?: number;
  /** OCR'd lines: mean character confidence, 0–1. */
  confidence?: number;
  /** The line is one row of a table: it stays a paragraph of its own. */
  table?: TableRowMark;
}

/** Which table (numbered in document order) a row belongs to, and whether it is a heading row. */
export interface TableRowMark {
  table: number;
  header: boolean;
}

export interface SourcePage {
  /** 1-based page number in the file (PDF), or 1 for unpaged formats. */
  number: number;
  lines: SourceLine[];
  width?: number;
  height?: number;
  /** The page shows something but has no text layer (a scan) and was not OCR'd. */
  imageOnly?: boolean;
  /** The page has a text layer, but pictures on it that may hold text were not OCR'd (OCR off). */
  unreadPictures?: boolean;
  /** The page's lines come from OCR; its mean character confidence, 0–1. */
  ocrConfidence?: number;
}

export interface ExtractedDocument {
  format: SourceFormat;
  /** PDFs are paged: paragraphs get `pages`. Other formats are one pseudo-page. */
  paged: boolean;
  /**
   * DOCX and HTML lines are already whole paragraphs; PDF and plain-text lines
   * are visual lines that may break mid-sentence and need rejoining.
   */
  linesAreParagraphs: boolean;
  pages: SourcePage[];
  /** A title the container states (HTML <title>, DOCX core properties, PDF Info Title). */
  titleHint?: string;
  warnings: string[];
}

/** A paragraph as the cleaning stage hands it to structure recovery. */
export interface CleanBlock {
  text: string;
  pages?: PageSpan;
  /** The block began with an indent (a paragraph start) in the source. */
  indented?: boolean;
  /** Typographic hints where the source had them. */
  fontSize?: number;
  centered?: boolean;
  /** OCR'd text: mean character confidence of its lines, 0–1. */
  confidence?: number;
  /** A table row (never joined to its neighbours). */
  table?: TableRowMark;
}

// ---------------------------------------------------------------------------
// Knowledge base and retrieval.

export const RETRIEVAL_MODES = ['hybrid', 'lexical', 'dense'] as const;
export type RetrievalMode = (typeof RETRIEVAL_MODES)[number];

export interface SearchFilters {
  kind?: DocumentKind[];
  /** Substring of the issuer. */
  issuer?: string;
  /** Inclusive ISO dates (YYYY, YYYY-MM or YYYY-MM-DD accepted). */
  dateFrom?: string;
  dateTo?: string;
  /** Document ids starting with this prefix (document ids are corpus-relative paths). */
  pathPrefix?: string;
}

export interface SearchQuery {
  text: string;
  k?: number;
  mode?: RetrievalMode;
  filters?: SearchFilters;
  /**
   * Rank records' citizen messages as passages of their own (the precedent finder: a new message is most
   * like the earlier message its precedent answered). Otherwise a message, which holds the question and
   * never the answer, does not take a place of its own among the hits (search/retrieve.ts).
   */
  withMessages?: boolean;
  /**
   * false: every hit is one passage. Otherwise (the default) a passage that continues a better hit of its
   * document joins it, one hit spanning both (search/retrieve.ts, NEIGHBOUR_WINDOW).
   */
  joinNeighbours?: boolean;
}

export interface Citation {
  documentId: string;
  title: string;
  headingPath: string[];
  pages?: PageSpan;
  start: number;
  end: number;
}

export interface SearchHit {
  passageId: string;
  text: string;
  citation: Citation;
  kind: DocumentKind;
  issuer?: string;
  date?: string;
  score: number;
  /** 1-based rank in each retriever's list that found this passage. */
  ranks: { lexical?: number; dense?: number };
  /** [start, end) ranges into `text` of matched query terms. */
  highlights: Array<[number, number]>;
  /** Other documents holding the same or a near-identical passage, folded into this hit. */
  alsoIn?: string[];
  /** OCR'd text read with low confidence (kb/ocr.ts): shown with a warning. */
  lowConfidence?: true;
}

export interface SearchResult {
  hits: SearchHit[];
  /** The mode actually used: a dense or hybrid request falls back to lexical when no model is loaded. */
  mode: RetrievalMode;
  lexicalOnly: boolean;
  /** Why the mode differs from the one asked for, if it does. */
  notice?: string;
  tookMs: number;
}

/** One cited sentence of an extractive answer. */
export interface AnswerCitation extends Citation {
  n: number;
  quote: string;
  /** The place and year the quoted document is about, when known. */
  place?: string;
  year?: number;
  docNumber?: string;
}

export const FEEDBACK_VERDICTS = ['up', 'down'] as const;
/** 👍 (the answer is right) or 👎 (it is wrong, or there should have been one). */
export type FeedbackVerdict = (typeof FEEDBACK_VERDICTS)[number];

/** A quote the judged answer gave: where it stands and what it says. */
export interface FeedbackCitation {
  documentId: string;
  title: string;
  start: number;
  end: number;
  quote: string;
  pages?: PageSpan;
}

/**
 * A reader's verdict on one answer, with an optional correction: a line of
 * the evaluation set to be (`npm run kb -- feedback`). Kept apart from the
 * documents: nothing in it reaches search.
 */
export interface AnswerFeedback {
  question: string;
  /** The answer judged; null when the knowledge base gave none. */
  answer: string | null;
  citations: FeedbackCitation[];
  verdict: FeedbackVerdict;
  /** What the answer should have said, or where it stands. */
  correction?: string;
  /** The retrieval mode that produced the answer. */
  mode: RetrievalMode;
  /** The embedding model loaded when the verdict came (absent: lexical-only). */
  model?: string;
}

export interface StoredFeedback extends AnswerFeedback {
  id: number;
  /** ISO time the verdict was stored. */
  time: string;
}

// ---------------------------------------------------------------------------
// Contracts between the stages (implemented in kb/index/vector/embedder.ts,
// kb/index/vector/hnsw.ts and kb/kb.ts).

/**
 * How one embedding model turns text into a vector. Two models — or one model
 * pooled or prefixed two ways — give vectors that must never share an index,
 * so the store records the profile that built its vectors (profileKey).
 */
export interface ModelProfile {
  /** The model id (KB_MODEL), also its folder under KB_MODEL_DIR: intfloat/multilingual-e5-small. */
  id: string;
  /** Which hidden states make the text's vector: bge is trained on [CLS], e5 on the mean over all tokens. */
  pooling: 'cls' | 'mean';
  /** Text put before each query / passage: e5 wants "query: " and "passage: ", bge an instruction on queries only. */
  queryPrefix: string;
  passagePrefix: string;
  dimension: number;
  /** Longest input in tokens, special tokens included; longer input is cut. */
  maxTokens: number;
  /** L2-normalise the pooled vector (inner product is then cosine). */
  normalise: boolean;
}

export interface Embedder {
  modelId: string;
  dimension: number;
  /** What built this embedder's vectors; its profileKey is recorded in the store. */
  profile: ModelProfile;
  /** Queries get the profile's query prefix; results are L2-normalised. */
  embedQueries(texts: string[]): Promise<Float32Array[]>;
  /** Passages get the profile's passage prefix; results are L2-normalised. */
  embedPassages(texts: string[]): Promise<Float32Array[]>;
}

/** Loading a model either gives an embedder or says, in words, why the product is lexical-only. */
export type EmbedderLoad = { embedder: Embedder; reason?: undefined } | { embedder: null; reason: string };

export interface DocumentSummary {
  /** Corpus-relative path of the source file, or `<file>#<record id>` for a JSONL record. */
  id: string;
  title: string;
  kind: DocumentKind;
  format: SourceFormat;
  metadata: DocumentMetadata;
  paragraphCount: number;
  passageCount: number;
  pageCount?: number;
  needsOcr: boolean;
  /** Pages read by OCR and their mean confidence. */
  ocr?: OcrSummary;
  warnings: string[];
  /** ISO timestamp of the last (re)index. */
  indexedAt: string;
}

export interface StoredDocument extends DocumentSummary {
  text: string;
  paragraphs: Paragraph[];
  passages: Passage[];
  /** Absolute path of the original file when the knowledge base still knows it. */
  sourcePath?: string;
}

/**
 * A stretch of a stored document: the paragraphs around a hit, the text they cover, the passages within
 * them — or the whole document when it is short. `text` starts at offset `textStart` of the document's
 * text, so offsets stay the document's own: `excerptText(excerpt, start, end)` slices it.
 */
export interface DocumentExcerpt extends StoredDocument {
  textStart: number;
  /** True when this is the whole document (textStart 0, every paragraph and passage). */
  whole: boolean;
}

/** A document's summary with one page of its paragraphs: what a reader of a long document is sent at a time. */
export interface DocumentPage extends DocumentSummary {
  paragraphs: Paragraph[];
  /** Index of the first paragraph of the page. */
  paragraphOffset: number;
  paragraphTotal: number;
  /** Absolute path of the original file when the knowledge base still knows it. */
  sourcePath?: string;
}

/** Where the embedding model stands while `npm start` obtains it in the background (server/model-startup.ts). */
export interface ModelStatus {
  state: 'obtaining' | 'loading' | 'embedding' | 'ready' | 'unavailable';
  /** The model id (KB_MODEL). */
  model: string;
  /** One short line for users, in Chinese: what the page's banner shows. */
  message: string;
  /** The current step or the failure, in technical words (for operators). */
  step?: string;
  /** 0–1, when the step measures itself. */
  progress?: number;
}

export interface KnowledgeBaseHealth {
  documents: number;
  /** Documents per kind (every kind listed, zero included). */
  kinds: Record<DocumentKind, number>;
  passages: number;
  model?: { id: string; dimension: number };
  mode: 'hybrid' | 'lexical-only';
  /** Why there are no embeddings, with the technical detail an operator needs (not repeated in search results). */
  lexicalOnlyReason?: string;
  /** Present while (and after) `npm start` obtains the model in the background. */
  modelStatus?: ModelStatus;
  index: { vectors: number; state: 'ready' | 'rebuilt' | 'absent' };
}

export interface FileFailure {
  file: string;
  error: string;
}

export interface IngestReport {
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: FileFailure[];
  passages: number;
  seconds: number;
  warnings: Array<{ file: string; warning: string }>;
}

/** Which fields of a JSONL record make a document. */
export interface JsonlFields {
  textField: string;
  titleField?: string;
  /** Without it, the 1-based line number is the record id. */
  idField?: string;
  /** The message the record's text answers: stored after the reply as paragraphs of role 'message', searched but never quoted. */
  messageField?: string;
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
