/**
 * PDF reader: pdf.js (legacy build, the one that runs in Node) turned into
 * visual lines with their layout, page by page.
 *
 * pdf.js hands out text *items* (runs of glyphs in one font), not lines. A
 * government PDF typesets one visual line as several items (a run per font
 * switch, a run per "〔2019〕" fragment, a separate " " item), so lines are
 * rebuilt the way pdf.js's own text layer positions them: each item's
 * transform, taken through the page viewport, gives its baseline, left edge and
 * font size; items sharing a baseline form one line, ordered by x.
 *
 * Nothing is removed here. Page numbers ("—1—"), running headers and the red
 * 版头 stay as lines: the cleaning stage detects them by their repetition
 * across pages, which it cannot do once they are gone.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ParseLimits } from '../../kb/config.ts';
import { stripWhitespace } from '../../kb/text/text.ts';
import type { ExtractedDocument, SourceLine, SourcePage } from '../../kb/types.ts';
import { isPageNumberLine } from '../clean.ts';
import { firstLine, IngestError } from '../errors.ts';
import { buildLines, dropSpacesBetweenWide, inkCentre, isBlank, round, type PlacedItem } from './layout.ts';
import { harmoniseOcrFontSizes, ocrPageLines } from './ocr/lines.ts';
import { mergeTableLines, placeTables, rasterSegments, rulingSegments, TableSequence, type TablePage } from './ruled-tables.ts';
import type { OcrEngine, RasterImage } from './ocr/pool.ts';
import { cleanContainerTitle } from './title.ts';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type PdfDocument = Awaited<ReturnType<PdfJs['getDocument']>['promise']>;
type PdfPage = Awaited<ReturnType<PdfDocument['getPage']>>;

let pdfjsModule: Promise<PdfJs> | undefined;
/** Loaded on first use: pdf.js is large and most ingests of TXT/HTML never need it. */
export function loadPdfJs(): Promise<PdfJs> {
  pdfjsModule ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjsModule;
}

/**
 * pdf.js's data folders inside node_modules, as file paths with the trailing
 * slash pdf.js insists on. Without the CMaps, PDFs whose Chinese font is not
 * embedded (UniGB-UCS2-H, common in older government files) yield no text.
 */
function pdfjsDataDirs(): { cMapUrl: string; standardFontDataUrl: string; wasmUrl: string; iccUrl: string } {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve('pdfjs-dist/package.json'));
  // pdf.js checks for a trailing '/' (not path.sep) and concatenates file names onto it.
  const dir = (name: string) => `${path.join(root, name)}/`;
  return { cMapUrl: dir('cmaps'), standardFontDataUrl: dir('standard_fonts'), wasmUrl: dir('wasm'), iccUrl: dir('iccs') };
}

/** Operators that paint a raster image: a page that has them and no text is a scan. */
function imageOperators(pdfjs: PdfJs): Set<number> {
  const ops = pdfjs.OPS;
  return new Set([
    ops.paintImageXObject,
    ops.paintInlineImageXObject,
    ops.paintInlineImageXObjectGroup,
    ops.paintImageXObjectRepeat,
    ops.paintImageMaskXObject,
    ops.paintImageMaskXObjectGroup,
    ops.paintImageMaskXObjectRepeat,
  ]);
}

/** Pages with less text than this are checked for a page-filling image (a scan with only a page number typed on it). */
const SPARSE_TEXT_CHARS = 40;
/** Share of the page an image must cover for a sparse page to count as a picture of text. */
const IMAGE_COVERAGE = 0.3;

