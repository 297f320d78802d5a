/**
 * Small hostile inputs, generated (never committed): the files issue 13's
 * probe used to take the server down, rebuilt from their description.
 */
import zlib from 'node:zlib';

interface ZipPart {
  name: string;
  data: Buffer;
}

/** A ZIP archive of deflated entries, the container a DOCX is. */
export function zipArchive(parts: ZipPart[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const name = Buffer.from(part.name, 'utf8');
    const compressed = zlib.deflateRawSync(part.data, { level: 9 });
    const crc = zlib.crc32(part.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(part.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(8, 10);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(compressed.length, 20);
    header.writeUInt32LE(part.data.length, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    central.push(header, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

/** A DOCX whose word/document.xml holds this body. */
export function docxWithBody(body: string | Buffer): Buffer {
  const xml = typeof body === 'string'
    ? Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><w:document ${W}><w:body>${body}</w:body></w:document>`)
    : body;
  return zipArchive([{ name: 'word/document.xml', data: xml }]);
}

/** A DOCX whose document.xml inflates to `mebibytes` MiB of ordinary paragraphs (the probe's was 190 MiB from 580 KB). */
export function docxBomb(mebibytes: number): Buffer {
  const paragraph = '<w:p><w:r><w:t>关于进一步做好高校毕业生就业创业工作的通知</w:t></w:r></w:p>';
  const head = `<?xml version="1.0" encoding="UTF-8"?><w:document ${W}><w:body>`;
  const tail = '</w:body></w:document>';
  const count = Math.ceil((mebibytes * 1024 * 1024) / Buffer.byteLength(paragraph));
  return docxWithBody(Buffer.from(head + paragraph.repeat(count) + tail));
}

/** A DOCX paragraph with `depth` runs nested inside each other (200,000 overflowed the reader's stack). */
export function docxNestedRuns(depth: number): Buffer {
  return docxWithBody(`<w:p>${'<w:r>'.repeat(depth)}<w:t>正文</w:t>${'</w:r>'.repeat(depth)}</w:p>`);
}

/** An HTML page with `depth` nested <div>s around its text (100,000: 1.1 MB, minutes of parsing). */
export function htmlNestedDivs(depth: number): Buffer {
  return Buffer.from(`<html><body>${'<div>'.repeat(depth)}关于印发实施方案的通知，各区人民政府。${'</div>'.repeat(depth)}</body></html>`);
}

/**
 * A PDF whose page tree lists the same kid twice at every level, so its
 * /Count claims 2^levels pages from a few KB (the probe's: 2^31 from 3.7 KB).
 */
export function pdfRepeatedKids(levels: number): Buffer {
  const objects: string[] = [];
  // 1: catalog; 2..levels+1: page-tree nodes; levels+2: the one leaf page; levels+3: its content.
  objects.push('<< /Type /Catalog /Pages 2 0 R >>');
  for (let level = 0; level < levels; level++) {
    const id = 2 + level;
    const parent = level === 0 ? '' : ` /Parent ${id - 1} 0 R`;
    const kid = level === levels - 1 ? levels + 2 : id + 1;
    objects.push(`<< /Type /Pages /Kids [${kid} 0 R ${kid} 0 R] /Count ${2 ** (levels - level)}${parent} >>`);
  }
  objects.push(`<< /Type /Page /Parent ${levels + 1} 0 R /MediaBox [0 0 595 842] /Contents ${levels + 3} 0 R >>`);
  const stream = 'BT /F1 12 Tf 72 720 Td (page) Tj ET';
  objects.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(pdf.length);
    pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** A text file of `lines` one-character lines (5,000,000: 10 MB, 37 s and 2.9 GB to parse). */
export function manyLinesText(lines: number): Buffer {
  return Buffer.from('字\n'.repeat(lines));
}

/**
 * A PDF without a usable cross-reference table that defines one object `copies`
 * times, each copy an unterminated dictionary (the shape of a fuzz finding,
 * hangs-case-376.pdf). pdf.js rebuilds the table by scanning the file and re-parses
 * every repeated definition to the end of the file: quadratic, minutes for 200 KB.
 */
export function pdfRepeatedObjects(copies: number): Buffer {
  let pdf = '%PDF-1.7\n';
  pdf += '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n';
  pdf += '2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n';
  pdf += '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>\nendobj\n';
  for (let i = 0; i < copies; i++) pdf += '6 0 obj\n<< /Filter /Standard /O <dce759fd5980betica /Subtype /Type1 >>\nendobj\n';
  pdf += 'trailer\n<< /Root 1 0 R /Size 7 >>\nstartxref\n999999999\n%%EOF\n';
  return Buffer.from(pdf, 'latin1');
}
