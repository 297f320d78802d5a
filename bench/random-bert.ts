/**
 * A random-weight BERT encoder that transformers.js loads exactly as it loads
 * Xenova/bge-small-zh-v1.5: config.json, tokenizer.json, tokenizer_config.json
 * and onnx/model.onnx + onnx/model_quantized.onnx. Tests use a tiny shape so
 * the real loading, tokenising and inference code runs without the network;
 * bench/make-model.ts uses bge-small-zh's exact shape to measure embedding cost.
 *
 * The weights are not trained, but they are shaped so the CLS vector still
 * means something: queries and keys are near zero, so attention is close to
 * uniform and the CLS output is roughly the (nonlinear) average of the text's
 * token vectors, while the value/output projections are large enough for that
 * average to dominate the CLS token's own embedding. A passage's text is then
 * closer to itself than to other passages, even with the bge query prefix in
 * front — which the dense-path tests rely on.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildBertOnnx, type BertArchitecture, type BertWeights } from '../kb/index/vector/onnx-bert.ts';

export interface BertShape {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  /** Vocabulary size; bge-small-zh's is 21128. Default 21128. */
  vocab?: number;
  /** Default 512. */
  maxPositions?: number;
  /** PRNG seed for the weights. Default 1. */
  seed?: number;
}

/** bge-small-zh-v1.5's architecture, for cost-only benchmarks. */
export const BGE_SMALL_ZH_SHAPE: BertShape = { layers: 4, hidden: 512, heads: 8, ffn: 2048, vocab: 21128, maxPositions: 512 };

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/**
 * WordPiece vocabulary: specials, ASCII (with ## continuations so words and
 * numbers split into pieces instead of becoming [UNK]), the full-width
 * punctuation of government documents, then every CJK unified ideograph, cut
 * or padded with [unusedN] to `size`.
 */
export function buildVocab(size: number): string[] {
  const tokens: string[] = [...SPECIAL_TOKENS];
  for (let c = 0x21; c <= 0x7e; c++) {
    const ch = String.fromCharCode(c);
    if (ch >= 'A' && ch <= 'Z') continue; // BertNormalizer lowercases first
    tokens.push(ch);
  }
  for (const ch of 'abcdefghijklmnopqrstuvwxyz0123456789') tokens.push(`##${ch}`);
  for (const ch of '，。、；：？！“”‘’（）《》【】〔〕〈〉「」『』—…·％．／－＋＝～〇') tokens.push(ch);
  for (let c = 0x4e00; c <= 0x9fff; c++) tokens.push(String.fromCharCode(c));
  const seen = new Set<string>();
  const unique = tokens.filter((t) => (seen.has(t) ? false : (seen.add(t), true)));
  for (let i = 0; unique.length < size; i++) unique.push(`[unused${i}]`);
  return unique.slice(0, size);
}

