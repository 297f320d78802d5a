/**
 * OFD (GB/T 33190): an OFD typeset from the sample DOCX's paragraphs by a
 * small writer (tests/support/ofd.ts) parses to the same paragraphs, roles
 * and metadata as the DOCX itself; damaged packages are named.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractFile } from '../../ingest/extract/index.ts';
import { parseBytes, parseFile } from '../../ingest/parse.ts';
import type { ParagraphRole, ParsedDocument } from '../../kb/types.ts';
import { zipArchive } from '../../bench/hostile-files.ts';
import { buildOfd, type OfdAlign } from '../support/ofd.ts';

const SAMPLE_DOCX = path.resolve('corpus', '对省政协十二届三次会议第0352号提案的答复-灵活就业人员医保.docx');

/** How a typesetter sets each part of a letter. */
function alignment(role: ParagraphRole, index: number): OfdAlign {
  if (role === 'title' || role === 'docNumber' || (role === 'note' && index === 0)) return 'centre';
  if (role === 'signature' || role === 'date') return 'right';
  if (role === 'addressee' || role === 'contact' || role === 'cc') return 'left';
  return 'indent';
}

describe('OFD reader', () => {
  let source: ParsedDocument;
  let tmp: string;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-ofd-'));
    source = await parseFile(SAMPLE_DOCX, { passageMaxChars: 300 });
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // 20 lines a page puts page breaks inside paragraphs of this letter.
  const ofdOfSource = () =>
    buildOfd(
      source.paragraphs.map((p, i) => ({ text: p.text, align: alignment(p.role, i), ...(p.role === 'title' ? { size: 7.8 } : {}) })),
      { title: source.title, linesPerPage: 20 },
    );

  it('parses an OFD of the sample DOCX to the same paragraphs, roles, title and metadata', async () => {
    const doc = await parseBytes(ofdOfSource(), '灵活就业人员医保.ofd', { passageMaxChars: 300 });
    expect(doc.format).toBe('ofd');
    expect(doc.pageCount).toBeGreaterThan(1);
    expect(doc.paragraphs.map((p) => [p.role, p.text])).toEqual(source.paragraphs.map((p) => [p.role, p.text]));
    expect(doc.title).toBe(source.title);
    expect(doc.metadata).toEqual(source.metadata);
    expect(doc.warnings).toEqual([]);
    // Paragraphs carry the pages they were set on; one flows across a page break.
    expect(doc.paragraphs.some((p) => p.pages && p.pages[0] < p.pages[1])).toBe(true);
  });

  it('names a truncated OFD, one without OFD.xml, text named .ofd, and an encrypted one', async () => {
    const whole = ofdOfSource();
    const cut = path.join(tmp, '截断.ofd');
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(extractFile(cut)).rejects.toThrow(/^截断\.ofd：/);

    const noRoot = path.join(tmp, '空包.ofd');
    fs.writeFileSync(noRoot, zipArchive([{ name: 'OFD.xml', data: Buffer.from('<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody/></ofd:OFD>') }]));
    await expect(extractFile(noRoot)).rejects.toThrow(/^空包\.ofd：OFD\.xml 没有 DocRoot/);

    const text = path.join(tmp, '说明.ofd');
    fs.writeFileSync(text, '这不是 OFD 文件。');
    await expect(extractFile(text)).rejects.toThrow(/^说明\.ofd：不是有效的 OFD 文件/);

    const encrypted = path.join(tmp, '加密.ofd');
    fs.writeFileSync(encrypted, zipArchive([
      { name: 'OFD.xml', data: Buffer.from('<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>') },
      { name: 'Doc_0/Document.xml', data: Buffer.from('<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Pages/></ofd:Document>') },
      { name: 'Doc_0/Encrypt.xml', data: Buffer.from('<ofd:Encryptions xmlns:ofd="http://www.ofdspec.org/2016"/>') },
    ]));
    await expect(extractFile(encrypted)).rejects.toThrow(/^加密\.ofd：OFD 文件已加密/);
  });
});
