/**
 * One writer per data folder, and derived files that prove what they hold
 * (issue 13, problems 5, 9 and 10). Each case reproduces what broke:
 * - 13.5: `npm run ingest` while the server ran; the server later saved its
 *   stale HNSW file stamped as current, and a changed document's new vectors
 *   were never searched again.
 * - 13.9: random bytes inside vectors.hnsw crashed every start (SIGSEGV).
 * - 13.10: a zero-length kb.sqlite silently became a new knowledge base
 *   whose predecessor's vectors were never reconciled away.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../kb/config.ts';
import { KnowledgeBase, KnowledgeBaseError } from '../../kb/kb.ts';
import { DataFolderLock, LOCK_FILE } from '../../kb/lock.ts';
import { VECTOR_FILE, VECTOR_SIDECAR } from '../../kb/index/vector/vector-file.ts';
import { STORE_FILE } from '../../kb/store/store.ts';
import type { Embedder } from '../../kb/types.ts';
import { ingestPaths } from '../../ingest/ingest.ts';
import { search } from '../../search/retrieve.ts';
import { tinyModel } from '../support/tiny-model.ts';

const PROJECT_CORPUS = path.resolve('corpus');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-writer-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let modelEnv: Record<string, string>;
let tiny: Embedder;

beforeAll(async () => {
  ({ env: modelEnv, embedder: tiny } = await tinyModel());
});

function configFor(name: string): Config {
  return loadConfig({ ...modelEnv, KB_DATA_DIR: path.join(tmp, name) });
}

/** A private copy of the sample corpus, to change files in. */
function corpusCopy(name: string): string {
  const dir = path.join(tmp, `${name}-corpus`);
  fs.cpSync(PROJECT_CORPUS, dir, { recursive: true });
  return dir;
}

const CHANGED_FILE = '对市人大十七届四次会议第0056号建议的答复-学前教育学位.txt';
const NEW_SENTENCE = '经研究，市教育局决定在城东新区新建三所公办幼儿园，共新增学位一千零八十个，预计明年九月投入使用，届时将优先保障新区适龄儿童就近入园。';

function runCli(args: string[], env: Record<string, string> = {}): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, ...modelEnv, ...env }, encoding: 'utf8' });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function denseTop(kb: KnowledgeBase, text: string): Promise<string[]> {
  const result = await search(kb, { text, k: 5, mode: 'dense' });
  return result.hits.map((h) => h.text);
}

describe('one writer per data folder', () => {
  it('refuses a second writer, naming the holder; a reader opens beside it', async () => {
    const config = configFor('second-writer');
    const corpus = corpusCopy('second-writer');
    const kb = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    try {
      await ingestPaths(kb, [corpus], { root: corpus });
      // Another process: the ingest CLI, as an operator would run it while the server is up.
      const refused = runCli(['cli/ingest.ts', corpus, '--root', corpus, '--data', config.dataDir]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`process ${process.pid}`);
      expect(refused.stderr).toContain(`进程 ${process.pid}`);
      // The same process cannot open a second writer either.
      const second = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} }).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(KnowledgeBaseError);
      // A reader can: search beside a running writer.
      const reader = await KnowledgeBase.open(config, { embedder: tiny, readOnly: true, log: () => {} });
      try {
        expect((await search(reader, { text: '学前教育学位', k: 3 })).hits.length).toBeGreaterThan(0);
        await expect(reader.write(() => undefined)).rejects.toThrow(/read-only/);
      } finally {
        reader.close();
      }
    } finally {
      kb.close();
    }
    expect(fs.existsSync(path.join(config.dataDir, LOCK_FILE))).toBe(false);
  });

  it('takes over the lock of a process that is gone, and of a pid now used by another process', async () => {
    const config = configFor('stale-lock');
    fs.mkdirSync(config.dataDir, { recursive: true });
    const lockFile = path.join(config.dataDir, LOCK_FILE);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    fs.writeFileSync(lockFile, JSON.stringify({ pid: deadPid, host: os.hostname(), command: 'cli/ingest.ts', since: '2026-01-01T00:00:00.000Z' }));
    const first = await DataFolderLock.acquire(config.dataDir);
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    first.release();
    // The parent process is alive, but it started at another moment than the lock says: a reused pid.
    fs.writeFileSync(lockFile, JSON.stringify({ pid: process.ppid, host: os.hostname(), command: 'server/main.ts', since: '2026-01-01T00:00:00.000Z', startTicks: '1' }));
    const second = await DataFolderLock.acquire(config.dataDir);
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    second.release();
    expect(fs.existsSync(lockFile)).toBe(false);
  });

  it('lets a waiting writer in when the holder closes', async () => {
    const config = configFor('wait');
    const corpus = corpusCopy('wait');
    const holder = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/ingest.ts', corpus, '--root', corpus, '--data', config.dataDir, '--wait'], {
      env: { ...process.env, ...modelEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Hold the lock until the child says it waits for it, then let go.
    await new Promise<void>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (/waiting for the writer lock/.test(stderr) || child.exitCode !== null) resolve();
      });
      child.on('exit', () => resolve());
    });
    expect(stderr).toContain(`held by process ${process.pid}`);
    holder.close();
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/summary: added \d+, updated 0, unchanged 0, removed 0, failed 0/);
  });
});