/** Where a raster image is painted on the page, in viewport points (y grows downwards). */
export interface ImageRegion {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * The raster images a page paints, from its operator list: an image fills
 * the unit square under the current transformation matrix, so its corners
 * through that matrix and the viewport give its place on the page.
 */
function imageRegions(pdfjs: PdfJs, fnArray: number[], argsArray: unknown[], viewportTransform: number[], imageOps: Set<number>): ImageRegion[] {
  const ops = pdfjs.OPS;
  let ctm = [1, 0, 0, 1, 0, 0];
  const stack: number[][] = [];
  const regions: ImageRegion[] = [];
  for (let i = 0; i < fnArray.length; i++) {
    const fn = fnArray[i]!;
    if (fn === ops.save) stack.push(ctm);
    else if (fn === ops.restore) ctm = stack.pop() ?? ctm;
    else if (fn === ops.transform) {
      const m = argsArray[i] as number[];
      ctm = pdfjs.Util.transform(ctm, m) as number[];
    } else if (imageOps.has(fn)) {
      const toPage = pdfjs.Util.transform(viewportTransform, ctm) as number[];
      const [a, b, c, d, e, f] = toPage as [number, number, number, number, number, number];
      const corners = [[0, 0], [1, 0], [0, 1], [1, 1]] as const;
      const xs = corners.map(([x, y]) => a * x + c * y + e);
      const ys = corners.map(([x, y]) => b * x + d * y + f);
      regions.push({ left: Math.min(...xs), top: Math.min(...ys), right: Math.max(...xs), bottom: Math.max(...ys) });
    }
  }
  return regions;
}

/** Share of the page area painted by raster images. */
function imageCoverage(regions: ImageRegion[], pageArea: number): number {
  const painted = regions.reduce((sum, r) => sum + (r.right - r.left) * (r.bottom - r.top), 0);
  return pageArea > 0 ? Math.min(1, painted / pageArea) : 0;
}

/**
 * An image on a page with a text layer is read by OCR when it is large enough
 * to hold lines of text: at least this share of the page's width (a red seal
 * is about a fifth of an A4 page wide, a logo or an ornament less)…
 */
const TEXT_IMAGE_MIN_WIDTH_SHARE = 0.35;
/** …and this many points tall (two lines of small type). */
const TEXT_IMAGE_MIN_HEIGHT = 24;
/** An image the text layer already covers with this many characters is a scan under its own OCR'd text layer. */
const TEXT_IMAGE_COVERED_CHARS = 10;
/** At most this many images of one page are read: each is one OCR pass. */
const TEXT_IMAGES_PER_PAGE = 8;

/**
 * The images of a page with a text layer that may be pictures of text (the
 * 对照表's page-3 table, pasted into WPS as a picture): large, inside the
 * page, and with no text of the layer over them.
 */
function textImages(regions: ImageRegion[], lines: SourceLine[], width: number, height: number): ImageRegion[] {
  const clipped = regions
    .map((r) => ({ left: Math.max(0, r.left), top: Math.max(0, r.top), right: Math.min(width, r.right), bottom: Math.min(height, r.bottom) }))
    .filter((r) => r.right - r.left >= width * TEXT_IMAGE_MIN_WIDTH_SHARE && r.bottom - r.top >= TEXT_IMAGE_MIN_HEIGHT);
  const covered = (r: ImageRegion) => lines.reduce((sum, line) => {
    const cx = ((line.x ?? 0) + (line.right ?? line.x ?? 0)) / 2;
    const cy = inkCentre(line.y ?? 0, line.fontSize ?? 0);
    return cx >= r.left && cx <= r.right && cy >= r.top && cy <= r.bottom ? sum + stripWhitespace(line.text).length : sum;
  }, 0);
  return clipped.filter((r) => covered(r) < TEXT_IMAGE_COVERED_CHARS).sort((a, b) => a.top - b.top).slice(0, TEXT_IMAGES_PER_PAGE);
}

interface ReadPage {
  page: SourcePage;
  /** Little text over a page-filling image: the text layer is incomplete. */
  mostlyImage: boolean;
  /** Images beside the text layer that may hold text of their own. */
  textImages: ImageRegion[];
}

async function readPage(pdfjs: PdfJs, page: PdfPage, imageOps: Set<number>, tableSequence: TableSequence): Promise<ReadPage> {
  const viewport = page.getViewport({ scale: 1 });
  const content = await page.getTextContent();
  const horizontal: PlacedItem[] = [];
  const other: SourceLine[] = [];
  for (const item of content.items) {
    if (!('str' in item)) continue;
    const tx = pdfjs.Util.transform(viewport.transform, item.transform);
    const fontSize = Math.hypot(tx[2], tx[3]);
    const x = tx[4];
    const y = tx[5];
    const angle = Math.atan2(tx[1], tx[0]);
    if (Math.abs(angle) < 0.01) {
      horizontal.push({ text: item.str, x, right: x + item.width * viewport.scale, y, fontSize });
    } else if (!isBlank(item.str)) {
      // Vertical or rotated text (a stamp, a margin note, a watermark) stays one line per run.
      other.push({ text: dropSpacesBetweenWide(item.str.trim()), x: round(x), y: round(y), fontSize: round(fontSize) });
    }
  }
  const [left = 0, bottom = 0, right = 0, top = 0] = page.view;
  const pageArea = Math.abs((right - left) * (top - bottom));
  // Every page pays for its operator list: the ruling lines of its tables are only there. Measured on the
  // five PDFs of ../shared/corpus/pdf (59 pages, no OCR): 7.2 → 8.7 s CPU for the whole extraction, tsx start included.
  const operatorList = await page.getOperatorList();
  const tables = placeTables(horizontal, rulingSegments(pdfjs.OPS, operatorList, viewport.transform, pageArea), tableSequence, { number: page.pageNumber, width: viewport.width, height: viewport.height });
  const lines = [...mergeTableLines(buildLines(tables.rest), tables.lines), ...other];
  const result: SourcePage = {
    number: page.pageNumber,
    lines,
    width: round(viewport.width),
    height: round(viewport.height),
  };
  let mostlyImage = false;
  const textChars = lines.reduce((sum, line) => sum + stripWhitespace(line.text).length, 0);
  const regions = imageRegions(pdfjs, operatorList.fnArray, operatorList.argsArray, viewport.transform, imageOps);
  if (textChars < SPARSE_TEXT_CHARS) {
    if (lines.length === 0 && regions.length > 0) result.imageOnly = true;
    else if (lines.length > 0 && imageCoverage(regions, pageArea) >= IMAGE_COVERAGE) mostlyImage = true;
  }
  const images = result.imageOnly || mostlyImage ? [] : textImages(regions, lines, viewport.width, viewport.height);
  return { page: result, mostlyImage, textImages: images };
}

/**
 * Share of private-use, replacement and control characters above which a
 * page's text is glyph codes, not characters: subset Chinese fonts embedded
 * without a ToUnicode map come out that way and read as gibberish.
 */
const UNDECODABLE_SHARE = 0.3;

function isUndecodable(page: SourcePage): boolean {
  const text = stripWhitespace(page.lines.map((line) => line.text).join(''));
  if (text.length < 10) return false;
  const bad = text.match(/[\ue000-\uf8ff\ufffd\u0000-\u001f]/gu)?.length ?? 0;
  return bad / text.length > UNDECODABLE_SHARE;
}

/**
 * The Info Title of a government PDF is often left over from the Word file it
 * was made from (GB/T 9704's says "甘审办发〔2011〕号"). A title whose Chinese
 * characters mostly do not occur on the first pages is such a leftover. A
 * scan has no text to check against, so its title is kept.
 */
function plausibleTitle(title: string | undefined, pages: SourcePage[]): string | undefined {
  if (!title) return undefined;
  const opening = pages.slice(0, 3).flatMap((page) => page.lines.map((line) => line.text)).join('');
  const han = title.match(/\p{Script=Han}/gu) ?? [];
  if (!opening || han.length === 0) return title;
  const present = han.filter((ch) => opening.includes(ch)).length;
  return present / han.length >= 0.6 ? title : undefined;
}

/** A complete PDF ends with %%EOF (possibly followed by a little whitespace or junk). */
function hasEndOfFileMarker(data: Uint8Array): boolean {
  const tail = Buffer.from(data.subarray(Math.max(0, data.length - 2048))).toString('latin1');
  return tail.includes('%%EOF');
}

function describeOpenFailure(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException') return 'PDF 已加密，需要密码才能打开（encrypted PDF）';
  if (name === 'InvalidPDFException' || /invalid pdf|xref|startxref|trailer|No PDF header|bad xref/i.test(message)) {
    return 'PDF 文件已损坏或不完整（truncated or damaged PDF）';
  }
  return `PDF 无法解析（unreadable PDF: ${message.split('\n')[0]}）`;
}

/**
 * Scans are rendered at 200 dpi for OCR: the recogniser reads each line at 48
 * px high, and 200 dpi puts 16 pt body text at 44 px; a 300 dpi scan gains
 * nothing above that, and a 150 dpi one is only resampled.
 */
const OCR_PIXELS_PER_POINT = 200 / 72;

interface CanvasAndContext {
  canvas: { width: number; height: number };
  context: { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray; width: number; height: number } };
}
interface CanvasFactory {
  create(width: number, height: number): CanvasAndContext;
  destroy(canvasAndContext: CanvasAndContext): void;
}

