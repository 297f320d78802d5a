/**
 * Issue 13: the viewer reads a long document a page of paragraphs at a time,
 * so a citation past paragraph 2,000 must load the page that holds it (the
 * first page alone never shows it). In headless Chromium against the real server.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserForFile, hasChromium, SHOTS } from '../support/chromium.ts';
import { addDocuments, servedTestKb } from '../support/test-server.ts';

if (!hasChromium) console.warn('[skipped] long-document viewer test: /usr/bin/chromium is missing (apt-get install -y chromium)');

const LONG_ID = 'long/长文.html';
const PARAGRAPHS = 2600;
const line = (i: number) => `第${i}项事项按规定办理，办理结果及时公开。`;

const body = Array.from({ length: PARAGRAPHS }, (_, i) => `<p>${line(i)}</p>`).join('');
const LONG_HTML = `<html><body><div class="content"><p>关于印发长文的通知</p>${body}</div></body></html>`;

describe.skipIf(!hasChromium)('a citation deep in a long document', () => {
  const served = servedTestKb({ prepare: (t) => addDocuments(t, { [LONG_ID]: LONG_HTML }) });
  const browser = browserForFile();

  it('opens the page that holds a cited paragraph past 2,000, highlighted, with links to the other pages', async () => {
    const cited = served.t.kb.documentPage(LONG_ID, { offset: 2400, limit: 1, maxChars: 1000 })!.paragraphs[0]!;
    expect(cited.text).toBe(line(2399));
    const page = await browser.newPage();
    await page.goto(`${served.srv.url}/#/doc/${encodeURIComponent(LONG_ID)}?s=${cited.start + 2}&e=${cited.start + 8}`);
    const target = page.locator('.doc-body .para.target');
    await target.waitFor();
    expect(await target.getAttribute('data-index')).toBe('2400');
    expect(await target.locator('mark.quote-mark').textContent()).toBe(cited.text.slice(2, 8));
    expect(await page.locator('.locator').textContent()).toContain('第 2401 段');
    expect(await page.locator('.doc-pager').first().textContent()).toContain(`第 2001–${PARAGRAPHS + 1} 段，共 ${PARAGRAPHS + 1} 段`);
    expect(await page.locator('#view').textContent()).not.toContain('null');
    await page.screenshot({ path: path.join(SHOTS, 'long-document-citation.png') });

    // By paragraph number (the precedent finder's links) the same page opens.
    await page.goto(`${served.srv.url}/#/doc/${encodeURIComponent(LONG_ID)}?p=2100`);
    await page.locator('.doc-body .para.target[data-index="2100"]').waitFor();

    await page.locator('.doc-pager').first().getByText('上一页').click();
    await page.locator('.doc-body .para[data-index="0"]').waitFor();
    expect(await page.locator('.doc-body .para').count()).toBe(2000);
    await page.locator('.doc-pager').first().getByText('下一页').click();
    await page.locator('.doc-body .para[data-index="2600"]').waitFor();
    await page.close();
  });
});