describe('the HNSW file proves what it holds (13.5)', () => {
  it('an ingest by another process is searched densely after the server restarts, even when a stale index file is saved over its work', async () => {
    const config = configFor('stale-server');
    const corpus = corpusCopy('stale-server');
    const server = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    await ingestPaths(server, [corpus], { root: corpus });
    server.close();
    // What the server had saved, and would save again from its memory at shutdown.
    const staleIndex = fs.readFileSync(path.join(config.dataDir, VECTOR_FILE));
    const staleSidecar = fs.readFileSync(path.join(config.dataDir, VECTOR_SIDECAR));

    fs.appendFileSync(path.join(corpus, CHANGED_FILE), `\n${NEW_SENTENCE}\n`);
    const ingest = runCli(['cli/ingest.ts', corpus, '--root', corpus, '--data', config.dataDir]);
    expect(ingest.status).toBe(0);
    expect(ingest.stdout).toMatch(/updated 1,/);
    fs.writeFileSync(path.join(config.dataDir, VECTOR_FILE), staleIndex);
    fs.writeFileSync(path.join(config.dataDir, VECTOR_SIDECAR), staleSidecar);

    const logs: string[] = [];
    const restarted = await KnowledgeBase.open(config, { embedder: tiny, log: (m) => logs.push(m) });
    try {
      expect(logs.join('\n')).toMatch(/stale.*reconciled/);
      const stats = restarted.stats();
      expect(stats.vectors).toBe(stats.embedded);
      expect((await denseTop(restarted, NEW_SENTENCE))[0]).toContain(NEW_SENTENCE);
    } finally {
      restarted.close();
    }
    // Reconciled and saved: the next open trusts it as it is.
    const again = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    expect(again.health().index.state).toBe('ready');
    again.close();
  });

  it('removes every label the store does not know, above its highest label too', async () => {
    const config = configFor('restored-store');
    const corpus = corpusCopy('restored-store');
    const files = fs.readdirSync(corpus).sort();
    const kb = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    await ingestPaths(kb, files.slice(0, 4).map((f) => path.join(corpus, f)), { root: corpus });
    kb.close();
    const backup = fs.readFileSync(path.join(config.dataDir, STORE_FILE));
    const more = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    await ingestPaths(more, files.slice(4).map((f) => path.join(corpus, f)), { root: corpus });
    const later = more.stats().embedded;
    more.close();
    // The store goes back to its backup; the index still holds the later documents' higher labels.
    for (const suffix of ['-wal', '-shm']) fs.rmSync(path.join(config.dataDir, STORE_FILE + suffix), { force: true });
    fs.writeFileSync(path.join(config.dataDir, STORE_FILE), backup);
    const restored = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    try {
      const stats = restored.stats();
      expect(stats.embedded).toBeLessThan(later);
      expect(stats.vectors).toBe(stats.embedded);
    } finally {
      restored.close();
    }
  });
});

