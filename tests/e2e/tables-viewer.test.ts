/**
 * Issue 11: the document viewer draws a table's paragraphs as a table — the
 * heading row once, each cell under its heading — and a citation of a row
 * still lands on that row, highlighted. Screenshot in tests/.tmp/ for a human.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserForFile, hasChromium, SHOTS } from '../support/chromium.ts';
import { addDocuments, servedTestKb } from '../support/test-server.ts';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>公文标题常见错误对照</title></head><body><div id="zoom">
<p>现将公文标题中的常见错误及正确写法列表如下。</p>
<table><caption>第一类：公文标题</caption>
<thead><tr><th>错误类型</th><th>错误实例</th><th>正确写法</th></tr></thead>
<tbody>
<tr><td>文种重复</td><td>《关于……意见的函》</td><td>《关于……的函》，应删去“意见”</td></tr>
<tr><td>介词连用</td><td>《关于对……的批复》</td><td>《关于……的批复》，应删去“对”</td></tr>
<tr><td>缺介词</td><td></td><td>“授予”之前加“关于”</td></tr>
</tbody></table>
<p>以上错误在起草时应注意避免。</p></div></body></html>`;

describe.skipIf(!hasChromium)('tables in the document viewer', () => {
  const served = servedTestKb({ prepare: (t) => addDocuments(t, { 'tables/对照表.html': PAGE }) });
  const browser = browserForFile();

  it('draws the rows as a table under their headings, and a cited row is the highlighted target', async () => {
    const doc = served.t.kb.getDocument('tables/对照表.html')!;
    const row = doc.paragraphs.find((p) => p.text.includes('介词连用'))!;
    const quote = '《关于……的批复》';
    const start = doc.text.indexOf(quote, row.start);
    const page = await browser.newPage();
    await page.goto(`${served.srv.url}/#/doc/${encodeURIComponent(doc.id)}?s=${start}&e=${start + quote.length}`);
    await page.waitForSelector('table.doc-table');
    expect(await page.locator('table.doc-table th').allTextContents()).toEqual(['错误类型', '错误实例', '正确写法']);
    const cells = await page.locator('table.doc-table tr.target td').allTextContents();
    expect(cells).toEqual(['介词连用', '《关于对……的批复》', '《关于……的批复》，应删去“对”']);
    expect(await page.locator('table.doc-table tr.target mark.quote-mark').textContent()).toBe(quote);
    // A row that leaves a cell empty keeps the others under their own headings.
    expect(await page.locator(`#para-${row.index + 1} td`).allTextContents()).toEqual(['缺介词', '', '“授予”之前加“关于”']);
    expect(await page.locator('.locator').textContent()).toContain('第一类：公文标题');
    await page.screenshot({ path: path.join(SHOTS, 'tables-viewer.png') });
    expect(browser.pageErrors).toEqual([]);
  });
});
