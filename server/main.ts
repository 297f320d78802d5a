/**
 * `npm start`: open the knowledge base (with the embedder, or lexical-only
 * said out loud), index the sample corpus when the store is empty, then serve
 * the API and the page.
 */
import fs from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../kb/config.ts';
import { KnowledgeBase, KnowledgeBaseError } from '../kb/kb.ts';
import { createApp, listen, removeAbandonedUploads } from './app.ts';
import { TermRarity } from '../kb/index/lexical/term-rarity.ts';
import { failureLine } from '../ingest/errors.ts';
import { ingestPaths } from '../ingest/ingest.ts';
import { modelMustBeObtained, prepareModelInBackground, PREPARING_REASON } from './model-startup.ts';

const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

async function ingestSampleCorpus(kb: KnowledgeBase, config: Config): Promise<void> {
  if (!fs.existsSync(config.corpusDir)) {
    log(`知识库为空，且语料目录 ${config.corpusDir} 不存在：用 KB_CORPUS_DIR 指定，或在页面上上传文件`);
    return;
  }
  log(`知识库为空，正在索引 ${config.corpusDir} …`);
  let lastLine = 0;
  const report = await ingestPaths(kb, [config.corpusDir], {
    root: config.corpusDir,
    onProgress: (p) => {
      const now = Date.now();
      if (now - lastLine < 1000 && p.filesDone < p.filesTotal) return;
      lastLine = now;
      log(`  索引进度 ${p.filesDone}/${p.filesTotal} 个文件，${p.passages} 个段落，${p.elapsedSeconds.toFixed(1)} 秒${p.currentFile ? `（${p.currentFile}）` : ''}`);
    },
  });
  log(
    `索引完成：新增 ${report.added}，更新 ${report.updated}，未变 ${report.unchanged}，失败 ${report.failed.length}，共 ${report.passages} 个段落，用时 ${report.seconds.toFixed(1)} 秒`,
  );
  for (const f of report.failed) log(`  失败 ${failureLine(f.file, f.error)}`);
}

/**
 * Passages ingested while no model could be loaded (lexical-only by choice or
 * by failure) have no vectors; the store keeps them, and dense search cannot
 * find them. Once a model is there, embed them before serving, as the first
 * start embeds the sample corpus before serving.
 */
async function embedMissingVectors(kb: KnowledgeBase): Promise<void> {
  const stats = kb.stats();
  const missing = stats.passages - stats.embedded;
  if (!kb.embedder || missing <= 0) return;
  log(`${missing} 个段落还没有向量（入库时没有加载向量模型），正在用 ${kb.embedder.modelId} 嵌入 …`);
  const started = performance.now();
  let lastLine = Date.now();
  const done = await kb.write((writer) =>
    writer.embedMissing((n) => {
      if (Date.now() - lastLine < 5000) return;
      lastLine = Date.now();
      log(`  嵌入进度 ${n}/${missing} 个段落，${((performance.now() - started) / 1000).toFixed(0)} 秒`);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  log(`嵌入完成：${done} 个段落，用时 ${seconds.toFixed(1)} 秒（每秒 ${(done / Math.max(seconds, 0.001)).toFixed(0)} 个）`);
}

async function main(): Promise<void> {
  const config = loadConfig();
  log(`数据目录 ${config.dataDir}`);
  // A missing model is obtained after the server is up (model-startup.ts): users get lexical results meanwhile.
  const obtainLater = modelMustBeObtained(config);
  const kb = await KnowledgeBase.open(config, obtainLater ? { embedder: null, lexicalOnlyReason: PREPARING_REASON, log } : { log });
  const health = kb.health();
  if (obtainLater) {
    kb.setModelStatus({ state: 'obtaining', model: config.model, message: '正在获取语义检索模型' });
    log(`向量模型 ${config.model} 不在 ${config.modelDir}：启动后在后台获取，获取前只用关键词检索`);
  } else if (health.mode === 'lexical-only') {
    log('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    log('!! 仅关键词检索（lexical-only）：语义检索已停用，原因见上一行 LEXICAL-ONLY；页面顶部会显示同样的提示。');
    log('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
  } else {
    log(`向量模型 ${health.model?.id ?? config.model}（${health.model?.dimension ?? '?'} 维），混合检索`);
  }
  if (health.documents === 0) await ingestSampleCorpus(kb, config);
  else if (!obtainLater) await embedMissingVectors(kb);
  const after = kb.health();
  log(`知识库：${after.documents} 个文档，${after.passages} 个段落`);

  // The answer stage's word-rarity tables take ~0.6 s to load; pay that now, not on the first question.
  TermRarity.shared();
  const abandoned = removeAbandonedUploads(config);
  if (abandoned > 0) log(`已删除 ${abandoned} 个中断上传留下的临时文件（uploads/.incoming）`);
  const app = createApp(kb, config, { log });
  const server = listen(app, config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
    log(`PolicyKB 已启动：http://${shown}:${port}/${config.host === '127.0.0.1' ? '（只接受本机访问；KB_HOST=0.0.0.0 对外提供服务）' : ''}`);
    if (!config.adminToken) log('未设置 KB_ADMIN_TOKEN：上传与删除已停用');
    if (obtainLater) void prepareModelInBackground(kb, config, log);
  });
  server.on('error', (err) => {
    log(`无法监听 ${config.host}:${config.port}：${err.message}（用 PORT 指定其他端口，KB_HOST 指定其他地址）`);
    process.exit(1);
  });
  const shutdown = () => {
    log('正在关闭…');
    server.close(() => {
      kb.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof KnowledgeBaseError) {
    console.error(`启动失败：${err.message}`);
  } else {
    console.error('启动失败：', err);
  }
  process.exit(1);
});
