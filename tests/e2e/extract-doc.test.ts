/**
 * Legacy binary Word: a .doc made by LibreOffice from the sample DOCX parses
 * to the same paragraphs as the DOCX; the same bytes named .wps (WPS Office
 * saves that format) too; truncated and password-protected files are named.
 * Needs `soffice` (Debian libreoffice-writer); skipped visibly without it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oleContents } from '../../ingest/extract/doc.ts';
import { extractFile } from '../../ingest/extract/index.ts';
import { parseFile } from '../../ingest/parse.ts';

const SAMPLE_DOCX = path.resolve('corpus', '对省政协十二届三次会议第0352号提案的答复-灵活就业人员医保.docx');
const hasSoffice = spawnSync('soffice', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasSoffice) console.warn('[skipped] legacy Word (.doc/.wps): soffice (libreoffice-writer) is not installed');

(hasSoffice ? describe : describe.skip)('legacy Word (.doc, .wps)', () => {
  let tmp: string;
  let docFile: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-doc-'));
    fs.copyFileSync(SAMPLE_DOCX, path.join(tmp, 'sample.docx'));
    // A profile of its own: soffice refuses to start beside another instance's profile lock.
    execFileSync('soffice', [`-env:UserInstallation=file://${tmp}/profile`, '--headless', '--convert-to', 'doc', '--outdir', tmp, path.join(tmp, 'sample.docx')], { stdio: 'ignore', timeout: 180_000 });
    docFile = path.join(tmp, 'sample.doc');
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('parses the LibreOffice .doc of the sample DOCX to the same paragraphs, title and metadata', async () => {
    const [docx, doc] = await Promise.all([parseFile(SAMPLE_DOCX, { passageMaxChars: 300 }), parseFile(docFile, { passageMaxChars: 300 })]);
    expect(doc.format).toBe('doc');
    expect(doc.paragraphs).toEqual(docx.paragraphs);
    expect(doc.title).toBe(docx.title);
    expect(doc.metadata).toEqual(docx.metadata);
    expect(doc.passages.map((p) => p.id)).toEqual(docx.passages.map((p) => p.id));
  });

  it('reads the same bytes named .wps, and names a .doc renamed .docx', async () => {
    const wps = path.join(tmp, '答复.wps');
    fs.copyFileSync(docFile, wps);
    expect((await extractFile(wps)).warnings).toEqual([]);
    const renamed = path.join(tmp, '答复.docx');
    fs.copyFileSync(docFile, renamed);
    expect((await extractFile(renamed)).warnings[0]).toBe('扩展名是 .docx，但内容是 DOC，已按 DOC 读取');
  });

  it('names a truncated .doc and a password-protected one', async () => {
    const bytes = fs.readFileSync(docFile);
    const cut = path.join(tmp, '截断.doc');
    fs.writeFileSync(cut, bytes.subarray(0, 3000));
    await expect(extractFile(cut)).rejects.toThrow(/^截断\.doc：Word 文档已损坏或不完整/);

    // fEncrypted (bit 0x0100 of the FIB flags at 0x0A of the WordDocument stream), as Word sets it for a password.
    const locked = Buffer.from(bytes);
    const sector = 1 << locked.readUInt16LE(0x1e);
    let fib = sector;
    while (locked.readUInt16LE(fib) !== 0xa5ec) fib += sector;
    locked.writeUInt16LE(locked.readUInt16LE(fib + 0x0a) | 0x0100, fib + 0x0a);
    expect(oleContents(locked)).toEqual({ kind: 'word', encrypted: true });
    const file = path.join(tmp, '加密.doc');
    fs.writeFileSync(file, locked);
    await expect(extractFile(file)).rejects.toThrow(/^加密\.doc：Word 文档已加密/);
  });
});
