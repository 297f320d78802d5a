/** Small documents with tables, made by the tests that read them (issue 11). */
import { AlignmentType, Document, Packer, Paragraph as DocxParagraph, Table, TableCell, TableRow } from 'docx';

/** The measurements table of a notice, as Word would carry it: caption paragraph, heading row marked to repeat. */
export async function docxWithTable(): Promise<Buffer> {
  const cell = (text: string) => new TableCell({ children: [new DocxParagraph(text)] });
  const row = (cells: string[], tableHeader = false) => new TableRow({ tableHeader, children: cells.map(cell) });
  const doc = new Document({
    sections: [{
      children: [
        new DocxParagraph({ text: '关于统一公文用纸版面尺寸的通知', alignment: AlignmentType.CENTER }),
        new DocxParagraph('各处室：'),
        new DocxParagraph('现将公文用纸的版面尺寸通知如下，请遵照执行。'),
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
      ],
    }],
  });
  return Packer.toBuffer(doc);
}
