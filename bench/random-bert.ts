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
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

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
 * Graph builder: collects initializers and nodes, and emits each weight
 * MatMul either in float or as the dynamic int8 pattern onnxruntime's
 * quantize_dynamic produces (DynamicQuantizeLinear → MatMulInteger → scale),
 * so the quantized file costs what a real q8 export costs.
 */
class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;

  constructor(
    private readonly random: () => number,
    private readonly quantized: boolean,
  ) {}

  name(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  node(opType: string, inputs: string[], attributes: Record<string, number | number[]> = {}, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.name(opType));
    const attribute = Object.entries(attributes).map(([name, value]) =>
      Array.isArray(value)
        ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: value })
        : Number.isInteger(value) && name !== 'epsilon' && name !== 'alpha'
          ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value })
          : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value }),
    );
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: this.name(`${opType}_node`), attribute }));
    return outputs;
  }

  op(opType: string, inputs: string[], attributes: Record<string, number | number[]> = {}): string {
    return this.node(opType, inputs, attributes)[0]!;
  }

  tensor(dims: number[], data: Float32Array | BigInt64Array | Int8Array | Uint8Array, prefix = 'w'): string {
    const name = this.name(prefix);
    const dataType =
      data instanceof Float32Array
        ? onnx.TensorProto.DataType.FLOAT
        : data instanceof BigInt64Array
          ? onnx.TensorProto.DataType.INT64
          : data instanceof Int8Array
            ? onnx.TensorProto.DataType.INT8
            : onnx.TensorProto.DataType.UINT8;
    const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType, rawData }));
    return name;
  }

  /** Uniform in [-a, a] with a = std·√3, so `std` is the standard deviation. */
  randomTensor(dims: number[], std: number): string {
    const size = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const a = std * Math.sqrt(3);
    for (let i = 0; i < size; i++) data[i] = (this.random() * 2 - 1) * a;
    return this.tensor(dims, data);
  }

  constant(values: number[], dims = [values.length]): string {
    return this.tensor(dims, Float32Array.from(values), 'c');
  }

  int64(values: number[], dims = [values.length]): string {
    return this.tensor(dims, BigInt64Array.from(values.map(BigInt)), 'i');
  }

  /** x·W + b for a random [inDim, outDim] weight. */
  linear(x: string, inDim: number, outDim: number, std: number): string {
    const bias = this.randomTensor([outDim], 0.02);
    if (!this.quantized) return this.op('Add', [this.op('MatMul', [x, this.randomTensor([inDim, outDim], std)]), bias]);
    const { weights, scale } = this.quantizedWeights(inDim * outDim, std);
    const [xq, xScale, xZero] = this.node('DynamicQuantizeLinear', [x], {}, 3) as [string, string, string];
    const product = this.op('MatMulInteger', [xq, this.tensor([inDim, outDim], weights, 'wq'), xZero, this.tensor([], new Int8Array([0]), 'zp')]);
    const rescale = this.op('Mul', [xScale, this.constant([scale], [])]);
    return this.op('Add', [this.op('Mul', [this.op('Cast', [product], { to: onnx.TensorProto.DataType.FLOAT }), rescale]), bias]);
  }

  /** Int8 random weights with one scale, as quantize_dynamic stores them; `std` is their standard deviation. */
  private quantizedWeights(size: number, std: number): { weights: Int8Array; scale: number } {
    const weights = new Int8Array(size);
    const a = std * Math.sqrt(3);
    const scale = a / 127;
    for (let i = 0; i < size; i++) weights[i] = Math.round(((this.random() * 2 - 1) * a) / scale);
    return { weights, scale };
  }

  /**
   * A lookup table; quantize_dynamic stores the big word-embedding table as
   * int8 and dequantizes only the gathered rows, which is most of why the real
   * model_quantized.onnx is a quarter of model.onnx's size.
   */
  embedding(rows: number, width: number, std: number, ids: string): string {
    if (!this.quantized) return this.op('Gather', [this.randomTensor([rows, width], std), ids]);
    const { weights, scale } = this.quantizedWeights(rows * width, std);
    const gathered = this.op('Gather', [this.tensor([rows, width], weights, 'wq'), ids]);
    return this.op('DequantizeLinear', [gathered, this.constant([scale], []), this.tensor([], new Int8Array([0]), 'zp')]);
  }

  layerNorm(x: string, hidden: number): string {
    const gamma = this.constant(new Array<number>(hidden).fill(1));
    const beta = this.constant(new Array<number>(hidden).fill(0));
    return this.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: 1e-12 });
  }
}

