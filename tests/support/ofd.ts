/**
 * A small OFD writer for tests, following GB/T 33190's package structure:
 * OFD.xml (DocBody → DocInfo, DocRoot) → Doc_0/Document.xml (CommonData with
 * the A4 PhysicalBox, Pages/Page@BaseLoc) → Doc_0/Pages/Page_N/Content.xml
 * (Layer → TextObject@Boundary/Size → TextCode@X/Y/DeltaX), units in mm.
 *
 * It typesets paragraphs as an official letter is set (GB/T 9704: 156 mm
 * text width, 16 pt body, 22 lines a page, 2-em first-line indent, title
 * centred at 22 pt, signature and date right-aligned, "— N —" page numbers),
 * so the reader sees what a real OFD export of the letter holds.
 */
import { zipArchive } from '../../bench/hostile-files.ts';

export type OfdAlign = 'indent' | 'left' | 'centre' | 'right';
export interface OfdParagraph {
  text: string;
  align: OfdAlign;
  /** Font size in mm; default 5.6 (16 pt). */
  size?: number;
}

const NS = 'xmlns:ofd="http://www.ofdspec.org/2016"';
const LEFT = 28;
const WIDTH = 156;
const TOP = 37;
const LINE_PITCH = 10;
const LINES_PER_PAGE = 22;

function advance(ch: string, size: number): number {
  return /[\u0000-\u00ff]/.test(ch) ? size / 2 : size;
}

/** Lines of one paragraph: [x offset of the first line, text] pairs. */
function wrap(paragraph: OfdParagraph, size: number): Array<{ x: number; text: string }> {
  const lines: Array<{ x: number; text: string }> = [];
  const chars = [...paragraph.text];
  let current = '';
  let width = 0;
  let x = paragraph.align === 'indent' ? size * 2 : 0;
  for (const ch of chars) {
    const w = advance(ch, size);
    if (x + width + w > WIDTH + 0.01) {
      lines.push({ x, text: current });
      current = '';
      width = 0;
      x = 0;
    }
    current += ch;
    width += w;
  }
  if (current) {
    if (paragraph.align === 'centre') x = (WIDTH - width) / 2;
    else if (paragraph.align === 'right') x = WIDTH - width - size * 4;
    lines.push({ x, text: current });
  }
  return lines;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function textObject(id: number, x: number, top: number, text: string, size: number): string {
  const steps = [...text].map((ch) => advance(ch, size));
  const width = steps.reduce((a, b) => a + b, 0);
  return `<ofd:TextObject ID="${id}" Boundary="${(LEFT + x).toFixed(2)} ${top.toFixed(2)} ${width.toFixed(2)} ${(size * 1.2).toFixed(2)}" Font="1" Size="${size}">` +
    `<ofd:TextCode X="0" Y="${size.toFixed(2)}" DeltaX="${steps.slice(0, -1).map((s) => s.toFixed(2)).join(' ')}">${escapeXml(text)}</ofd:TextCode></ofd:TextObject>`;
}

export function buildOfd(paragraphs: OfdParagraph[], options: { title?: string; linesPerPage?: number } = {}): Buffer {
  const { title, linesPerPage = LINES_PER_PAGE } = options;
  const pages: string[][] = [[]];
  let line = 0;
  let id = 10;
  for (const paragraph of paragraphs) {
    const size = paragraph.size ?? 5.6;
    for (const piece of wrap(paragraph, size)) {
      if (line === linesPerPage) {
        pages.push([]);
        line = 0;
      }
      pages[pages.length - 1]!.push(textObject(id++, piece.x, TOP + line * LINE_PITCH, piece.text, size));
      line++;
    }
  }
  const parts = pages.map((objects, i) => {
    const number = `— ${i + 1} —`;
    const folio = textObject(id++, (WIDTH - 5.6 * 3) / 2, 270, number, 5.6);
    return {
      name: `Doc_0/Pages/Page_${i}/Content.xml`,
      data: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><ofd:Page ${NS}><ofd:Content><ofd:Layer ID="${id++}">${objects.join('')}${folio}</ofd:Layer></ofd:Content></ofd:Page>`),
    };
  });
  const document = `<?xml version="1.0" encoding="UTF-8"?><ofd:Document ${NS}><ofd:CommonData><ofd:MaxUnitID>${id}</ofd:MaxUnitID>` +
    '<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>' +
    `<ofd:Pages>${pages.map((_, i) => `<ofd:Page ID="${i + 1}" BaseLoc="Pages/Page_${i}/Content.xml"/>`).join('')}</ofd:Pages></ofd:Document>`;
  const publicRes = `<?xml version="1.0" encoding="UTF-8"?><ofd:Res ${NS} BaseLoc="Res"><ofd:Fonts><ofd:Font ID="1" FontName="仿宋_GB2312" FamilyName="仿宋"/></ofd:Fonts></ofd:Res>`;
  const ofd = `<?xml version="1.0" encoding="UTF-8"?><ofd:OFD ${NS} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>0c4c2b2e8f6b4e0f9a0d1b2c3d4e5f60</ofd:DocID>` +
    `${title ? `<ofd:Title>${escapeXml(title)}</ofd:Title>` : ''}</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`;
  return zipArchive([
    { name: 'OFD.xml', data: Buffer.from(ofd) },
    { name: 'Doc_0/Document.xml', data: Buffer.from(document) },
    { name: 'Doc_0/PublicRes.xml', data: Buffer.from(publicRes) },
    ...parts,
  ]);
}
