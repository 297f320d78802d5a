/**
 * Batch ingest: walk files and folders, skip what is unchanged (by content
 * hash, before any parsing), parse a few files ahead while the embedder works
 * on the current ones, and write each document in its own transaction. A
 * re-run after a kill resumes: what was written is unchanged and skipped.
 *
 * Errors are values here: a file that cannot be read or parsed becomes a
 * FileFailure naming the file; the batch goes on.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IndexWriter } from '../kb/kb.ts';
import { recordDocumentId, sourceFileOf } from '../kb/document-id.ts';
import type { DocumentToIndex, FileFailure, IngestOptions, IngestReport } from '../kb/types.ts';
import { firstLine, isIngestError } from './errors.ts';
import { SUPPORTED_EXTENSIONS, readSourceFile } from './extract/index.ts';
import { storedHashFor } from './extract/ocr/pool.ts';
import { readJsonlRecords } from './jsonl.ts';
import { recordCollectionKind } from './metadata.ts';
import { parseRecordText } from './parse.ts';
import { parsePool } from './parse-pool.ts';
import { contentHash } from './version.ts';

/** Files parsed ahead of the one being embedded: enough to hide parsing behind inference, few enough to bound memory. */
const PREFETCH_FILES = 4;
/** Save the HNSW file every so many written documents, so a crash loses little index work. */
const SAVE_EVERY_DOCUMENTS = 500;

export interface SourceFile {
  /** Absolute path. */
  absolutePath: string;
  /** Path relative to the root, with forward slashes: the document id (or its `<file>` part for JSONL). */
  id: string;
  jsonl: boolean;
}

export interface WalkResult {
  root: string;
  files: SourceFile[];
  failures: FileFailure[];
  /** Prefixes of document ids the walk covered (for --prune). */
  coveredPrefixes: string[];
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        source += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else source += '[^/]*';
    } else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * `--exclude` patterns: a plain path excludes that sub-path wherever it sits
 * in the tree (`laws` skips `laws/…`, `policies/html` skips that folder), an
 * absolute path excludes exactly that; `*`, `**` and `?` make a glob matched
 * against the relative path, any leading part of it, or the file name.
 */
