import { afterAll, beforeAll } from 'vitest';
/**
 * A real knowledge base in a temp data folder, built from the project's
 * corpus/ (and, when present, a small slice of ../shared/corpus), served by
 * the real app on an ephemeral loopback port. Used by the API and browser tests.
 */
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Config } from '../../kb/config.ts';
import type { KnowledgeBase } from '../../kb/kb.ts';
import { openCachedKb } from './kb-cache.ts';
import { createApp, listen, type AppOptions } from '../../server/app.ts';
import { hasSharedCorpus, sharedPath, SHARED_CORPUS } from './shared-corpus.ts';

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
 * getting its own copy.
 */
export async function buildTestKb(
  options: { shared?: boolean; env?: Record<string, string>; lexicalOnlyReason?: (config: Config) => string } = {},
): Promise<TestKb> {
  const withShared = (options.shared ?? true) && hasSharedCorpus;
  const cached = await openCachedKb({
    env: { KB_CORPUS_DIR: PROJECT_CORPUS, KB_LEXICAL_ONLY: '1', KB_ADMIN_TOKEN: ADMIN_TOKEN, KB_UPLOAD_MAX_BYTES: '200000', ...options.env },
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
 * A private knowledge base of the sample corpus served on loopback for one test file: built before its
 * tests, closed after. Read `served.t` and `served.srv` inside the tests (they exist once beforeAll ran).
 */
export function servedTestKb(options: AppOptions = {}): { readonly t: TestKb; readonly srv: RunningServer } {
  const served = {} as { t: TestKb; srv: RunningServer };
  beforeAll(async () => {
    served.t = await buildTestKb({ shared: false });
    served.srv = await serve(served.t.kb, served.t.config, options);
  });
  afterAll(async () => {
    await served.srv?.close();
    served.t?.close();
  });
  return served;
}
