/**
 * Image files (PNG, JPEG, TIFF — scans saved as pictures) read by OCR, one
 * page per image (a multi-page TIFF gives one page per frame). Decoding is
 * sharp's (libvips), already installed for the embedder's image support.
 */
import type { ExtractedDocument, SourcePage } from '../../kb/types.ts';
import { firstLine, IngestError } from '../errors.ts';
import { harmoniseOcrFontSizes, ocrPageLines } from './ocr/lines.ts';
import type { RasterImage } from './ocr/pool.ts';
import type { PdfOptions } from './pdf.ts';

export type ImageFormat = 'png' | 'jpeg' | 'tiff';

/** Pixels per PDF point a scan without a stated resolution is taken to have (150 dpi, the common scanner default). */
const DEFAULT_DPI = 150;
/** A frame larger than this is refused before decoding (a 600 dpi A3 scan is 7,000 × 10,000). */
const MAX_PIXELS = 80_000_000;

async function decodeFrame(bytes: Uint8Array, frame: number): Promise<{ image: RasterImage; dpi: number }> {
  const sharp = (await import('sharp')).default;
  const { data, info } = await sharp(bytes, { page: frame, limitInputPixels: MAX_PIXELS })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const metadata = await sharp(bytes, { page: frame, limitInputPixels: MAX_PIXELS }).metadata();
  return { image: { width: info.width, height: info.height, channels: info.channels as 3, data }, dpi: metadata.density ?? DEFAULT_DPI };
}

const FORMAT_NAMES: Record<ImageFormat, string> = { png: 'PNG', jpeg: 'JPEG', tiff: 'TIFF' };

function damagedImage(file: string, format: ImageFormat, error: unknown): IngestError {
  const cause = firstLine(error);
  return new IngestError(file, `${FORMAT_NAMES[format]} 图片无法解码，文件可能已损坏或不完整（damaged image: ${cause}）`, error);
}

export async function extractImage(bytes: Uint8Array, file: string, format: ImageFormat, options: PdfOptions = {}): Promise<ExtractedDocument> {
  let frames: number;
  try {
    const sharp = (await import('sharp')).default;
    const metadata = await sharp(bytes, { limitInputPixels: MAX_PIXELS }).metadata();
    frames = format === 'tiff' ? Math.max(1, metadata.pages ?? 1) : 1;
    if (!metadata.width || !metadata.height) throw new Error('no dimensions');
  } catch (error) {
    throw damagedImage(file, format, error);
  }
  const pages: SourcePage[] = [];
  const warnings: string[] = [];
  for (let frame = 0; frame < frames; frame++) {
    const number = frame + 1;
    if (!options.ocr) {
      pages.push({ number, lines: [], imageOnly: true });
      continue;
    }
    let decoded;
    try {
      decoded = await decodeFrame(bytes, frame);
    } catch (error) {
      throw damagedImage(file, format, error);
    }
    const pixelsPerPoint = decoded.dpi / 72;
    try {
      const { lines, confidence } = ocrPageLines(await options.ocr.recognise(decoded.image, options.onWork), pixelsPerPoint);
      const page: SourcePage = { number, lines, width: decoded.image.width / pixelsPerPoint, height: decoded.image.height / pixelsPerPoint };
      if (confidence !== undefined) {
        page.ocrConfidence = confidence;
        warnings.push(`第${number}页由 OCR 识别（平均置信度 ${confidence.toFixed(2)}）`);
      }
      pages.push(page);
    } catch (error) {
      warnings.push(`第${number}页 OCR 失败：${firstLine(error)}`);
      pages.push({ number, lines: [], imageOnly: true });
    }
    options.onPage?.({ page: number, pages: frames, ocr: true });
  }
  harmoniseOcrFontSizes(pages);
  for (const page of pages) if (page.imageOnly) warnings.push(`第${page.number}页没有文本层，需要 OCR`);
  return { format: 'image', paged: true, linesAreParagraphs: false, pages, warnings };
}
