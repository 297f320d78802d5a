import { afterAll, beforeAll } from 'vitest';
/**
 * A real knowledge base in a temp data folder, built from the project's
 * corpus/ (and, when present, a small slice of ../shared/corpus), served by
 * the real app on an ephemeral loopback port. Used by the API and browser tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Config } from '../../kb/config.ts';
import type { KnowledgeBase } from '../../kb/kb.ts';
import { openCachedKb } from './kb-cache.ts';
import { createApp, listen, type AppOptions } from '../../server/app.ts';
import { hasSharedCorpus, sharedPath, SHARED_CORPUS } from './shared-corpus.ts';
import { ingestPaths } from '../../ingest/ingest.ts';

export const PROJECT_CORPUS = path.resolve(process.cwd(), 'corpus');
export const ADMIN_TOKEN = 'test-admin-token-7f3a';
export const SEED_ID = 'seed/对省政协十三届二次会议第26号委员提案的答复.txt';

/** The shared slice: the seed reply plus policy texts that compete with it for talent and graduate queries. */
export const SHARED_SLICE = ['seed', 'policies/text', 'policies/shandong'];

export interface TestKb {
  kb: KnowledgeBase;
  config: Config;
  dataDir: string;
  withShared: boolean;
  close(): void;
}

/**
 * The sample corpus (and the shared slice when present), lexical-only: built
 * once per change of its inputs (tests/support/kb-cache.ts), each caller
 * getting its own copy. `env` is applied to the copy, not to the build: the
 * callers' settings (upload size, parse limits) only refuse input, and the
 * sample corpus is stored the same under them, so they share one build.
 */
export async function buildTestKb(
  options: { shared?: boolean; env?: Record<string, string>; lexicalOnlyReason?: (config: Config) => string } = {},
): Promise<TestKb> {
  const withShared = (options.shared ?? true) && hasSharedCorpus;
  const cached = await openCachedKb({
    env: { KB_CORPUS_DIR: PROJECT_CORPUS, KB_LEXICAL_ONLY: '1', KB_ADMIN_TOKEN: ADMIN_TOKEN, KB_UPLOAD_MAX_BYTES: '200000' },
    openOptions: { embedder: null, lexicalOnlyReason: '测试环境未加载向量模型' },
    sources: [
      { paths: [PROJECT_CORPUS], options: { root: PROJECT_CORPUS } },
      ...(withShared ? [{ paths: SHARED_SLICE.map((p) => sharedPath(p)), options: { root: SHARED_CORPUS } }] : []),
    ],
    check: ([own, shared]) => {
      if (own!.failed.length > 0) throw new Error(`project corpus failed to ingest: ${JSON.stringify(own!.failed)}`);
      if (shared && shared.added + shared.updated + shared.unchanged === 0) throw new Error('shared corpus slice ingested nothing');
    },
  }, {
    env: options.env,
    openOptions: (config) => ({ embedder: null, lexicalOnlyReason: options.lexicalOnlyReason?.(config) ?? '测试环境未加载向量模型' }),
  });
  return { ...cached, withShared };
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function serve(kb: KnowledgeBase, config: Config, options: AppOptions = {}): Promise<RunningServer> {
  const app = createApp(kb, config, options);
  const server = await new Promise<Server>((resolve) => {
    const s = listen(app, 0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Documents a test writes itself (id → content), ingested into `t` from a folder inside its data
 * folder, so they are gone when `t` is closed. Any failure to ingest fails the caller.
 */
export async function addDocuments(t: TestKb, files: Record<string, string | Buffer>): Promise<void> {
  const root = fs.mkdtempSync(path.join(t.dataDir, 'test-sources-'));
  for (const [id, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, id)), { recursive: true });
    fs.writeFileSync(path.join(root, id), content);
  }
  const report = await ingestPaths(t.kb, Object.keys(files).map((id) => path.join(root, id)), { root });
  if (report.failed.length > 0) throw new Error(`test documents failed to ingest: ${JSON.stringify(report.failed)}`);
}

/**
 * A private knowledge base of the sample corpus served on loopback for one test file: built (and
 * given the file's own documents by `prepare`) before its tests, closed after. Read `served.t` and
 * `served.srv` inside the tests (they exist once beforeAll ran). Called inside a describe, the
 * setup runs only when that describe does (a skipped describe builds nothing).
 */
export function servedTestKb(
  options: { app?: AppOptions; prepare?: (t: TestKb) => Promise<void> } = {},
): { readonly t: TestKb; readonly srv: RunningServer } {
  const served = {} as { t: TestKb; srv: RunningServer };
  beforeAll(async () => {
    served.t = await buildTestKb({ shared: false });
    await options.prepare?.(served.t);
    served.srv = await serve(served.t.kb, served.t.config, options.app);
  });
  afterAll(async () => {
    await served.srv?.close();
    served.t?.close();
  });
  return served;
}