describe('a damaged HNSW file is never handed to hnswlib (13.9)', () => {
  it('random bytes inside vectors.hnsw: the start rebuilds from the store; KB_LEXICAL_ONLY=1 never touches the file', async () => {
    const config = configFor('garbled');
    const corpus = corpusCopy('garbled');
    const kb = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    await ingestPaths(kb, [corpus], { root: corpus });
    kb.close();
    const file = path.join(config.dataDir, VECTOR_FILE);
    const bytes = fs.readFileSync(file);
    // Overwrite the header's sizes and offsets and a stretch of the graph: what crashed hnswlib.
    let seed = 7;
    for (const [from, to] of [[0, 96], [Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 4096]] as const) {
      for (let i = from; i < Math.min(to, bytes.length); i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        bytes[i] = seed & 0xff;
      }
    }
    fs.writeFileSync(file, bytes);
    const garbled = sha256(file);

    // Lexical-only: an ingest that changes a document leaves the file exactly as it is.
    fs.appendFileSync(path.join(corpus, CHANGED_FILE), `\n${NEW_SENTENCE}\n`);
    const lexicalOnly = runCli(['cli/ingest.ts', corpus, '--root', corpus, '--data', config.dataDir], { KB_LEXICAL_ONLY: '1' });
    expect(lexicalOnly.status).toBe(0);
    expect(lexicalOnly.stdout).toMatch(/updated 1,/);
    expect(sha256(file)).toBe(garbled);

    // In a child process, so that a crash shows as a signal instead of killing the test runner.
    const searched = runCli(['cli/search.ts', NEW_SENTENCE.slice(0, 20), '--mode', 'dense', '--data', config.dataDir]);
    expect(searched.signal).toBeNull();
    expect(searched.status).toBe(0);
    expect(searched.stderr).toMatch(/fails its checksum: rebuilding/);

    const logs: string[] = [];
    const reopened = await KnowledgeBase.open(config, { embedder: tiny, log: (m) => logs.push(m) });
    try {
      expect(logs.join('\n')).toMatch(/fails its checksum: rebuilding/);
      await reopened.write((writer) => writer.embedMissing());
      const stats = reopened.stats();
      expect(stats.embedded).toBe(stats.passages);
      expect(stats.vectors).toBe(stats.embedded);
      expect((await denseTop(reopened, NEW_SENTENCE))[0]).toContain(NEW_SENTENCE);
    } finally {
      reopened.close();
    }
    expect(sha256(file)).not.toBe(garbled);
  });
});

