/**
 * TXT/MD extraction: encodings, line endings, indentation kept, and the bad
 * inputs (empty, binary under a text name).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IngestError } from '../../ingest/errors.ts';
import { extractFile, SUPPORTED_EXTENSIONS, unreadableFile } from '../../ingest/extract/index.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'extract-text-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

async function lines(file: string): Promise<string[]> {
  const doc = await extractFile(file);
  return doc.pages.flatMap((page) => page.lines.map((line) => line.text));
}

async function failure(file: string): Promise<IngestError> {
  const error = await extractFile(file).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IngestError);
  return error as IngestError;
}

const SAMPLE = '关于加强人才工作的答复\n\n  一、总体情况\n\n我省人才工作取得新进展。';

describe('text encodings', () => {
  it('decodes a GB18030 (GBK) file made with iconv', async () => {
    expect(await lines('tests/fixtures/gb18030.txt')).toEqual(SAMPLE.split('\n'));
  });

  it('decodes UTF-16 LE and BE with a BOM', async () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SAMPLE, 'utf16le')]);
    expect(await lines(write('le.txt', le))).toEqual(SAMPLE.split('\n'));
    const be = Buffer.from(le);
    be.swap16();
    expect(await lines(write('be.txt', be))).toEqual(SAMPLE.split('\n'));
  });

  it('decodes UTF-16 LE without a BOM by its NUL pattern', async () => {
    const text = 'Notice 2024\nSection one: scope\n第一条';
    expect(await lines(write('nobom.txt', Buffer.from(text, 'utf16le')))).toEqual(text.split('\n'));
  });

  it('reads a UTF-8 file cut mid-character as UTF-8 with one replacement, not as GB18030 mojibake', async () => {
    const bytes = Buffer.from(Array.from({ length: 5 }, () => SAMPLE).join('\n'), 'utf8');
    const cut = bytes.subarray(0, bytes.length - 1);
    const doc = await extractFile(write('cut.txt', cut));
    const text = doc.pages.flatMap((page) => page.lines.map((line) => line.text)).join('\n');
    expect(text.startsWith(SAMPLE)).toBe(true);
    expect(doc.warnings).toEqual([expect.stringContaining('UTF-8')]);
  });

  it('drops a UTF-8 BOM and normalises CRLF and CR to LF', async () => {
    const file = write('bom.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('第一行\r\n  第二行\r第三行  \r\n')]));
    expect(await lines(file)).toEqual(['第一行', '  第二行', '第三行']);
  });

  it('keeps Markdown as md lines for the cleaning stage', async () => {
    const doc = await extractFile(write('政策.md', '# 标题\n\n正文第一段。\n'));
    expect(doc.format).toBe('md');
    expect(doc.linesAreParagraphs).toBe(false);
    expect(doc.pages[0]!.lines.map((line) => line.text)).toEqual(['# 标题', '', '正文第一段。']);
  });
});

describe('bad text input', () => {
  it('refuses an empty file and a whitespace-only file', async () => {
    expect((await failure(write('空.txt', ''))).message).toBe('空.txt：文件为空（empty file）');
    expect((await failure(write('空白.md', ' \r\n\u3000\n\t'))).message).toMatch(/^空白\.md：文件为空/);
  });

  it('reads PNG bytes renamed .txt as an image (a scan for OCR), saying so', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a8f70000000049454e44ae426082', 'hex');
    const doc = await extractFile(write('照片.txt', png));
    expect(doc.format).toBe('image');
    expect(doc.warnings[0]).toBe('扩展名是 .txt，但内容是 PNG，已按 PNG 读取');
    expect(doc.pages).toEqual([{ number: 1, lines: [], imageOnly: true }]);
  });

  it('refuses other binary content under text names', async () => {
    expect((await failure(write('a.md', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])))).message).toMatch(/JPEG 图片/);
    expect((await failure(write('b.txt', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0])))).message).toMatch(/ZIP 压缩包/);
    expect((await failure(write('c.txt', Buffer.from('abc\u0000def\u0001\u0002')))).message).toMatch(/二进制文件/);
  });

  it('names unsupported extensions and missing files', async () => {
    expect((await failure(write('表.xls', 'abc'))).message).toMatch(/^表\.xls：不支持的文件类型 \.xls/);
    expect((await failure(path.join(tmp, '不存在.txt'))).message).toBe('不存在.txt：文件不存在（file not found）');
    expect(SUPPORTED_EXTENSIONS).toEqual(['.pdf', '.docx', '.doc', '.wps', '.ofd', '.html', '.htm', '.txt', '.md', '.png', '.jpg', '.jpeg', '.tif', '.tiff']);
  });

  it('says a file cannot be read for lack of permission (root reads anything, so the error is built as fs gives it)', () => {
    const denied = Object.assign(new Error("EACCES: permission denied, open '/x/机密.txt'"), { code: 'EACCES' });
    expect(unreadableFile('/x/机密.txt', denied).message).toBe('机密.txt：没有读取权限（permission denied）');
  });

  it('refuses files over the size limit before reading them', async () => {
    const file = write('大.txt', 'x'.repeat(2048));
    await expect(extractFile(file, { maxBytes: 1024 })).rejects.toThrow(/大\.txt：文件过大/);
  });
});

describeWithSharedCorpus('text files of the shared corpus', () => {
  it('keeps the seed reply as visual lines: indentation, blank lines, mid-sentence breaks', async () => {
    const file = sharedPath('seed', '对省政协十三届二次会议第26号委员提案的答复.txt');
    const doc = await extractFile(file);
    expect(doc.format).toBe('txt');
    expect(doc.paged).toBe(false);
    expect(doc.linesAreParagraphs).toBe(false);
    const texts = doc.pages[0]!.lines.map((line) => line.text);
    const raw = fs.readFileSync(file, 'utf8').replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
    expect(texts).toEqual(raw.map((line) => line.replace(/\s+$/u, '')));
    expect(texts).toContain('');
    expect(texts.some((line) => /^ {2}\S/.test(line))).toBe(true);
  });

  it('reads every TXT/MD notice of policies/text', async () => {
    const dir = sharedPath('policies', 'text');
    for (const name of fs.readdirSync(dir)) {
      const doc = await extractFile(path.join(dir, name));
      const texts = doc.pages[0]!.lines.map((line) => line.text);
      const text = texts.join('\n');
      if (name.startsWith('01_招生细则_原文')) {
        // A text export of a scanned PDF: page markers and nothing else, passed through as lines.
        expect(texts.filter(Boolean).every((line) => /^===PAGE \d+===$/.test(line)), name).toBe(true);
        continue;
      }
      expect(text.match(/\p{Script=Han}/gu)?.length ?? 0, name).toBeGreaterThan(200);
      expect(text, name).not.toContain('\ufffd');
      expect(doc.warnings, name).toEqual([]);
    }
  });
});
