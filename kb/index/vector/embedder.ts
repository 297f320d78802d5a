/**
 * The EMBED stage: turns passages and queries into L2-normalised vectors with
 * a local ONNX BERT model through transformers.js, or explains in words why
 * it cannot (the product then runs lexical-only and says so).
 *
 * Model folder layout (KB_MODEL_DIR, default ./models), for the README:
 *
 *     models/
 *       Xenova/bge-small-zh-v1.5/          ← KB_MODEL, the model id, as a path
 *         config.json                      (hidden_size gives the dimension)
 *         tokenizer.json
 *         tokenizer_config.json
 *         onnx/model_quantized.onnx        (KB_MODEL_QUANTIZED=1, the default: int8)
 *         onnx/model.onnx                  (KB_MODEL_QUANTIZED=0: float32)
 *
 * KB_MODEL may instead be an absolute path to such a model folder.
 *
 * That is exactly the layout of the model's repository on the Hugging Face hub,
 * so on a connected machine the first start downloads it there (from
 * KB_MODEL_MIRROR, e.g. https://hf-mirror.com/ in mainland China), and the
 * folder can then be copied as it is to an air-gapped site that runs with
 * KB_MODEL_DOWNLOAD=0.
 */
import fs from 'node:fs';
import path from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import type { Config } from '../../config.ts';
import type { Embedder, EmbedderLoad } from '../../types.ts';
import { loadRemoteEmbedder } from './remote.ts';

/** bge (and every BERT) has 512 learned positions: longer input must be cut, not wrapped. */
const MAX_TOKENS = 512;
/** How long the model host may take to answer a first request before we call it unreachable. */
const PROBE_TIMEOUT_MS = 15_000;
/** Bound on a whole load including a download (the quantized bge-small-zh is ~24 MB, fp32 ~95 MB). */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
const LOCAL_LOAD_TIMEOUT_MS = 2 * 60_000;

const LEXICAL_ONLY_EN = 'Search runs lexical-only (keywords) until this is fixed.';
const LEXICAL_ONLY_ZH = '在解决之前，检索只使用关键词（词法）模式。';

export function modelFiles(quantized: boolean): string[] {
  return ['config.json', 'tokenizer.json', 'tokenizer_config.json', path.join('onnx', quantized ? 'model_quantized.onnx' : 'model.onnx')];
}

/** Where a model id lives under the model folder; KB_MODEL may also be an absolute folder path. */
export function modelFolder(config: Pick<Config, 'modelDir' | 'model'>): string {
  return path.isAbsolute(config.model) ? config.model : path.join(config.modelDir, ...config.model.split('/'));
}

class LoadFailure extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LoadFailure(message)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 300);
}

/** A failed fetch's own message is "fetch failed"; the useful part (ENOTFOUND, ECONNREFUSED…) is its cause. */
function networkErrorText(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${PROBE_TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${errorText(error)}${cause}`;
}

/**
 * transformers.js fetches with no timeout, so behind a firewall that drops
 * packets a download would hang forever. One bounded request to the host
 * first turns that into a prompt, explained fallback to lexical search.
 */
async function probeRemote(config: Config): Promise<void> {
  const url = `${config.modelMirror}${config.model}/resolve/main/config.json`;
  let response: Response;
  try {
    // GET rather than HEAD: not every mirror answers HEAD, and config.json is tiny.
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
  } catch (error) {
    throw new LoadFailure(
      `无法连接模型下载地址 ${config.modelMirror}（${networkErrorText(error)}），本地目录 ${modelFolder(config)} 中也没有完整的模型 ${config.model}。` +
        `请设置 KB_MODEL_MIRROR（国内可用 https://hf-mirror.com/），或把模型文件放到该目录（KB_MODEL_DIR 指定上级目录）。` +
        ` Cannot reach the model host ${config.modelMirror} (${networkErrorText(error)}) and ${modelFolder(config)} does not hold a complete copy of ${config.model}.` +
        ` Set KB_MODEL_MIRROR (e.g. https://hf-mirror.com/) or put the model files in that folder (KB_MODEL_DIR is its parent).`,
    );
  }
  if (!response.ok) {
    throw new LoadFailure(
      `模型下载地址 ${config.modelMirror} 上没有找到模型 ${config.model}（HTTP ${response.status}），本地目录 ${modelFolder(config)} 中也没有完整的模型。请检查 KB_MODEL 是否拼写正确，或换一个 KB_MODEL_MIRROR。` +
        ` The model host ${config.modelMirror} has no ${config.model} (HTTP ${response.status}) and ${modelFolder(config)} lacks it too. Check KB_MODEL, or try another KB_MODEL_MIRROR.`,
    );
  }
}

