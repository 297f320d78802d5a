/**
 * kill -9 in the middle of a batch: the CLI runs as a child process with the
 * tiny generated model, is killed with SIGKILL once its progress shows some
 * documents done, and a re-run must end exactly where a clean run ends — same
 * documents and passages, no duplicates, no half-written document, and an
 * HNSW file holding exactly the store's embedded passages.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORE_FILE } from '../../kb/store/store.ts';
import { labelsDigest, VECTOR_FILE, VECTOR_SIDECAR, type VectorSidecar } from '../../kb/index/vector/vector-file.ts';
import { VectorIndex } from '../../kb/index/vector/hnsw.ts';
import { makeTinyModelDir } from '../../bench/random-bert.ts';
import { describeWithSharedCorpus, hasSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-crash-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * 24 of the 55 real policy documents in policies/shandong, copied to a temp
 * folder: a kill after 8 lands mid-batch. All 55 took 28 s of the suite's
 * time for three ingests; 24 take under half of that and test the same.
 */
const SOURCE = path.join(tmp, 'source');
const SOURCE_FILES = 24;
const KILL_AFTER_FILES = 8;

let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (hasSharedCorpus) {
    fs.mkdirSync(SOURCE);
    const all = fs.readdirSync(sharedPath('policies', 'shandong')).sort();
    for (const name of all.slice(0, SOURCE_FILES)) fs.copyFileSync(sharedPath('policies', 'shandong', name), path.join(SOURCE, name));
  }
  const { modelDir, modelId } = await makeTinyModelDir();
  env = { ...process.env, KB_MODEL_DIR: modelDir, KB_MODEL: modelId, KB_MODEL_DOWNLOAD: '0' };
});

const ingestArgs = (dataDir: string) => ['--import', 'tsx', 'cli/ingest.ts', SOURCE, '--data', dataDir, '--progress-every', '0'];

/** Start the ingest CLI and SIGKILL it as soon as a progress line reports enough files done. */
function ingestAndKill(dataDir: string): Promise<{ killedAt: number; total: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ingestArgs(dataDir), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killedAt = -1;
    let total = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      for (const match of stderr.matchAll(/progress: (\d+)\/(\d+) files/g)) {
        const done = Number(match[1]);
        total = Number(match[2]);
        if (killedAt < 0 && done >= KILL_AFTER_FILES) {
          killedAt = done;
          child.kill('SIGKILL');
        }
      }
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (killedAt < 0) reject(new Error(`the ingest finished before it could be killed:\n${stderr}`));
      else resolve({ killedAt, total, signal });
    });
  });
}

function runIngest(dataDir: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ingestArgs(dataDir), { env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface StoreSnapshot {
  documents: Map<string, number>;
  passages: number;
  embedded: number;
  /** Documents whose stored passage_count disagrees with their passage rows (half-written). */
  torn: string[];
  /** Passage rows sharing document and position (duplicates). */
  duplicates: number;
  /** Digest of the embedded labels: what the HNSW sidecar must say it reflects. */
  labels: string;
  model: string | undefined;
}

function snapshot(dataDir: string): StoreSnapshot {
  const db = new Database(path.join(dataDir, STORE_FILE), { readonly: true });
  try {
    const docs = db.prepare('SELECT d.id, d.passage_count, (SELECT count(*) FROM passages p WHERE p.doc_key = d.doc_key) AS n FROM documents d').all() as Array<{
      id: string;
      passage_count: number;
      n: number;
    }>;
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const meta = (key: string) => (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
    return {
      documents: new Map(docs.map((d) => [d.id, d.n])),
      passages: one('SELECT count(*) AS n FROM passages'),
      embedded: one('SELECT count(*) AS n FROM embeddings'),
      torn: docs.filter((d) => d.n !== d.passage_count).map((d) => d.id),
      duplicates: one('SELECT count(*) AS n FROM (SELECT doc_key, seq FROM passages GROUP BY doc_key, seq HAVING count(*) > 1)'),
      labels: labelsDigest(db.prepare('SELECT label FROM embeddings').pluck().all() as number[]),
      model: meta('modelId'),
    };
  } finally {
    db.close();
  }
}

describeWithSharedCorpus('kill -9 during a batch ingest', () => {
  it('a re-run after SIGKILL ends exactly like a clean run, with the HNSW file matching the store', async () => {
    const crashed = path.join(tmp, 'crashed');
    const killed = await ingestAndKill(crashed);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.killedAt).toBeLessThan(killed.total);

    // Right after the kill: whole documents only, no duplicates, fewer than all.
    const afterKill = snapshot(crashed);
    expect(afterKill.torn).toEqual([]);
    expect(afterKill.duplicates).toBe(0);
    expect(afterKill.documents.size).toBeGreaterThan(0);
    expect(afterKill.documents.size).toBeLessThan(killed.total);
    expect(afterKill.embedded).toBe(afterKill.passages);

    const rerun = runIngest(crashed);
    expect(rerun.stdout).toMatch(new RegExp(`unchanged ${afterKill.documents.size},`));
    const clean = path.join(tmp, 'clean');
    const cleanRun = runIngest(clean);
    // Both runs fail (or not) on the same files.
    expect(rerun.status).toBe(cleanRun.status);

    const resumed = snapshot(crashed);
    const fresh = snapshot(clean);
    expect(resumed.documents).toEqual(fresh.documents);
    expect(resumed.passages).toBe(fresh.passages);
    expect(resumed.torn).toEqual([]);
    expect(resumed.duplicates).toBe(0);
    expect(resumed.embedded).toBe(resumed.passages);

    // The saved HNSW file says it reflects exactly the store's embedded passages, and holds them.
    const sidecar = JSON.parse(fs.readFileSync(path.join(crashed, VECTOR_SIDECAR), 'utf8')) as VectorSidecar;
    expect(sidecar.labels).toBe(resumed.labels);
    const index = await VectorIndex.load(path.join(crashed, VECTOR_FILE), sidecar.dimension, { M: 16, efConstruction: 200, ef: 100 });
    expect(index.count).toBe(resumed.embedded);
    expect(sidecar.count).toBe(resumed.embedded);
  });
});