/** The page (or one region of it) as pixels, through pdf.js's own renderer on the canvas it brings (@napi-rs/canvas). */
async function renderPage(doc: PdfDocument, page: PdfPage, region?: ImageRegion, pixelsPerPoint = OCR_PIXELS_PER_POINT): Promise<RasterImage> {
  // The viewport shifted so the region's top-left corner is the canvas's origin: only the region is drawn.
  const viewport = page.getViewport({ scale: pixelsPerPoint, offsetX: -(region?.left ?? 0) * pixelsPerPoint, offsetY: -(region?.top ?? 0) * pixelsPerPoint });
  const width = region ? (region.right - region.left) * pixelsPerPoint : viewport.width;
  const height = region ? (region.bottom - region.top) * pixelsPerPoint : viewport.height;
  const factory = doc.canvasFactory as CanvasFactory;
  const target = factory.create(Math.ceil(width), Math.ceil(height));
  try {
    type RenderParameters = Parameters<PdfPage['render']>[0];
    await page.render({ canvas: target.canvas as RenderParameters['canvas'], viewport }).promise;
    const pixels = target.context.getImageData(0, 0, target.canvas.width, target.canvas.height);
    return { width: pixels.width, height: pixels.height, channels: 4, data: pixels.data };
  } finally {
    factory.destroy(target);
  }
}

