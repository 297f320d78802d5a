/**
 * Issue 11, tables: a table row is one paragraph and one passage that reads
 * alone — each cell led by its column heading, the caption in its
 * headingPath — from DOCX (w:tbl) and HTML (<table>), with offsets into the
 * document text like every other paragraph.
 */
import { describe, expect, it } from 'vitest';
import type { ParsedDocument } from '../../kb/types.ts';
import { parseBytes } from '../../ingest/parse.ts';
import { docxWithTable } from '../support/tables.ts';

const HTML_WITH_TABLE = `<!doctype html><html><head><meta charset="utf-8"><title>公文写作常见错误对照</title></head><body>
<div id="zoom">
<p>现将公文标题中的常见错误及正确写法列表如下。</p>
<table border="1">
<caption>第一类：公文标题</caption>
<thead><tr><th>错误类型</th><th>错误实例</th><th>正确写法</th></tr></thead>
<tbody>
<tr><td>文种重复</td><td>《关于……意见的函》</td><td>《关于……的函》，应删去“意见”</td></tr>
<tr><td>介词连用</td><td>《关于对……的批复》</td><td>《关于……的批复》，应删去“对”</td></tr>
<tr><td>缺介词</td><td>《×××授予×××同志×××称号的通报》</td><td>“授予”之前加“关于”</td></tr>
</tbody></table>
<p>以上错误在起草时应注意避免。</p>
</div></body></html>`;

function rows(doc: ParsedDocument) {
  return doc.paragraphs.filter((p) => p.role === 'table-row');
}

function expectOffsetsHold(doc: ParsedDocument): void {
  for (const p of doc.paragraphs) expect(doc.text.slice(p.start, p.end)).toBe(p.text);
  for (const p of doc.passages) expect(doc.text.slice(p.start, p.end)).toBe(p.text);
}

describe('tables become rows that read alone', () => {
  it('DOCX: each row carries its column headings, the caption is in its headingPath, one passage per row', async () => {
    const doc = await parseBytes(await docxWithTable(), '版面尺寸.docx', { passageMaxChars: 300 });
    expect(doc.paragraphs.find((p) => p.role === 'table-header')?.text).toBe('项目 | 尺寸 | 允许误差');
    expect(rows(doc).map((p) => p.text)).toEqual([
      '项目：版心 | 尺寸：156 mm × 225 mm | 允许误差：±1 mm',
      '项目：天头（上白边） | 尺寸：37 mm | 允许误差：±1 mm',
      '项目：订口（左白边） | 尺寸：28 mm | 允许误差：±1 mm',
    ]);
    for (const row of rows(doc)) expect(row.headingPath.at(-1)).toBe('表1公文用纸版面尺寸');
    const passage = doc.passages.find((p) => p.text.includes('版心'))!;
    expect(passage.text).toBe('项目：版心 | 尺寸：156 mm × 225 mm | 允许误差：±1 mm');
    expect(passage.headingPath).toContain('表1公文用纸版面尺寸');
    // The paragraphs around the table stay prose, not joined to a row.
    expect(doc.passages.some((p) => p.text.includes('特此通知') && p.text.includes('|'))).toBe(false);
    expect(doc.title).toBe('关于统一公文用纸版面尺寸的通知');
    expectOffsetsHold(doc);
  });

  it('HTML: <thead> names the columns, <caption> is the caption, each 错误/正确 pair is one passage', async () => {
    const doc = await parseBytes(Buffer.from(HTML_WITH_TABLE), '对照.html', { passageMaxChars: 300 });
    expect(doc.paragraphs.find((p) => p.role === 'table-header')?.text).toBe('错误类型 | 错误实例 | 正确写法');
    const pair = doc.passages.filter((p) => p.text.includes('介词连用'));
    expect(pair.map((p) => p.text)).toEqual(['错误类型：介词连用 | 错误实例：《关于对……的批复》 | 正确写法：《关于……的批复》，应删去“对”']);
    expect(pair[0]!.headingPath.at(-1)).toBe('第一类：公文标题');
    expect(rows(doc)).toHaveLength(3);
    expect(doc.paragraphs.at(-1)?.text).toBe('以上错误在起草时应注意避免。');
    expectOffsetsHold(doc);
  });

  it('a layout table (one cell per row) is read as the page\'s own paragraphs, and a cell\'s "|" cannot break the row', async () => {
    const html = `<html><body><div id="zoom"><table><tr><td><p>为做好就业补贴申领工作，现将有关事项通知如下。</p></td></tr><tr><td><p>请各单位按时报送。</p></td></tr></table>
<table><tr><th>名称</th><th>说明</th></tr><tr><td>甲|乙</td><td>丙</td></tr><tr><td>丁</td><td>戊</td></tr></table></div></body></html>`;
    const doc = await parseBytes(Buffer.from(html), 'layout.html', { passageMaxChars: 300 });
    expect(doc.paragraphs.filter((p) => p.role === 'body').map((p) => p.text)).toContain('请各单位按时报送。');
    expect(rows(doc).map((p) => p.text)).toEqual(['名称：甲｜乙 | 说明：丙', '名称：丁 | 说明：戊']);
  });
});
