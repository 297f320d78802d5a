/**
 * Issue 13, item 4: a UTF-8 file with a damaged tail or a stray byte stays
 * UTF-8 (it was stored as GB18030 mojibake, 120 of 120 cut positions), and
 * the document says that decoding needed replacement characters.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeText } from '../../ingest/extract/decode.ts';
import { parseBytes } from '../../ingest/parse.ts';

const utf8 = fs.readFileSync('corpus/东川省医疗保障局2025年工作要点.txt');
const gbk = fs.readFileSync('tests/fixtures/gb18030.txt');
/** 120 positions spread over the file, each moved onto a continuation byte (inside a character). */
const insideCharacters = Array.from({ length: 120 }, (_, i) => {
  let at = Math.floor(((utf8.length - 8) * (i + 0.5)) / 120);
  while ((utf8[at]! & 0xc0) !== 0x80) at++;
  return at;
});

describe('damaged UTF-8 stays UTF-8', () => {
  it('cut inside a character at 120 positions', () => {
    const encodings = insideCharacters.map((at) => decodeText(utf8.subarray(0, at)).encoding);
    expect(encodings.filter((e) => e !== 'utf-8')).toEqual([]);
  });

  it('with one stray byte at 120 positions', () => {
    const encodings = insideCharacters.map((at) => decodeText(Buffer.concat([utf8.subarray(0, at), Buffer.from([0xff]), utf8.subarray(at)])).encoding);
    expect(encodings.filter((e) => e !== 'utf-8')).toEqual([]);
  });

  it('a file of one cut character', () => {
    expect(decodeText(Buffer.from('中文').subarray(0, 5))).toMatchObject({ encoding: 'utf-8', text: '中\ufffd', replaced: 1 });
  });

  it('GBK text stays GB18030, whole, cut or with a stray byte', () => {
    expect(decodeText(gbk).encoding).toBe('gb18030');
    expect(decodeText(gbk.subarray(0, gbk.length - 1)).encoding).toBe('gb18030');
    const middle = Math.floor(gbk.length / 2);
    expect(decodeText(Buffer.concat([gbk.subarray(0, middle), Buffer.from([0xff]), gbk.subarray(middle)])).encoding).toBe('gb18030');
  });
});

describe('the document says when decoding replaced characters', () => {
  const stray = (bytes: Buffer) => Buffer.concat([bytes.subarray(0, insideCharacters[60]!), Buffer.from([0xff]), bytes.subarray(insideCharacters[60]!)]);

  it('a text file', async () => {
    const doc = await parseBytes(stray(utf8), '要点.txt', { passageMaxChars: 300 });
    // The stray byte, and the two halves of the character it split.
    expect(doc.warnings).toContain('有 3 个字符无法按 UTF-8 解码，已替换为 �');
    expect(doc.title).toBe((await parseBytes(utf8, '要点.txt', { passageMaxChars: 300 })).title);
  });

  it('a web page', async () => {
    const page = Buffer.from(`<html><head><title>关于印发工作要点的通知</title></head><body><div class="content">${utf8.toString('utf8').split('\n').map((l) => `<p>${l}</p>`).join('')}</div></body></html>`);
    const doc = await parseBytes(stray(page), '要点.html', { passageMaxChars: 300 });
    expect(doc.warnings.some((w) => /^有 \d+ 个字符无法按 UTF-8 解码/.test(w))).toBe(true);
    expect((await parseBytes(page, '要点.html', { passageMaxChars: 300 })).warnings).toEqual([]);
  });
});