function tokenizerJson(vocab: string[], maxPositions: number) {
  const id = (t: string) => vocab.indexOf(t);
  const special = (t: string) => ({ id: id(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: maxPositions, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

/** mulberry32: tiny, fast, and the same stream on every platform. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random weights by tensor name (see the file comment for why queries and
 * keys are near zero), drawn once and cached so the float and the int8 file
 * hold the same model.
 */
function randomWeights(shape: Required<BertShape>): BertWeights {
  const random = prng(shape.seed);
  const cache = new Map<string, Float32Array>();
  const std = (name: string): number | 'ones' | 'zeros' => {
    if (/ln\.w$/.test(name)) return 'ones';
    if (/ln\.b$/.test(name)) return 'zeros';
    if (name.endsWith('.b')) return 0.02;
    if (name === 'emb.word') return 1;
    if (name === 'emb.pos' || name === 'emb.type') return 0.05;
    if (/\.(q|k)\.w$/.test(name)) return 0.02;
    if (/\.(v|ao)\.w$/.test(name)) return 3 / Math.sqrt(shape.hidden);
    if (name.endsWith('.fi.w')) return 1 / Math.sqrt(shape.hidden);
    if (name.endsWith('.fo.w')) return 1 / Math.sqrt(shape.ffn);
    throw new Error(`no random weights for ${name}`);
  };
  return (name, dims) => {
    let tensor = cache.get(name);
    if (!tensor) {
      tensor = new Float32Array(dims.reduce((a, b) => a * b, 1));
      const spread = std(name);
      if (spread === 'ones') tensor.fill(1);
      else if (spread !== 'zeros') {
        // Uniform in [-a, a] with a = std·√3, so `spread` is the standard deviation.
        const a = spread * Math.sqrt(3);
        for (let i = 0; i < tensor.length; i++) tensor[i] = (random() * 2 - 1) * a;
      }
      cache.set(name, tensor);
    }
    return tensor;
  };
}

/** Write a transformers.js-loadable random BERT model folder to `dir`. */
export async function writeRandomBert(dir: string, shape: BertShape): Promise<void> {
  const full: Required<BertShape> = { vocab: 21128, maxPositions: 512, seed: 1, ...shape };
  const vocab = buildVocab(full.vocab);
  await fs.mkdir(path.join(dir, 'onnx'), { recursive: true });
  const config = {
    _name_or_path: 'policykb/random-bert',
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: full.hidden,
    num_hidden_layers: full.layers,
    num_attention_heads: full.heads,
    intermediate_size: full.ffn,
    hidden_act: 'gelu',
    vocab_size: full.vocab,
    max_position_embeddings: full.maxPositions,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    note: 'Random weights generated by bench/random-bert.ts: measures cost only, retrieves nothing meaningful.',
  };
  const tokenizerConfig = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    tokenize_chinese_chars: true,
    strip_accents: null,
    model_max_length: full.maxPositions,
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  };
  await Promise.all([
    fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2)),
    fs.writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab, full.maxPositions))),
    fs.writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2)),
  ]);
  const arch: BertArchitecture = { ...full, typeVocab: 2, layerNormEps: 1e-12 };
  const weights = randomWeights(full);
  await fs.writeFile(path.join(dir, 'onnx', 'model.onnx'), buildBertOnnx(arch, weights, false, 'policykb-random-bert'));
  await fs.writeFile(path.join(dir, 'onnx', 'model_quantized.onnx'), buildBertOnnx(arch, weights, true, 'policykb-random-bert'));
}

/** The shape tests use: one layer, 64 wide (at 32 wide, other passages outranked a passage's own text 6 times in 399 instead of once), full bge vocabulary so Chinese text tokenises as it would for the real model. */
export const TINY_SHAPE: BertShape = { layers: 1, hidden: 64, heads: 2, ffn: 128 };
export const TINY_MODEL_ID = 'test/tiny-bert';

let tinyModel: Promise<{ modelDir: string; modelId: string }> | undefined;

/**
 * A models folder holding `test/tiny-bert/`: use as KB_MODEL_DIR with
 * KB_MODEL=test/tiny-bert and KB_MODEL_DOWNLOAD=0, and treat it as read-only
 * (copy it to corrupt it). Generated (~80 ms) once per machine under the OS
 * temp dir, in a folder named after a hash of this file, so a changed
 * generator gets a fresh model and test processes (which vitest may kill
 * before any exit hook runs) leave nothing behind.
 *
 * Own-text retrieval is reliable for passages of 40+ characters: on the
 * first 1,500 distinct services passages, a passage's own text as a query
 * (with the bge instruction) ranked it first for 1,375 of 1,376 passages of
 * 40+ characters, but only 107 of 124 shorter ones, where the 17-character
 * instruction outweighs the text in the average.
 */
export function makeTinyModelDir(): Promise<{ modelDir: string; modelId: string }> {
  tinyModel ??= (async () => {
    const generator = await fs.readFile(new URL(import.meta.url));
    const graph = await fs.readFile(new URL('../kb/index/vector/onnx-bert.ts', import.meta.url));
    const version = createHash('sha256').update(generator).update(graph).update(JSON.stringify(TINY_SHAPE)).digest('hex').slice(0, 12);
    const modelDir = path.join(os.tmpdir(), `policykb-tiny-bert-${version}`);
    if (await exists(path.join(modelDir, TINY_MODEL_ID, 'onnx', 'model_quantized.onnx'))) return { modelDir, modelId: TINY_MODEL_ID };
    // Built aside and renamed into place, so a concurrent test never sees half a model.
    const staging = await fs.mkdtemp(path.join(os.tmpdir(), 'policykb-tiny-bert-staging-'));
    try {
      await writeRandomBert(path.join(staging, TINY_MODEL_ID), TINY_SHAPE);
      await fs.rename(staging, modelDir);
    } catch (error) {
      // Another process won the race: its copy is identical.
      if (!(await exists(path.join(modelDir, TINY_MODEL_ID, 'onnx', 'model_quantized.onnx')))) throw error;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return { modelDir, modelId: TINY_MODEL_ID };
  })();
  return tinyModel;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