/**
 * Share of an image that its text boxes must cover for its text to be read
 * as text. A diagram's labels fall far below it and, read apart from the
 * drawing, mislead: GB/T 9704's 图1 (page margins) gave four labels on 0.5%
 * of it, "7. mm" among them, which the structure stage took for a heading
 * numbered 7. The 对照表's page-3 table covers 33%; a picture of a page of prose, more.
 * A table the image draws is read whatever its share.
 */
const PICTURE_TEXT_SHARE = 0.05;

/**
 * The text of an image on a page that has a text layer, as lines placed
 * where the image is: the region is rendered and read alone, its boxes and
 * ruling lines moved to page coordinates, so its table (if it draws one) is
 * read like a scan's and its lines fall into the page's reading order.
 */
async function ocrImageRegion(doc: PdfDocument, page: PdfPage, region: ImageRegion, engine: OcrEngine, tableSequence: TableSequence, tablePage: TablePage, onWork?: () => void): Promise<SourceLine[]> {
  const scale = OCR_PIXELS_PER_POINT;
  const image = await renderPage(doc, page, region, scale);
  const segments = rasterSegments(image, scale).map((s) => (s.axis === 'h'
    ? { ...s, at: s.at + region.top, from: s.from + region.left, to: s.to + region.left }
    : { ...s, at: s.at + region.left, from: s.from + region.top, to: s.to + region.top }));
  const dx = region.left * scale;
  const dy = region.top * scale;
  const boxes = (await engine.recognise(image, onWork)).map((box) => ({ ...box, left: box.left + dx, right: box.right + dx, top: box.top + dy, bottom: box.bottom + dy }));
  const { lines } = ocrPageLines(boxes, scale, { segments, sequence: tableSequence, page: tablePage, borderless: true });
  const inked = boxes.reduce((sum, box) => sum + (box.right - box.left) * (box.bottom - box.top), 0) / (image.width * image.height);
  return lines.some((line) => line.table) || inked >= PICTURE_TEXT_SHARE ? lines : [];
}

