/** Small documents with tables, made by the tests that read them (issue 11). */
import fs from 'node:fs';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { AlignmentType, BorderStyle, Document, ImageRun, Packer, Paragraph as DocxParagraph, Table, TableCell, TableRow, type ITableCellBorders } from 'docx';

/** The measurements table of a notice, as Word would carry it: caption paragraph, heading row marked to repeat. */
export async function docxWithTable(): Promise<Buffer> {
  const cell = (text: string) => new TableCell({ children: [new DocxParagraph(text)] });
  const row = (cells: string[], tableHeader = false) => new TableRow({ tableHeader, children: cells.map(cell) });
  return notice(['关于统一公文用纸版面尺寸的通知', '各处室：', '现将公文用纸的版面尺寸通知如下，请遵照执行。'], [
    new DocxParagraph('表1 公文用纸版面尺寸'),
    new Table({
      rows: [
        row(['项目', '尺寸', '允许误差'], true),
        row(['版心', '156 mm × 225 mm', '±1 mm']),
        row(['天头（上白边）', '37 mm', '±1 mm']),
        row(['订口（左白边）', '28 mm', '±1 mm']),
      ],
    }),
    new DocxParagraph('特此通知。'),
  ]);
}

/** A notice's title (centred), addressee and opening sentence, then its body. */
function notice([title, addressee, opening]: [string, string, string], body: Array<DocxParagraph | Table>): Promise<Buffer> {
  const doc = new Document({
    sections: [{
      children: [new DocxParagraph({ text: title, alignment: AlignmentType.CENTER }), new DocxParagraph(addressee), new DocxParagraph(opening), ...body],
    }],
  });
  return Packer.toBuffer(doc);
}

/**
 * A notice with two long tables that Writer breaks across pages: a
 * three-line table (三线表: rules above and below the heading row and under
 * the last row, none between columns) whose heading row repeats on each
 * page, and a fully ruled one whose heading row does not repeat.
 */
export async function docxWithLongTables(rowsEach = 40): Promise<Buffer> {
  const rule = { style: BorderStyle.SINGLE, size: 12, color: '000000' };
  const none = { style: BorderStyle.NONE, size: 0, color: 'FFFFFF' };
  const cell = (text: string, borders?: ITableCellBorders) => new TableCell({ children: [new DocxParagraph(text)], ...(borders ? { borders } : {}) });
  const threeLine = new Table({
    borders: { top: rule, bottom: rule, left: none, right: none, insideHorizontal: none, insideVertical: none },
    rows: [
      new TableRow({ tableHeader: true, children: ['序号', '市县', '完成户数'].map((text) => cell(text, { top: rule, bottom: rule, left: none, right: none })) }),
      ...Array.from({ length: rowsEach }, (_, i) => new TableRow({ children: [String(i + 1), `第${i + 1}县`, `${(i + 1) * 37}户`].map((text) => cell(text)) })),
    ],
  });
  const ruled = new Table({
    rows: [
      new TableRow({ children: ['编号', '事项名称', '办理时限'].map((text) => cell(text)) }),
      ...Array.from({ length: rowsEach }, (_, i) => new TableRow({ children: [`SX${String(i + 1).padStart(3, '0')}`, `第${i + 1}项审批事项`, `${(i % 5) + 1}个工作日`].map((text) => cell(text)) })),
    ],
  });
  return notice(['关于农村危房改造完成情况的通报', '各市县：', '现将各地完成情况通报如下。'], [
    new DocxParagraph('表1 各市县完成户数'),
    threeLine,
    new DocxParagraph('表2 审批事项办理时限'),
    ruled,
    new DocxParagraph('特此通报。'),
  ]);
}

/** A Chinese font on this machine for drawing text into pictures (Debian fonts-noto-cjk), or undefined. */
export const CJK_FONT = ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'].find((file) => fs.existsSync(file));

/** A table as a picture, with no rules at all: the cells' text in columns, as a screenshot of a borderless table shows it. */
export function borderlessTablePicture(rows: string[][]): Buffer {
  GlobalFonts.registerFromPath(CJK_FONT!, 'TestCJK');
  const canvas = createCanvas(900, 60 * rows.length + 20);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000000';
  context.font = '26px TestCJK';
  rows.forEach((row, r) => row.forEach((cell, c) => context.fillText(cell, 20 + c * 300, 50 + r * 60)));
  return canvas.toBuffer('image/png');
}

/** A notice whose table is a picture between typed paragraphs (a screenshot pasted into Word). */
export async function docxWithTablePicture(picture: Buffer, size: { width: number; height: number }): Promise<Buffer> {
  const doc = new Document({
    sections: [{
      children: [
        new DocxParagraph({ text: '关于公文标题常见错误的通知', alignment: AlignmentType.CENTER }),
        new DocxParagraph('现将公文标题的常见错误列表如下，请对照改正。'),
        new DocxParagraph('表2 公文标题常见错误'),
        new DocxParagraph({ children: [new ImageRun({ type: 'png', data: picture, transformation: size })] }),
        new DocxParagraph('特此通知。'),
      ],
    }],
  });
  return Packer.toBuffer(doc);
}
