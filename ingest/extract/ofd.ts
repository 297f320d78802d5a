/**
 * OFD (GB/T 33190, the national format for electronic official documents): a
 * ZIP whose OFD.xml names the document root (DocBody/DocRoot → Document.xml),
 * whose Document.xml lists the pages (Pages/Page@BaseLoc → Content.xml), and
 * whose pages hold TextObjects positioned in millimetres, each with TextCode
 * runs (X, Y of the baseline inside the object's Boundary; DeltaX the
 * advances). The runs become positioned items in points, and lines are built
 * exactly as the PDF reader builds them (layout.ts), so the cleaning stage's
 * paragraph, page-number and header rules apply unchanged. Page templates
 * (running headers) and annotations (stamps, signatures) are not read.
 */
import path from 'node:path';
import type { ParseLimits } from '../../kb/config.ts';
import type { ExtractedDocument, SourcePage } from '../../kb/types.ts';
import { IngestError } from '../errors.ts';
import { attribute, checkMarkupBounds, childElements, ownText, parseXml, type DomNode } from './dom.ts';
import { buildLines, round, type PlacedItem } from './layout.ts';
import { cleanContainerTitle } from './title.ts';
import { ZipArchive, ZipEntryTooLarge, ZipFormatError } from './zip.ts';

const POINTS_PER_MM = 72 / 25.4;

function localName(node: DomNode): string {
  const name = node.name ?? '';
  return name.slice(name.indexOf(':') + 1);
}

function* descendants(node: DomNode, name: string): Generator<DomNode> {
  for (const child of childElements(node)) {
    if (localName(child) === name) yield child;
    yield* descendants(child, name);
  }
}

function first(node: DomNode, name: string): DomNode | undefined {
  return descendants(node, name).next().value ?? undefined;
}

function textOf(node: DomNode | undefined): string {
  return node ? ownText(node).trim() : '';
}

function numbers(value: string | undefined): number[] {
  return (value ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** DeltaX/DeltaY lists may compress repeats: "g 5 5.6" is five advances of 5.6. */
function advances(value: string | undefined): number[] {
  const tokens = (value ?? '').trim().split(/\s+/).filter(Boolean);
  const out: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === 'g') {
      const count = Number(tokens[i + 1]);
      const step = Number(tokens[i + 2]);
      for (let k = 0; k < count; k++) out.push(step);
      i += 2;
    } else out.push(Number(tokens[i]));
  }
  return out;
}

/** A path inside the package, relative to the file that names it (or absolute from the root). */
function resolveEntry(from: string, location: string): string {
  const clean = location.replace(/\\/g, '/');
  return clean.startsWith('/') ? clean.slice(1) : path.posix.normalize(path.posix.join(path.posix.dirname(from), clean));
}

function pageItems(content: DomNode): PlacedItem[] {
  const items: PlacedItem[] = [];
  for (const object of descendants(content, 'TextObject')) {
    const [bx = 0, by = 0] = numbers(attribute(object, 'Boundary'));
    const size = Number(attribute(object, 'Size') ?? 0);
    let x = 0;
    let y = 0;
    for (const code of childElements(object).filter((child) => localName(child) === 'TextCode')) {
      const text = ownText(code);
      if (attribute(code, 'X') !== undefined) x = Number(attribute(code, 'X'));
      if (attribute(code, 'Y') !== undefined) y = Number(attribute(code, 'Y'));
      const steps = advances(attribute(code, 'DeltaX'));
      const width = steps.slice(0, Math.max(0, [...text].length - 1)).reduce((sum, step) => sum + step, 0) + size;
      items.push({
        text,
        x: (bx + x) * POINTS_PER_MM,
        right: (bx + x + width) * POINTS_PER_MM,
        y: (by + y) * POINTS_PER_MM,
        fontSize: size * POINTS_PER_MM,
      });
      x += width;
    }
  }
  return items;
}

function damaged(file: string, cause: unknown): IngestError {
  return new IngestError(file, `OFD 文件已损坏或不完整（damaged or truncated OFD: ${(cause as Error).message.split('\n')[0]}）`, cause);
}

export function extractOfd(bytes: Uint8Array, file: string, limits: Pick<ParseLimits, 'maxInflatedMb' | 'maxDepth' | 'maxNodes'>): ExtractedDocument {
  const xml = (archive: ZipArchive, entry: string): DomNode => {
    const text = archive.readText(entry);
    if (text === undefined) throw new IngestError(file, `OFD 文件缺少 ${entry}（damaged OFD）`);
    checkMarkupBounds(text, limits, file, false);
    return parseXml(text);
  };
  try {
    const archive = new ZipArchive(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), limits.maxInflatedMb * 1024 * 1024);
    const ofd = xml(archive, 'OFD.xml');
    const body = first(ofd, 'DocBody');
    const rootLocation = body && first(body, 'DocRoot');
    if (!rootLocation) throw new IngestError(file, 'OFD.xml 没有 DocRoot（damaged OFD）');
    const documentEntry = resolveEntry('OFD.xml', textOf(rootLocation));
    const document = xml(archive, documentEntry);
    if (archive.read(resolveEntry(documentEntry, 'Encrypt.xml')) !== undefined || archive.read('Encrypt.xml') !== undefined) {
      throw new IngestError(file, 'OFD 文件已加密，需要密钥才能打开（encrypted OFD）');
    }
    const pageArea = numbers(textOf(first(document, 'PhysicalBox')));
    const pages: SourcePage[] = [];
    let number = 0;
    for (const page of descendants(document, 'Page')) {
      const location = attribute(page, 'BaseLoc');
      if (!location) continue;
      number++;
      const content = xml(archive, resolveEntry(documentEntry, location));
      const result: SourcePage = { number, lines: buildLines(pageItems(content)) };
      const box = numbers(textOf(first(content, 'PhysicalBox')));
      const [, , width, height] = box.length === 4 ? box : pageArea;
      if (width) result.width = round(width * POINTS_PER_MM);
      if (height) result.height = round(height * POINTS_PER_MM);
      pages.push(result);
    }
    if (pages.length === 0) throw new IngestError(file, 'OFD 文件没有页面（no pages in OFD）');
    const warnings: string[] = [];
    for (const page of pages) if (page.lines.length === 0) warnings.push(`第${page.number}页没有文字对象（可能是图片，需要 OCR）`);
    const result: ExtractedDocument = { format: 'ofd', paged: true, linesAreParagraphs: false, pages, warnings };
    const title = cleanContainerTitle(textOf(first(ofd, 'Title')));
    if (title) result.titleHint = title;
    return result;
  } catch (error) {
    if (error instanceof IngestError) throw error;
    if (error instanceof ZipEntryTooLarge) {
      throw new IngestError(file, `${error.entry} 解压后超过 ${limits.maxInflatedMb} MiB 上限（KB_PARSE_MAX_INFLATED_MB; zip bomb?）`, error);
    }
    if (error instanceof ZipFormatError || error instanceof RangeError) throw damaged(file, error);
    throw error;
  }
}