/**
 * A page whose text layer is missing or unusable, read by OCR instead. A
 * page that is "mostly image" keeps its text layer unless OCR finds clearly
 * more (its typed page number beside a scanned body).
 */
async function ocrPage(doc: PdfDocument, page: PdfPage, read: SourcePage, engine: OcrEngine, replaceAlways: boolean, tableSequence: TableSequence, onWork?: () => void): Promise<SourcePage | undefined> {
  const image = await renderPage(doc, page);
  const segments = rasterSegments(image, OCR_PIXELS_PER_POINT);
  const tablePage = { number: read.number, width: image.width / OCR_PIXELS_PER_POINT, height: image.height / OCR_PIXELS_PER_POINT };
  const { lines, confidence } = ocrPageLines(await engine.recognise(image, onWork), OCR_PIXELS_PER_POINT, { segments, sequence: tableSequence, page: tablePage });
  const chars = (source: SourceLine[]) => source.reduce((sum, line) => sum + stripWhitespace(line.text).length, 0);
  if (!replaceAlways && chars(lines) < chars(read.lines) * 2) return undefined;
  const result: SourcePage = { number: read.number, lines };
  if (read.width !== undefined) result.width = read.width;
  if (read.height !== undefined) result.height = read.height;
  if (confidence !== undefined) result.ocrConfidence = confidence;
  return result;
}

/** Pages of a PDF as the pixels OCR sees (for the OCR evaluation and tests). */
export async function renderPdfPages(data: Uint8Array, pageNumbers: number[]): Promise<RasterImage[]> {
  const pdfjs = await loadPdfJs();
  const doc = await pdfjs.getDocument({ data: new Uint8Array(data), ...pdfjsDataDirs(), cMapPacked: true, isEvalSupported: false, disableFontFace: true, verbosity: pdfjs.VerbosityLevel.ERRORS }).promise;
  try {
    const images: RasterImage[] = [];
    for (const number of pageNumbers) {
      const page = await doc.getPage(number);
      images.push(await renderPage(doc, page));
      page.cleanup();
    }
    return images;
  } finally {
    await doc.destroy();
  }
}

export interface PdfOptions {
  /** Reads pages without a usable text layer; without it they are reported as needing OCR. */
  ocr?: OcrEngine;
  /** Called after each page, with how many pages were OCR'd so far (progress counts pages). */
  onPage?: (progress: { page: number; pages: number; ocr: boolean }) => void;
  /** Called while OCR works inside a page (a batch of its lines read): the parse is alive, though no page is done. */
  onWork?: () => void;
}

const OBJ_KEYWORD = Buffer.from('obj', 'latin1');
const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;
const isPdfSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0x0c || byte === 0x00;

/**
 * Bytes pdf.js would re-parse if it had to rebuild the cross-reference table:
 * when an object number and generation are defined again (`6 0 obj` … `6 0 obj`),
 * its reconstruction parses the new definition from there to the end of the
 * file. Counting stops once past `stopAbove`. A fuzzed 419 KB file with 1,796
 * definitions of one object meant 380 MB of re-parsing: minutes, on the parse
 * thread, with nothing but the time limit to stop it.
 */