describe('a store file that is not this knowledge base is refused (13.10)', () => {
  it('refuses a zero-length, a non-SQLite and a foreign kb.sqlite, and leaves each as it was', async () => {
    const cases: Array<[string, (file: string) => void, RegExp]> = [
      ['empty', (file) => fs.writeFileSync(file, ''), /empty/],
      ['not-sqlite', (file) => fs.writeFileSync(file, 'PK\u0003\u0004 this is a zip file, not a database'), /not an SQLite database/],
      ['foreign', (file) => {
        const db = new Database(file);
        db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)');
        db.close();
      }, /not a PolicyKB store/],
    ];
    for (const [name, make, message] of cases) {
      const config = configFor(`refuse-${name}`);
      fs.mkdirSync(config.dataDir, { recursive: true });
      const file = path.join(config.dataDir, STORE_FILE);
      make(file);
      const before = sha256(file);
      const refusal = await KnowledgeBase.open(config, { embedder: null, log: () => {} }).catch((e: unknown) => e);
      expect(refusal, name).toBeInstanceOf(KnowledgeBaseError);
      expect((refusal as Error).message).toMatch(message);
      expect((refusal as Error).message).toContain(file);
      expect(sha256(file)).toBe(before);
      expect(fs.existsSync(path.join(config.dataDir, LOCK_FILE))).toBe(false);
    }
  });

  it('a deleted kb.sqlite starts afresh without its predecessor\'s vectors', async () => {
    const config = configFor('reset');
    const corpus = corpusCopy('reset');
    const kb = await KnowledgeBase.open(config, { embedder: tiny, log: () => {} });
    await ingestPaths(kb, [corpus], { root: corpus });
    kb.close();
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(config.dataDir, STORE_FILE + suffix), { force: true });
    const logs: string[] = [];
    const fresh = await KnowledgeBase.open(config, { embedder: tiny, log: (m) => logs.push(m) });
    try {
      expect(fresh.stats()).toMatchObject({ documents: 0, vectors: 0 });
      const one = path.join(corpus, CHANGED_FILE);
      await ingestPaths(fresh, [one], { root: corpus });
      const stats = fresh.stats();
      expect(stats.vectors).toBe(stats.embedded);
      const hits = await search(fresh, { text: '学前教育学位', k: 10, mode: 'dense' });
      expect(hits.hits.length).toBeGreaterThan(0);
      expect(new Set(hits.hits.map((h) => h.citation.documentId))).toEqual(new Set([CHANGED_FILE]));
    } finally {
      fresh.close();
    }
  });
});

describe('schema versions', () => {
  it('migrates a version-1 store forward and refuses one newer than this code', async () => {
    const config = configFor('migrate');
    const corpus = corpusCopy('migrate');
    const kb = await KnowledgeBase.open(config, { embedder: null, log: () => {} });
    await ingestPaths(kb, [corpus], { root: corpus });
    kb.close();
    const file = path.join(config.dataDir, STORE_FILE);
    // Make it what version 1 wrote: a text_key column, a generation counter, no storeId (version 2),
    // no OCR columns and no failures table (version 3), no feedback table (version 4), no sentence vectors (version 5).
    const db = new Database(file);
    db.exec(`ALTER TABLE passages ADD COLUMN text_key INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE documents DROP COLUMN ocr;
      ALTER TABLE paragraphs DROP COLUMN confidence;
      ALTER TABLE passages DROP COLUMN confidence;
      DROP TABLE failures;
      DROP TABLE feedback;
      DROP TABLE sentence_embeddings;
      UPDATE meta SET value = '1' WHERE key = 'schemaVersion';
      DELETE FROM meta WHERE key = 'storeId';
      INSERT INTO meta (key, value) VALUES ('generation', '12');`);
    db.close();

    const migrated = await KnowledgeBase.open(config, { embedder: null, log: () => {} });
    try {
      expect((await search(migrated, { text: '学前教育学位', k: 3, mode: 'lexical' })).hits.length).toBeGreaterThan(0);
      // Version 4's feedback table is there and takes a verdict.
      migrated.recordFeedback({ question: '学前教育学位', answer: null, citations: [], verdict: 'down', mode: 'lexical' });
      expect([...migrated.feedback()].map((f) => f.question)).toEqual(['学前教育学位']);
    } finally {
      migrated.close();
    }
    const check = new Database(file, { readonly: true });
    const columns = (check.prepare('PRAGMA table_info(passages)').all() as Array<{ name: string }>).map((c) => c.name);
    const meta = new Map((check.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    check.close();
    expect(columns).not.toContain('text_key');
    expect(tables).toContain('sentence_embeddings');
    expect(meta.get('schemaVersion')).toBe('5');
    expect(meta.get('storeId')).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.has('generation')).toBe(false);

    const newer = new Database(file);
    newer.exec("UPDATE meta SET value = '99' WHERE key = 'schemaVersion'");
    newer.close();
    await expect(KnowledgeBase.open(config, { embedder: null, log: () => {} })).rejects.toThrow(/schema version 99/);
  });
});
