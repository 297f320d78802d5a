/**
 * Issue 11, tables in PDFs: a Word table exported to PDF (ruling lines drawn
 * as vector paths), and the scanned tables of the 公文写作常见错误更正对照表
 * (ruling lines in pixels, cells read by OCR) become rows that carry their
 * column headings, and a question about one row finds it first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBytes } from '../../ingest/parse.ts';
import { search } from '../../search/retrieve.ts';
import { openCachedKb, type CachedKb } from '../support/kb-cache.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';
import { OcrPool } from '../../ingest/extract/ocr/pool.ts';
import { borderlessTablePicture, CJK_FONT, docxWithLongTables, docxWithTable, docxWithTablePicture } from '../support/tables.ts';

const hasSoffice = spawnSync('soffice', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasSoffice) console.warn('[skipped] PDF table from Word: soffice (libreoffice-writer) is not installed');

describe.skipIf(!hasSoffice)('a Word table exported to PDF', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-table-pdf-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads the grid its borders draw: heading row, then one row per line with its headings, caption in headingPath', async () => {
    fs.writeFileSync(path.join(tmp, 'table.docx'), await docxWithTable());
    // A profile of its own: soffice refuses to start beside another instance's profile lock.
    execFileSync('soffice', [`-env:UserInstallation=file://${tmp}/profile`, '--headless', '--convert-to', 'pdf', '--outdir', tmp, path.join(tmp, 'table.docx')], { stdio: 'ignore', timeout: 180_000 });
    const doc = await parseBytes(fs.readFileSync(path.join(tmp, 'table.pdf')), '版面尺寸.pdf', { passageMaxChars: 300 });
    expect(doc.paragraphs.filter((p) => p.role.startsWith('table')).map((p) => [p.role, p.text])).toEqual([
      ['table-header', '项目 | 尺寸 | 允许误差'],
      ['table-row', '项目：版心 | 尺寸：156 mm × 225 mm | 允许误差：±1 mm'],
      ['table-row', '项目：天头（上白边） | 尺寸：37 mm | 允许误差：±1 mm'],
      ['table-row', '项目：订口（左白边） | 尺寸：28 mm | 允许误差：±1 mm'],
    ]);
    const row = doc.paragraphs.find((p) => p.role === 'table-row')!;
    expect(row.pages).toEqual([1, 1]);
    expect(row.headingPath.at(-1)).toBe('表1公文用纸版面尺寸');
    // The prose around the table is not swallowed by it.
    expect(doc.paragraphs.map((p) => p.text)).toContain('现将公文用纸的版面尺寸通知如下，请遵照执行。');
    expect(doc.paragraphs.at(-1)?.text).toBe('特此通知。');
    for (const p of doc.passages) expect(doc.text.slice(p.start, p.end)).toBe(p.text);
  });
});

describe.skipIf(!hasSoffice)('long tables that Writer breaks across pages', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-long-tables-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a three-line table (heading row repeated) and a ruled one (not repeated): every row on every page carries its headings and caption', async () => {
    fs.writeFileSync(path.join(tmp, 'long.docx'), await docxWithLongTables(60));
    execFileSync('soffice', [`-env:UserInstallation=file://${tmp}/profile`, '--headless', '--convert-to', 'pdf', '--outdir', tmp, path.join(tmp, 'long.docx')], { stdio: 'ignore', timeout: 180_000 });
    const doc = await parseBytes(fs.readFileSync(path.join(tmp, 'long.pdf')), '通报.pdf', { passageMaxChars: 300 });
    const tableRows = (caption: string) => doc.paragraphs.filter((p) => p.role.startsWith('table') && p.headingPath.at(-1) === caption);
    const threeLine = tableRows('表1各市县完成户数');
    const ruled = tableRows('表2审批事项办理时限');
    // One heading row each: the one Writer repeats on the next page is dropped.
    expect(threeLine.filter((p) => p.role === 'table-header').map((p) => p.text)).toEqual(['序号 | 市县 | 完成户数']);
    expect(ruled.filter((p) => p.role === 'table-header').map((p) => p.text)).toEqual(['编号 | 事项名称 | 办理时限']);
    expect(threeLine.filter((p) => p.role === 'table-row').map((p) => p.text)).toEqual(
      Array.from({ length: 60 }, (_, i) => `序号：${i + 1} | 市县：第${i + 1}县 | 完成户数：${(i + 1) * 37}户`));
    expect(ruled.filter((p) => p.role === 'table-row').map((p) => p.text)).toEqual(
      Array.from({ length: 60 }, (_, i) => `编号：SX${String(i + 1).padStart(3, '0')} | 事项名称：第${i + 1}项审批事项 | 办理时限：${(i % 5) + 1}个工作日`));
    // Both really cross a page break.
    expect(new Set(threeLine.map((p) => p.pages![0])).size).toBeGreaterThan(1);
    expect(new Set(ruled.map((p) => p.pages![0])).size).toBeGreaterThan(1);
    expect(doc.paragraphs.filter((p) => p.role === 'body').map((p) => p.text)).toEqual(['现将各地完成情况通报如下。', '表1各市县完成户数', '表2审批事项办理时限', '特此通报。']);
    for (const p of doc.passages) expect(doc.text.slice(p.start, p.end)).toBe(p.text);
  });
});

describe.skipIf(!hasSoffice || !CJK_FONT)('a picture of a borderless table in a page with a text layer', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-table-picture-'));
  const pool = new OcrPool(1);
  afterAll(async () => {
    await pool.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is OCR\'d in place: rows by baseline, columns by the gaps, the first line as headings, the caption above', async () => {
    const picture = borderlessTablePicture([['错误类型', '错误实例', '正确写法'], ['文种重复', '《关于意见的函》', '应删去“意见”'], ['介词连用', '《关于对的批复》', '应删去“对”'], ['缺介词', '《某某同志的通报》', '前加“关于”']]);
    fs.writeFileSync(path.join(tmp, 'picture.docx'), await docxWithTablePicture(picture, { width: 450, height: 130 }));
    execFileSync('soffice', [`-env:UserInstallation=file://${tmp}/profile`, '--headless', '--convert-to', 'pdf', '--outdir', tmp, path.join(tmp, 'picture.docx')], { stdio: 'ignore', timeout: 180_000 });
    const doc = await parseBytes(fs.readFileSync(path.join(tmp, 'picture.pdf')), '标题错误.pdf', { passageMaxChars: 300, ocr: pool });
    const table = doc.paragraphs.filter((p) => p.role.startsWith('table'));
    expect(table.map((p) => p.text)).toEqual([
      '错误类型 | 错误实例 | 正确写法',
      '错误类型：文种重复 | 错误实例：《关于意见的函》 | 正确写法：应删去“意见”',
      '错误类型：介词连用 | 错误实例：《关于对的批复》 | 正确写法：应删去“对”',
      '错误类型：缺介词 | 错误实例：《某某同志的通报》 | 正确写法：前加“关于”',
    ]);
    expect(table.at(-1)!.headingPath.at(-1)).toBe('表2公文标题常见错误');
    expect(table.at(-1)!.confidence).toBeGreaterThan(0.8);
    expect(doc.paragraphs.at(-1)?.text).toBe('特此通知。');
    expect(doc.warnings).toContain('第1页的图片由 OCR 识别');
  }, 300_000);
});

describeWithSharedCorpus('tables of the shared PDFs, searched', () => {
  let cached: CachedKb;
  beforeAll(async () => {
    // OCR on: the 对照表's tables are scanned images. Built once per change of ingest/ and kb/ (about a minute of OCR).
    cached = await openCachedKb({
      env: { KB_OCR: '1' },
      openOptions: { embedder: null, lexicalOnlyReason: 'tables test: lexical retrieval' },
      sources: [{
        paths: [sharedPath('pdf', '公文写作常见错误更正对照表.pdf'), sharedPath('pdf', '党政机关公文格式GBT9704-2012.pdf')],
        options: { root: sharedPath('pdf') },
      }],
      check: ([report]) => expect(report!.failed).toEqual([]),
    });
  }, 600_000);
  afterAll(() => cached?.close());

  it('对照表: the scanned table is read as rows, each 错误/正确 pair one passage with its column headings and section', async () => {
    const doc = cached.kb.getDocument('公文写作常见错误更正对照表.pdf')!;
    const headers = doc.paragraphs.filter((p) => p.role === 'table-header').map((p) => p.text);
    expect(headers).toContain('错误类型 | 错误实例 | 正确写法');
    const rows = doc.paragraphs.filter((p) => p.role === 'table-row');
    expect(rows.length).toBeGreaterThanOrEqual(15);
    const pair = rows.find((p) => p.text.includes('介词连用'))!;
    expect(pair.text).toMatch(/^错误类型：介词连用 \| 错误实例：《关于对.+的批复》 \| 正确写法：《关于.+的批复》，应删去/);
    expect(pair.headingPath.at(-1)).toBe('第一类：公文标题');
    expect(pair.pages).toEqual([1, 1]);
  });

  it('a 错误/正确 question ranks the row holding both columns first', async () => {
    const result = await search(cached.kb, { text: '公文标题里“介词连用”的错误应该怎么改正', k: 5, mode: 'lexical' });
    const top = result.hits[0]!;
    expect(top.text).toContain('错误实例：《关于对');
    expect(top.text).toContain('正确写法：');
    expect(top.citation.documentId).toBe('公文写作常见错误更正对照表.pdf');
    const time = await search(cached.kb, { text: '“截止”和“截至”用错了，正确写法是什么', k: 5, mode: 'lexical' });
    expect(time.hits[0]!.text).toMatch(/错误类型：时间表述不当 \| 错误实例：.*截止.* \| 正确写法：.*截至/);
  });

  it('对照表 page 3: the table pasted as a picture into a page with a text layer is OCR\'d into a row with its column headings, in page order', async () => {
    const doc = cached.kb.getDocument('公文写作常见错误更正对照表.pdf')!;
    const onPage3 = doc.paragraphs.filter((p) => p.pages?.[0] === 3);
    const row = onPage3.find((p) => p.role === 'table-row')!;
    expect(row.text).toMatch(/^错误类型：抄送部分处理不当 \| 错误实例：抄送：建设公司、粤高速、中山市交通局、省交通运输厅 \| 正确写法：由多个单位并列时，同一系统单位用“、”号，不同系统单位用“，”号隔开/);
    expect(row.headingPath.at(-1)).toBe('第三类：结尾部分');
    expect(row.confidence).toBeGreaterThan(0.8);
    // Between the caption above the picture and the text-layer prose below it.
    const texts = onPage3.map((p) => p.text);
    expect(texts).toContain('第三类：结尾部分');
    expect(texts).toContain('公文写作中常见标点符号误用例析');
    expect(texts.indexOf('第三类：结尾部分')).toBeLessThan(texts.indexOf(row.text));
    expect(texts.indexOf(row.text)).toBeLessThan(texts.indexOf('公文写作中常见标点符号误用例析'));
    expect(doc.passages.find((p) => p.text === row.text)?.headingPath.at(-1)).toBe('第三类：结尾部分');
    // Pages 1–2 are scans OCR'd whole; page 3 counts for its picture.
    expect(doc.ocr?.pages).toBe(3);
  });

  it('a question about the page-3 picture\'s row ranks that row first', async () => {
    const result = await search(cached.kb, { text: '抄送多个单位时，单位之间用什么标点隔开', k: 5, mode: 'lexical' });
    expect(result.hits[0]!.text).toMatch(/^错误类型：抄送部分处理不当 \| 错误实例：.+ \| 正确写法：由多个单位并列时/);
    expect(result.hits[0]!.citation.documentId).toBe('公文写作常见错误更正对照表.pdf');
  });

  it('with OCR off (KB_OCR=0) the picture stays unread and the parse says so', async () => {
    const doc = await parseBytes(fs.readFileSync(sharedPath('pdf', '公文写作常见错误更正对照表.pdf')), '对照表.pdf', { passageMaxChars: 300 });
    expect(doc.paragraphs.some((p) => p.text.includes('抄送部分处理不当'))).toBe(false);
    expect(doc.warnings).toContain('第3页有图片未经 OCR，其中的文字未读入（OCR 已关闭）');
    // Marked as needing OCR, so the next ingest with OCR on reads it again instead of keeping it as unchanged.
    expect(doc.needsOcr).toBe(true);
  });

  it('GB/T 9704: the 版心 question ranks the page-layout clause first (the standard states the size in 5.2.1, not in a table)', async () => {
    const result = await search(cached.kb, { text: '公文用纸版心尺寸是多少', k: 5, mode: 'lexical' });
    expect(result.hits[0]!.text).toContain('版心尺寸为156 mm×225 mm');
    expect(result.hits[0]!.citation.documentId).toBe('党政机关公文格式GBT9704-2012.pdf');
  });
});
