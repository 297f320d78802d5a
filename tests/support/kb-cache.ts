/**
 * Knowledge bases the tests share, built once and reused while nothing they
 * depend on changes. A build is keyed by the content of its input files, the
 * source of ingest/ and kb/ (which decide what is stored), the lock file and
 * the build's own settings; it lives in node_modules/.cache/policykb-test-kb/.
 * Each test gets a fresh copy of the built data folder, so uploads and
 * deletes in one file never show in another.
 *
 * Measured on the 2-core machine: building the sample corpus plus the shared
 * slice took 12–20 s per test file that needed it (five files did); a copy
 * and open takes well under a second.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../kb/config.ts';
import { KnowledgeBase, type KnowledgeBaseOptions } from '../../kb/kb.ts';
import type { IngestOptions, IngestReport } from '../../kb/types.ts';
import { ingestPaths } from '../../ingest/ingest.ts';

const CACHE_DIR = path.resolve(process.cwd(), 'node_modules', '.cache', 'policykb-test-kb');
/** What decides the stored analysis: the pipeline, the store, the indexes, and the exact dependency versions. */
const CODE_INPUTS = ['ingest', 'kb', 'package-lock.json'];

export interface KbSource {
  paths: string[];
  options?: Omit<IngestOptions, 'onProgress'>;
}

export interface KbBuild {
  /** Environment for loadConfig (KB_DATA_DIR is set per copy). */
  env: Record<string, string>;
  openOptions?: Pick<KnowledgeBaseOptions, 'embedder' | 'lexicalOnlyReason'>;
  sources: KbSource[];
  /** Called on the built knowledge base before it is stored, e.g. to check the ingest report. */
  check?: (reports: IngestReport[]) => void;
}

function filesUnder(entry: string): string[] {
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return [entry];
  return fs
    .readdirSync(entry)
    .sort()
    .flatMap((name) => (name === 'node_modules' || name.startsWith('.') ? [] : filesUnder(path.join(entry, name))));
}

/** A key of `settings` and of the content of `inputs` (files, or folders read in order). */
export function contentKey(settings: unknown, inputs: string[]): string {
  const hash = crypto.createHash('sha256');
  hash.update(JSON.stringify(settings));
  for (const input of inputs) {
    for (const file of filesUnder(input)) {
      hash.update(file);
      hash.update(fs.readFileSync(file));
    }
  }
  return hash.digest('hex').slice(0, 24);
}

function buildKey(build: KbBuild): string {
  const inputs = [...build.sources.flatMap((s) => s.paths), ...CODE_INPUTS.map((p) => path.resolve(process.cwd(), p))];
  // A model folder named in the environment is an input too.
  if (build.env.KB_MODEL_DIR) inputs.push(build.env.KB_MODEL_DIR);
  return contentKey({ env: build.env, sources: build.sources, open: { lexicalOnlyReason: build.openOptions?.lexicalOnlyReason, embedder: build.openOptions?.embedder === null ? null : 'configured' } }, inputs);
}

async function buildInto(dir: string, build: KbBuild): Promise<void> {
  const config = loadConfig({ ...build.env, KB_DATA_DIR: dir }, process.cwd());
  const kb = await KnowledgeBase.open(config, { log: () => {}, ...build.openOptions });
  try {
    const reports = [];
    for (const source of build.sources) reports.push(await ingestPaths(kb, source.paths, source.options ?? {}));
    build.check?.(reports);
  } finally {
    kb.close();
  }
}

/** The built data folder for `build`, built now if no earlier run left it. */
async function builtDataDir(build: KbBuild): Promise<string> {
  const key = buildKey(build);
  const target = path.join(CACHE_DIR, key);
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const staging = fs.mkdtempSync(path.join(CACHE_DIR, `.building-${key}-`));
  try {
    await buildInto(staging, build);
    // Two workers may build the same key at once: the first rename wins, the other copy is dropped.
    fs.renameSync(staging, target);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(target)) throw error;
  }
  return target;
}

export interface CachedKb {
  kb: KnowledgeBase;
  config: Config;
  dataDir: string;
  close(): void;
}

/** A fresh, private copy of the knowledge base `build` describes, opened. */
export async function openCachedKb(
  build: KbBuild,
  overrides: { env?: Record<string, string>; openOptions?: (config: Config) => KbBuild['openOptions'] } = {},
): Promise<CachedKb> {
  const built = await builtDataDir(build);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-test-'));
  fs.cpSync(built, dataDir, { recursive: true });
  const config = loadConfig({ ...build.env, ...overrides.env, KB_DATA_DIR: dataDir }, process.cwd());
  const kb = await KnowledgeBase.open(config, { log: () => {}, ...(overrides.openOptions?.(config) ?? build.openOptions) });
  return {
    kb,
    config,
    dataDir,
    close() {
      kb.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
