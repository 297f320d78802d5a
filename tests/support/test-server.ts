/**
 * A real knowledge base in a temp data folder, built from the project's
 * corpus/ (and, when present, a small slice of ../shared/corpus), served by
 * the real app on an ephemeral loopback port. Used by the API and browser tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { loadConfig, type Config } from '../../kb/config.ts';
import { KnowledgeBase } from '../../kb/kb.ts';
import { createApp, type AppOptions } from '../../server/app.ts';
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

export async function buildTestKb(
  options: { shared?: boolean; env?: Record<string, string>; lexicalOnlyReason?: (config: Config) => string } = {},
): Promise<TestKb> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-test-'));
  const config = loadConfig(
    { KB_DATA_DIR: dataDir, KB_CORPUS_DIR: PROJECT_CORPUS, KB_LEXICAL_ONLY: '1', KB_ADMIN_TOKEN: ADMIN_TOKEN, KB_UPLOAD_MAX_BYTES: '200000', ...options.env },
    process.cwd(),
  );
  const kb = await KnowledgeBase.open(config, { embedder: null, lexicalOnlyReason: options.lexicalOnlyReason?.(config) ?? '测试环境未加载向量模型' });
  const own = await ingestPaths(kb, [PROJECT_CORPUS], { root: PROJECT_CORPUS });
  if (own.failed.length > 0) throw new Error(`project corpus failed to ingest: ${JSON.stringify(own.failed)}`);
  const withShared = (options.shared ?? true) && hasSharedCorpus;
  if (withShared) {
    const report = await ingestPaths(kb, 
      SHARED_SLICE.map((p) => sharedPath(p)),
      { root: SHARED_CORPUS },
    );
    if (report.added + report.updated + report.unchanged === 0) throw new Error('shared corpus slice ingested nothing');
  }
  return {
    kb,
    config,
    dataDir,
    withShared,
    close() {
      kb.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function serve(kb: KnowledgeBase, config: Config, options: AppOptions = {}): Promise<RunningServer> {
  const app = createApp(kb, config, options);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
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