export function pdfRescanBytes(data: Uint8Array, stopAbove = Infinity): number {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const seen = new Set<number>();
  let total = 0;
  for (let at = bytes.indexOf(OBJ_KEYWORD); at >= 0 && total <= stopAbove; at = bytes.indexOf(OBJ_KEYWORD, at + 3)) {
    // `<num> <gen> obj`, read backwards from the keyword.
    let i = at - 1;
    if (!isPdfSpace(bytes[i])) continue;
    while (isPdfSpace(bytes[i])) i--;
    let gen = 0;
    for (let scale = 1; isDigit(bytes[i]); i--, scale *= 10) gen += (bytes[i]! - 0x30) * scale;
    if (!isPdfSpace(bytes[i])) continue;
    while (isPdfSpace(bytes[i])) i--;
    if (!isDigit(bytes[i])) continue;
    let num = 0;
    for (let scale = 1; isDigit(bytes[i]); i--, scale *= 10) num += (bytes[i]! - 0x30) * scale;
    const key = num * 65536 + (gen % 65536);
    if (seen.has(key)) total += bytes.length - at;
    else seen.add(key);
  }
  return total;
}

export async function extractPdf(
  data: Uint8Array,
  file: string,
  options: PdfOptions & { limits: Pick<ParseLimits, 'maxPages' | 'maxPdfRescanMb'> },
): Promise<ExtractedDocument> {
  const { limits } = options;
  // Refused before pdf.js sees it: its reconstruction of a damaged file runs synchronously, and only the time limit would end it.
  const rescanLimit = limits.maxPdfRescanMb * 1024 * 1024;
  if (pdfRescanBytes(data, rescanLimit) > rescanLimit) {
    throw new IngestError(
      file,
      `PDF 重复定义同一对象，修复交叉引用表需重读超过 ${limits.maxPdfRescanMb} MB（KB_PARSE_MAX_PDF_RESCAN_MB; repeated object definitions）`,
    );
  }
  const pdfjs = await loadPdfJs();
  const complete = hasEndOfFileMarker(data);
  const task = pdfjs.getDocument({
    // pdf.js may transfer (detach) the buffer it is given; hand it a copy.
    data: new Uint8Array(data),
    ...pdfjsDataDirs(),
    cMapPacked: true,
    isEvalSupported: false,
    useSystemFonts: false,
    disableFontFace: true,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
  });
  let doc: PdfDocument;
  try {
    doc = await task.promise;
  } catch (error) {
    await task.destroy().catch(() => undefined);
    throw new IngestError(file, describeOpenFailure(error), error);
  }
  try {
    // The page tree's /Count is what numPages reports; a tree that lists one kid twice per level claims 2^31 pages.
    if (doc.numPages > limits.maxPages) {
      throw new IngestError(file, `PDF 声明有 ${doc.numPages} 页，超过 ${limits.maxPages} 页上限（KB_PARSE_MAX_PAGES; too many pages）`);
    }
    const imageOps = imageOperators(pdfjs);
    const pages: SourcePage[] = [];
    const warnings: string[] = [];
    const unreadable: number[] = [];
    const mostlyImagePages: number[] = [];
    const imageTextPages: number[] = [];
    const unreadImagePages: number[] = [];
    const tables = new TableSequence();
    // Sequential on purpose: one page's fonts, images and operator list in memory at a time.
    for (let number = 1; number <= doc.numPages; number++) {
      let page: PdfPage | undefined;
      try {
        page = await doc.getPage(number);
        const read = await readPage(pdfjs, page, imageOps, tables);
        const unusable = read.page.imageOnly || isUndecodable(read.page);
        let ocred: SourcePage | undefined;
        if (options.ocr && (unusable || read.mostlyImage)) {
          try {
            ocred = await ocrPage(doc, page, read.page, options.ocr, Boolean(unusable), tables, options.onWork);
          } catch (error) {
            // The page stays as read (and flagged as needing OCR); the rest of the file is still indexed.
            warnings.push(`第${number}页 OCR 失败：${firstLine(error)}`);
          }
        }
        if (read.textImages.length > 0 && options.ocr && !unusable) {
          const tablePage = { number, width: read.page.width ?? 0, height: read.page.height ?? 0, linesAround: read.page.lines };
          const before = tables.leftOpen(number);
          const imageLines: SourceLine[] = [];
          for (const region of read.textImages) {
            try {
              imageLines.push(...await ocrImageRegion(doc, page, region, options.ocr, tables, tablePage, options.onWork));
            } catch (error) {
              warnings.push(`第${number}页图片 OCR 失败：${firstLine(error)}`);
            }
          }
          // What the page leaves open for the next is the image's table only when no text follows the image.
          const lowest = read.textImages[read.textImages.length - 1]!;
          if (read.page.lines.some((line) => (line.y ?? 0) > lowest.bottom && !isPageNumberLine(line.text, true))) tables.leave(number, before);
          if (imageLines.length > 0) {
            read.page.lines = mergeTableLines(read.page.lines, imageLines);
            imageTextPages.push(number);
          }
        } else if (read.textImages.length > 0) {
          unreadImagePages.push(number);
          read.page.unreadPictures = true;
        }
        pages.push(ocred ?? read.page);
        if (read.mostlyImage && !ocred) mostlyImagePages.push(number);
        if (read.mostlyImage && !options.ocr) read.page.unreadPictures = true;
        options.onPage?.({ page: number, pages: doc.numPages, ocr: ocred !== undefined });
      } catch (error) {
        if (error instanceof Error && error.name === 'PasswordException') throw error;
        unreadable.push(number);
        pages.push({ number, lines: [] });
      } finally {
        page?.cleanup();
      }
    }
    harmoniseOcrFontSizes(pages);
    if (unreadable.length > 0 && (!complete || unreadable.length === doc.numPages)) {
      throw new IngestError(file, 'PDF 文件已损坏或不完整（truncated or damaged PDF）');
    }
    if (!complete) warnings.push('PDF 文件末尾缺少 %%EOF 标记，文件可能不完整');
    for (const number of unreadable) warnings.push(`第${number}页无法读取，已跳过`);
    if (imageTextPages.length > 0) warnings.push(`第${imageTextPages.join('、')}页的图片由 OCR 识别`);
    if (unreadImagePages.length > 0) warnings.push(`第${unreadImagePages.join('、')}页有图片未经 OCR，其中的文字未读入（OCR 已关闭）`);
    for (const page of pages) {
      if (page.ocrConfidence !== undefined) warnings.push(`第${page.number}页由 OCR 识别（平均置信度 ${page.ocrConfidence.toFixed(2)}）`);
      else if (page.imageOnly) warnings.push(`第${page.number}页没有文本层，需要 OCR`);
      else if (mostlyImagePages.includes(page.number)) warnings.push(`第${page.number}页主要是图片，文字层不完整，可能需要 OCR`);
      else if (isUndecodable(page)) warnings.push(`第${page.number}页的文字无法解码（字体缺少 Unicode 映射），可能需要 OCR`);
    }
    let titleHint: string | undefined;
    try {
      const meta = await doc.getMetadata();
      titleHint = plausibleTitle(cleanContainerTitle((meta.info as Record<string, unknown> | undefined)?.Title), pages);
    } catch {
      // A broken Info dictionary costs only the title hint.
    }
    const result: ExtractedDocument = { format: 'pdf', paged: true, linesAreParagraphs: false, pages, warnings };
    if (titleHint) result.titleHint = titleHint;
    return result;
  } catch (error) {
    if (error instanceof IngestError) throw error;
    throw new IngestError(file, describeOpenFailure(error), error);
  } finally {
    await doc.destroy();
  }
}