class TransformersEmbedder implements Embedder {
  constructor(
    readonly modelId: string,
    readonly dimension: number,
    private readonly extractor: FeatureExtractionPipeline,
    private readonly queryInstruction: string,
    private readonly batchSize: number,
  ) {}

  embedQueries(texts: string[]): Promise<Float32Array[]> {
    return this.embed(texts.map((text) => this.queryInstruction + text));
  }

  embedPassages(texts: string[]): Promise<Float32Array[]> {
    return this.embed(texts);
  }

  private async embed(texts: string[]): Promise<Float32Array[]> {
    // A batch is padded to its longest text; passages run from a 20-character
    // heading-only paragraph to the full passage bound, so batching texts of
    // similar length avoids paying attention and FFN cost on padding.
    const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
    const vectors = new Array<Float32Array>(texts.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const indices = order.slice(start, start + this.batchSize);
      // bge is trained with the [CLS] vector as the sentence embedding, not the mean.
      const output = await this.extractor(
        indices.map((i) => texts[i]!),
        { pooling: 'cls', normalize: true },
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

async function load(config: Config, log: (msg: string) => void): Promise<Embedder> {
  const folder = modelFolder(config);
  const files = modelFiles(config.quantized);
  const missing = files.filter((file) => !fs.existsSync(path.join(folder, file)));
  const dtype = config.quantized ? 'q8' : 'fp32';

  if (missing.length > 0 && path.isAbsolute(config.model)) {
    throw new LoadFailure(
      `模型目录 ${folder}（KB_MODEL）缺少 ${missing.join('、')}。请放入完整的模型文件，或把 KB_MODEL 设为模型 id（如 Xenova/bge-small-zh-v1.5）以便下载。` +
        ` Model folder ${folder} (KB_MODEL) lacks ${missing.join(', ')}. Put the complete model there, or set KB_MODEL to a model id (e.g. Xenova/bge-small-zh-v1.5) so it can be downloaded.`,
    );
  }
  if (missing.length > 0 && !config.allowModelDownload) {
    throw new LoadFailure(
      `找不到嵌入模型 ${config.model}：目录 ${folder} 缺少 ${missing.join('、')}，且已禁止下载（KB_MODEL_DOWNLOAD=0）。` +
        `请把模型文件放到该目录（KB_MODEL_DIR 指定上级目录），或设置 KB_MODEL_DOWNLOAD=1 允许下载（国内可设 KB_MODEL_MIRROR=https://hf-mirror.com/）。` +
        ` Embedding model ${config.model} not found: ${folder} lacks ${missing.join(', ')} and downloads are off (KB_MODEL_DOWNLOAD=0).` +
        ` Put the model files there (KB_MODEL_DIR is the parent folder) or allow downloading with KB_MODEL_DOWNLOAD=1 (KB_MODEL_MIRROR=https://hf-mirror.com/ from mainland China).`,
    );
  }
  if (missing.length > 0) {
    log(`embedder: ${config.model} is not in ${folder}; downloading ${missing.join(', ')} from ${config.modelMirror}`);
    await probeRemote(config);
  }

  // transformers.js keeps its settings in one process-wide `env` object, not
  // per pipeline. Tests, eval and the server may hold several configurations
  // in one process, so each load sets every field from its own Config (loads
  // are serialised below so two never interleave).
  env.localModelPath = config.modelDir;
  env.allowLocalModels = true;
  env.allowRemoteModels = config.allowModelDownload;
  env.remoteHost = config.modelMirror;
  // Downloads are cached under the model folder itself, in the local layout:
  // after one connected start the folder is complete and works offline.
  env.cacheDir = config.modelDir;
  env.useFSCache = true;

  const started = Date.now();
  let extractor: FeatureExtractionPipeline;
  try {
    extractor = (await withTimeout(
      pipeline('feature-extraction', config.model, { dtype }),
      missing.length > 0 ? DOWNLOAD_TIMEOUT_MS : LOCAL_LOAD_TIMEOUT_MS,
      `timed out after ${(missing.length > 0 ? DOWNLOAD_TIMEOUT_MS : LOCAL_LOAD_TIMEOUT_MS) / 1000} s`,
    )) as FeatureExtractionPipeline;
  } catch (error) {
    const onnxPath = path.join(folder, files[files.length - 1]!);
    throw new LoadFailure(
      `嵌入模型 ${config.model} 加载失败（目录 ${folder}）：${errorText(error)}。文件可能损坏或下载不完整（例如 ${onnxPath}）：请删除这些文件后重新下载，或换成完整的模型目录（KB_MODEL_DIR / KB_MODEL_MIRROR）。` +
        ` Loading embedding model ${config.model} from ${folder} failed: ${errorText(error)}. A file may be corrupt or partly downloaded (e.g. ${onnxPath}): delete it and download again, or point KB_MODEL_DIR at a complete copy (KB_MODEL_MIRROR to download from a mirror).`,
    );
  }

  const maxPositions = Number((extractor.model.config as unknown as { max_position_embeddings?: number }).max_position_embeddings ?? MAX_TOKENS);
  extractor.tokenizer.model_max_length = Math.min(extractor.tokenizer.model_max_length ?? MAX_TOKENS, MAX_TOKENS, maxPositions);

  // One probe inference: a graph that loads but cannot run (wrong inputs, bad
  // shapes) fails here, at start-up, instead of on a user's first query.
  let dimension: number;
  try {
    const probe = await extractor(['检索'], { pooling: 'cls', normalize: true });
    dimension = probe.dims[probe.dims.length - 1] ?? 0;
    probe.dispose();
  } catch (error) {
    throw new LoadFailure(
      `嵌入模型 ${config.model}（${folder}）能加载但无法推理：${errorText(error)}。请换用完整的 BERT 类 ONNX 模型（KB_MODEL / KB_MODEL_DIR）。` +
        ` Embedding model ${config.model} (${folder}) loads but cannot run: ${errorText(error)}. Use a complete BERT-style ONNX export (KB_MODEL / KB_MODEL_DIR).`,
    );
  }
  const declared = (extractor.model.config as unknown as { hidden_size?: number }).hidden_size;
  if (!(dimension > 0) || (declared !== undefined && declared !== dimension)) {
    throw new LoadFailure(
      `嵌入模型 ${config.model}（${folder}）输出维度 ${dimension} 与 config.json 中的 hidden_size ${declared} 不一致。` +
        ` Embedding model ${config.model} (${folder}) outputs ${dimension} dimensions but config.json says hidden_size ${declared}.`,
    );
  }
  log(`embedder: ${config.model} (${dtype}, ${dimension} dimensions) loaded from ${folder} in ${Date.now() - started} ms`);
  return new TransformersEmbedder(config.model, dimension, extractor, config.queryInstruction, config.embedBatchSize);
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Load the configured model, or say why not. Never throws: every failure
 * (lexical-only by choice, missing model with downloads off, unreachable
 * host, corrupt file) comes back as `{ embedder: null, reason }`, a sentence
 * in Chinese and English naming the model, the folder and the fix.
 */
export function loadEmbedder(config: Config, log: (msg: string) => void = () => {}): Promise<EmbedderLoad> {
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
      return { embedder: await load(config, log) };
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