export function makeExcluder(patterns: string[]): (relative: string, absolute: string) => boolean {
  const matchers = patterns.map((raw) => {
    const pattern = toPosix(raw.trim()).replace(/^\.\//, '').replace(/\/+$/, '');
    if (!pattern) return () => false;
    if (/[*?]/.test(pattern)) {
      const re = globToRegExp(pattern);
      return (relative: string) => {
        const parts = relative.split('/');
        if (re.test(parts[parts.length - 1]!)) return true;
        for (let n = 1; n <= parts.length; n++) if (re.test(parts.slice(0, n).join('/'))) return true;
        return false;
      };
    }
    const absolute = path.isAbsolute(raw) ? path.resolve(raw) : undefined;
    return (relative: string, abs: string) => {
      if (absolute) return abs === absolute || abs.startsWith(absolute + path.sep);
      return relative === pattern || relative.startsWith(`${pattern}/`) || `/${relative}/`.includes(`/${pattern}/`);
    };
  });
  return (relative, absolute) => matchers.some((match) => match(relative, absolute));
}

/** The deepest folder containing every input (a folder input counts as itself, a file input as its folder). */
function commonRoot(inputs: Array<{ absolutePath: string; isDirectory: boolean }>): string {
  const dirs = inputs.map((i) => (i.isDirectory ? i.absolutePath : path.dirname(i.absolutePath)));
  if (dirs.length === 0) return process.cwd();
  let root = dirs[0]!;
  for (const dir of dirs.slice(1)) {
    while (!(dir === root || dir.startsWith(root.endsWith(path.sep) ? root : root + path.sep))) {
      const parent = path.dirname(root);
      if (parent === root) break;
      root = parent;
    }
  }
  return root;
}

function isIndexable(name: string): { ok: boolean; jsonl: boolean } {
  const ext = path.extname(name).toLowerCase();
  if (ext === '.jsonl') return { ok: true, jsonl: true };
  return { ok: (SUPPORTED_EXTENSIONS as readonly string[]).includes(ext), jsonl: false };
}

function realPathOf(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Collect the files to ingest, sorted, with their ids. `skipDir` keeps e.g. the data folder out. */
export function walkInputs(paths: string[], options: { root?: string; exclude?: string[]; skipDir?: string }): WalkResult {
  const failures: FileFailure[] = [];
  const inputs: Array<{ absolutePath: string; isDirectory: boolean; given: string }> = [];
  for (const given of paths) {
    const absolutePath = path.resolve(given);
    try {
      inputs.push({ absolutePath, isDirectory: fs.statSync(absolutePath).isDirectory(), given });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      failures.push({
        file: given,
        error: code === 'ENOENT' || code === 'ENOTDIR'
          ? `${given}：文件或目录不存在（no such file or folder）`
          : `${given}：无法读取（${code ?? 'cannot read'}）`,
      });
    }
  }
  const root = options.root ? path.resolve(options.root) : commonRoot(inputs);
  const excluded = makeExcluder(options.exclude ?? []);
  const files = new Map<string, SourceFile>();
  const coveredPrefixes: string[] = [];
  const relativeOf = (absolute: string) => toPosix(path.relative(root, absolute));
  const skipDir = options.skipDir ? path.resolve(options.skipDir) : undefined;
  // Confinement: what a symlink points to must lie under the root (corpus/x.txt -> /etc/shadow was indexed and
  // served), and a folder is read once however many links lead to it (a loop turned 7 files into 203 documents).
  const realRoot = realPathOf(root) ?? root;
  const underRoot = (real: string) => real === realRoot || real.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep);
  const foldersRead = new Set<string>();

  const visit = (dir: string) => {
    const realDir = realPathOf(dir) ?? dir;
    if (foldersRead.has(realDir)) {
      failures.push({ file: relativeOf(dir), error: `${relativeOf(dir)}：符号链接指向已读过的目录（循环或重复），已跳过（symlink loop）` });
      return;
    }
    foldersRead.add(realDir);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      failures.push({ file: relativeOf(dir) || dir, error: `${dir}：无法读取目录（cannot read folder: ${(error as Error).message}）` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const absolute = path.join(dir, entry.name);
      const relative = relativeOf(absolute);
      if (excluded(relative, absolute)) continue;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const real = realPathOf(absolute);
        if (real === undefined) continue; // dangling link
        if (!underRoot(real)) {
          failures.push({ file: relative, error: `${relative}：符号链接指向根目录之外，已拒绝（symlink outside the root）` });
          continue;
        }
        const stat = fs.statSync(real);
        isDir = stat.isDirectory();
        isFile = stat.isFile();
      }
      if (isDir) {
        if (skipDir && absolute === skipDir) continue;
        visit(absolute);
      } else if (isFile) {
        const kind = isIndexable(entry.name);
        if (kind.ok) files.set(absolute, { absolutePath: absolute, id: relative, jsonl: kind.jsonl });
      }
    }
  };

  for (const input of inputs) {
    const relative = relativeOf(input.absolutePath);
    const real = realPathOf(input.absolutePath);
    if (relative.startsWith('..') || (real !== undefined && !underRoot(real))) {
      failures.push({ file: input.given, error: `${input.given}：不在根目录 ${root} 之下（outside the root folder）` });
      continue;
    }
    if (input.isDirectory) {
      coveredPrefixes.push(relative ? `${relative}/` : '');
      visit(input.absolutePath);
    } else {
      const kind = isIndexable(input.absolutePath);
      if (!kind.ok) {
        failures.push({
          file: input.given,
          error: `${path.basename(input.given)}：不支持的文件格式（unsupported format; supported: ${[...SUPPORTED_EXTENSIONS, '.jsonl'].join(' ')}）`,
        });
        continue;
      }
      coveredPrefixes.push(relative);
      files.set(input.absolutePath, { absolutePath: input.absolutePath, id: relative, jsonl: kind.jsonl });
    }
  }
  return { root, files: [...files.values()], failures, coveredPrefixes };
}

/** What reading one file ahead of time produced. */
type Prepared =
  | { kind: 'unchanged'; file: SourceFile; documents: number }
  | { kind: 'parsed'; file: SourceFile; documents: DocumentToIndex[]; unchanged: number; staleIds: string[]; failures: FileFailure[]; warnings: string[] }
  | { kind: 'failed'; file: SourceFile; failure: FileFailure }
  | { kind: 'skipped'; file: SourceFile; warning: string };

function failureOf(file: SourceFile, error: unknown): FileFailure {
  if (isIngestError(error)) return { file: file.id, error: error.message };
  // Not bad input but a bug: the report still gets one line, and the first line of a library's message is its cause.
  const message = firstLine(error);
  return { file: file.id, error: `${path.basename(file.absolutePath)}：${message}` };
}

async function prepareFile(writer: IndexWriter, file: SourceFile, options: IngestOptions, onPage?: (file: string) => void): Promise<Prepared> {
  const passageMaxChars = writer.config.passageMaxChars;
  if (file.jsonl) {
    if (!options.jsonl) {
      return {
        kind: 'skipped',
        file,
        warning: `${file.id}：JSONL 文件需要 --jsonl-text 指定文本字段，已跳过（JSONL skipped: give --jsonl-text FIELD）`,
      };
    }
    try {
      const read = readJsonlRecords(file.absolutePath, options.jsonl);
      if (read.skipReason) return { kind: 'skipped', file, warning: read.skipReason };
      const stored = writer.storedHashes(recordDocumentId(file.id, ''));
      const documents: DocumentToIndex[] = [];
      const failures: FileFailure[] = [];
      const current = new Set<string>();
      let unchanged = 0;
      const kind = recordCollectionKind(read.records.map((record) => record.text));
      for (const record of read.records) {
        const id = recordDocumentId(file.id, record.recordId);
        current.add(id);
        const hash = contentHash(record.hash, writer.config);
        if (stored.get(id) === hash) {
          unchanged++;
          continue;
        }
        try {
          const parsed = parseRecordText(record.text, id, {
            passageMaxChars,
            kind,
            ...(record.title ? { title: record.title } : {}),
            ...(record.message ? { message: record.message } : {}),
          });
          documents.push({ id, sourcePath: file.absolutePath, contentHash: hash, parsed });
        } catch (error) {
          failures.push(failureOf({ ...file, id }, error));
        }
      }
      const staleIds = [...stored.keys()].filter((id) => !current.has(id));
      return { kind: 'parsed', file, documents, unchanged, staleIds, failures, warnings: read.warnings };
    } catch (error) {
      return { kind: 'failed', file, failure: failureOf(file, error) };
    }
  }
  try {
    const bytes = await readSourceFile(file.absolutePath, { maxBytes: writer.config.parse.maxFileMb * 1024 * 1024 });
    const hash = contentHash(bytes, writer.config);
    if (writer.storedHash(file.id) === hash) return { kind: 'unchanged', file, documents: 1 };
    const parsed = await parsePool(writer.config.parse).parse({
      bytes,
      file: file.absolutePath,
      displayPath: file.id,
      passageMaxChars,
      ocr: writer.config.ocr,
      ...(onPage ? { onPage: () => onPage(file.id) } : {}),
    });
    return {
      kind: 'parsed',
      file,
      documents: [{ id: file.id, sourcePath: file.absolutePath, contentHash: storedHashFor(hash, parsed), parsed }],
      unchanged: 0,
      staleIds: [],
      failures: [],
      warnings: [],
    };
  } catch (error) {
    return { kind: 'failed', file, failure: failureOf(file, error) };
  }
}

export async function ingestBatch(writer: IndexWriter, paths: string[], options: IngestOptions = {}): Promise<IngestReport> {
  const started = performance.now();
  const walk = walkInputs(paths, { ...(options.root ? { root: options.root } : {}), exclude: options.exclude ?? [], skipDir: writer.config.dataDir });
  const report: IngestReport = { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [...walk.failures], passages: 0, seconds: 0, warnings: [] };
  const files = walk.files;
  let filesDone = 0;
  let pagesDone = 0;
  let writtenSinceSave = 0;
  const progress = (currentFile?: string) =>
    options.onProgress?.({
      filesDone,
      filesTotal: files.length,
      pagesDone,
      passages: report.passages,
      elapsedSeconds: (performance.now() - started) / 1000,
      ...(currentFile ? { currentFile } : {}),
    });

  // Documents are embedded in groups that fill the model's batches (JSONL records are short).
  const groupPassages = Math.max(128, writer.config.embedBatchSize * 8);
  let group: DocumentToIndex[] = [];
  let groupSize = 0;
  const flush = async () => {
    if (group.length === 0) return;
    const outcomes = await writer.indexDocuments(group);
    group = [];
    groupSize = 0;
    for (const outcome of outcomes) {
      if (outcome.status === 'failed') {
        report.failed.push({ file: outcome.id, error: outcome.error });
        writer.recordFailure(outcome.id, undefined, outcome.error);
      }
      else {
        report[outcome.status]++;
        report.passages += outcome.passages;
      }
    }
    writtenSinceSave += outcomes.length;
    if (writtenSinceSave >= SAVE_EVERY_DOCUMENTS) {
      writer.checkpoint();
      writtenSinceSave = 0;
    }
  };

  const onPage = (file: string) => {
    pagesDone++;
    progress(file);
  };
  const window: Array<Promise<Prepared>> = [];
  let next = 0;
  const fill = () => {
    while (window.length < PREFETCH_FILES && next < files.length) window.push(prepareFile(writer, files[next++]!, options, onPage));
  };
  fill();
  while (window.length > 0) {
    const prepared = await window.shift()!;
    fill();
    switch (prepared.kind) {
      case 'unchanged':
        report.unchanged += prepared.documents;
        break;
      case 'failed':
        report.failed.push(prepared.failure);
        writer.recordFailure(prepared.failure.file, prepared.file.absolutePath, prepared.failure.error);
        break;
      case 'skipped':
        report.warnings.push({ file: prepared.file.id, warning: prepared.warning });
        break;
      case 'parsed':
        report.unchanged += prepared.unchanged;
        report.failed.push(...prepared.failures);
        for (const warning of prepared.warnings) report.warnings.push({ file: prepared.file.id, warning });
        // Records gone from a JSONL file: the file is the source of its records.
        for (const id of prepared.staleIds) if (writer.remove(id)) report.removed++;
        for (const doc of prepared.documents) {
          for (const warning of doc.parsed.warnings) report.warnings.push({ file: doc.id, warning });
          group.push(doc);
          groupSize += doc.parsed.passages.length;
          if (groupSize >= groupPassages) await flush();
        }
        break;
    }
    // Lexical-only writes are cheap; with an embedder, a partial group waits for company unless the prefetch ran dry.
    if (!writer.embeds || window.length === 0) await flush();
    filesDone++;
    progress(prepared.file.id);
  }
  await flush();

  if (options.prune) report.removed += prune(writer, walk);
  report.seconds = (performance.now() - started) / 1000;
  progress();
  return report;
}

/** Remove documents under the walked inputs whose source file no longer exists. */
function prune(writer: IndexWriter, walk: WalkResult): number {
  let removed = 0;
  for (const prefix of walk.coveredPrefixes) {
    for (const id of writer.storedHashes(prefix).keys()) {
      const filePart = sourceFileOf(id);
      // A file input's prefix also matches longer ids (a.txt vs a.txt.bak): keep to the file and its records.
      if (!prefix.endsWith('/') && prefix !== '' && filePart !== prefix && id !== prefix) continue;
      // The id itself first: 第1号#附件.txt is a file, whatever its '#' looks like.
      const exists = fs.existsSync(path.join(walk.root, id)) || fs.existsSync(path.join(walk.root, filePart));
      if (!exists && writer.remove(id)) removed++;
    }
  }
  return removed;
}