function buildModel(shape: Required<BertShape>, quantized: boolean): Uint8Array {
  const { layers, hidden, heads, ffn, vocab, maxPositions, seed } = shape;
  if (hidden % heads !== 0) throw new Error(`hidden ${hidden} is not divisible by heads ${heads}`);
  const headDim = hidden / heads;
  // Same seed for both files: the quantized graph is the float one rounded to int8.
  const g = new GraphBuilder(prng(seed), quantized);

  const words = g.embedding(vocab, hidden, 1, 'input_ids');
  const seqLen = g.op('Gather', [g.op('Shape', ['input_ids']), g.int64([1], [])], { axis: 0 });
  const positionIds = g.op('Range', [g.int64([0], []), seqLen, g.int64([1], [])]);
  const positions = g.op('Gather', [g.randomTensor([maxPositions, hidden], 0.05), positionIds]);
  const types = g.op('Gather', [g.randomTensor([2, hidden], 0.05), 'token_type_ids']);
  let x = g.layerNorm(g.op('Add', [g.op('Add', [words, positions]), types]), hidden);

  // BERT's extended attention mask: 0 where attended, -10000 on padding, broadcast over heads and query positions.
  const maskFloat = g.op('Cast', ['attention_mask'], { to: onnx.TensorProto.DataType.FLOAT });
  const maskBias = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.constant([1], []), maskFloat]), g.constant([-10000], [])]), g.int64([1, 2])]);
  const splitHeads = g.int64([0, 0, heads, headDim]);
  const mergeHeads = g.int64([0, 0, hidden]);
  const invSqrtHeadDim = g.constant([1 / Math.sqrt(headDim)], []);

  for (let layer = 0; layer < layers; layer++) {
    const qkStd = 0.02; // near-uniform attention (see the file comment)
    const voStd = 3 / Math.sqrt(hidden);
    const heads4 = (t: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [t, splitHeads])], { perm });
    const q = heads4(g.linear(x, hidden, hidden, qkStd), [0, 2, 1, 3]);
    const k = heads4(g.linear(x, hidden, hidden, qkStd), [0, 2, 3, 1]);
    const v = heads4(g.linear(x, hidden, hidden, voStd), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), invSqrtHeadDim]), maskBias]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), mergeHeads]);
    x = g.layerNorm(g.op('Add', [g.linear(merged, hidden, hidden, voStd), x]), hidden);

    const inner = g.linear(x, hidden, ffn, 1 / Math.sqrt(hidden));
    // GELU(h) = 0.5·h·(1 + erf(h/√2)); the Gelu op only exists from opset 20.
    const erf = g.op('Erf', [g.op('Mul', [inner, g.constant([Math.SQRT1_2], [])])]);
    const gelu = g.op('Mul', [g.op('Mul', [inner, g.op('Add', [erf, g.constant([1], [])])]), g.constant([0.5], [])]);
    x = g.layerNorm(g.op('Add', [g.linear(gelu, ffn, hidden, 1 / Math.sqrt(ffn)), x]), hidden);
  }
  g.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [x], output: ['last_hidden_state'], name: 'output' }));

  const dim = (name: string) => onnx.TensorShapeProto.Dimension.create({ dimParam: name });
  const valueInfo = (name: string, elemType: number, dims: InstanceType<typeof onnx.TensorShapeProto.Dimension>[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType, shape: onnx.TensorShapeProto.create({ dim: dims }) }) }),
    });
  const int64 = onnx.TensorProto.DataType.INT64;
  const graph = onnx.GraphProto.create({
    name: 'random_bert',
    node: g.nodes,
    initializer: g.initializers,
    input: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => valueInfo(n, int64, [dim('batch'), dim('sequence')])),
    output: [
      valueInfo('last_hidden_state', onnx.TensorProto.DataType.FLOAT, [
        dim('batch'),
        dim('sequence'),
        onnx.TensorShapeProto.Dimension.create({ dimValue: hidden }),
      ]),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'policykb-random-bert',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
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
  await fs.writeFile(path.join(dir, 'onnx', 'model.onnx'), buildModel(full, false));
  await fs.writeFile(path.join(dir, 'onnx', 'model_quantized.onnx'), buildModel(full, true));
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
    const version = createHash('sha256').update(generator).update(JSON.stringify(TINY_SHAPE)).digest('hex').slice(0, 12);
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
