/**
 * The page in headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core) against the real server and a real knowledge base:
 * search → click a citation → land on the highlighted paragraph; the
 * precedent finder; an upload; and untrusted document text rendered as text.
 * Screenshots go to tests/.tmp/ for a human to look at.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserForFile, hasChromium, SHOTS } from '../support/chromium.ts';
import { addDocuments, ADMIN_TOKEN, servedTestKb } from '../support/test-server.ts';

if (!hasChromium) console.warn('[skipped] browser tests: /usr/bin/chromium is missing (apt-get install -y chromium)');

const XSS_ID = 'untrusted/恶意脚本测试.txt';
const XSS_TEXT = [
  '关于网页安全测试的答复',
  '',
  '一、测试内容',
  '',
  '本段包含脚本标签<script>window.__pwned = "script"</script>以及图片标签<img src=x onerror="window.__pwned = \'img\'">，页面必须原样显示这些字符。',
  '',
].join('\n');

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });

describe.skipIf(!hasChromium)('web page in headless Chromium', () => {
  const served = servedTestKb({ prepare: (t) => addDocuments(t, { [XSS_ID]: XSS_TEXT }) });
  const { newPage, pageErrors } = browserForFile();

  it('searches, shows a cited answer and results, and a citation opens the highlighted paragraph', async () => {
    const page = await newPage();
    await page.goto(`${served.srv.url}/`);
    await expect.poll(() => page.locator('#banner').textContent()).toContain('仅关键词检索');
    await shot(page, '01-home');
    await page.fill('input[name="q"]', '城区内涝治理采取了哪些措施？');
    await page.click('.search-form button[type="submit"]');
    await page.waitForSelector('.answer-card .cite');
    await page.waitForSelector('.hits .hit');
    // One card per document, its passages inside; each document's title once.
    const titles = await page.locator('.hits .hit .hit-title').allTextContents();
    expect(new Set(titles).size).toBe(titles.length);
    expect(await page.locator('.hits .hit .passage').count()).toBeGreaterThan(titles.length);
    expect(await page.locator('.hits .hit mark').count()).toBeGreaterThan(0);
    // Ranks in words, the numbers in the tooltip.
    const badge = page.locator('.hits .rank').first();
    expect(await badge.textContent()).toMatch(/关键词匹配|语义相近|关键词与语义都匹配/);
    expect(await badge.getAttribute('title')).toMatch(/第 \d+ 名/);
    expect(await page.locator('.answer-card .badge-ok').textContent()).toBe('引文已核对');
    expect(await page.locator('.answer-card .feedback-up').count()).toBe(1);
    expect(await page.locator('.answer-card .feedback-down').count()).toBe(1);
    await shot(page, '02-answer-and-results');

    // A question the knowledge base cannot answer: no verification badge, the best passages as 可能相关的原文.
    await page.goto(`${served.srv.url}/#/search?q=${encodeURIComponent('东川省对购买新能源汽车有什么补贴？')}`);
    await page.waitForSelector('.answer-card.answer-empty');
    expect(await page.locator('.answer-card .badge-ok').count()).toBe(0);
    expect(await page.locator('.answer-card').textContent()).toContain('东川省新能源汽车补贴');
    expect(await page.locator('.answer-card .possibly-relevant .card-label').textContent()).toBe('可能相关的原文');
    expect(await page.locator('.answer-card .possibly-relevant li').count()).toBeGreaterThan(0);
    expect(await page.locator('.answer-card .badge-muted').textContent()).toBe('未作答');
    await shot(page, '03-no-answer');
    await page.goto(`${served.srv.url}/#/search?q=${encodeURIComponent('城区内涝治理采取了哪些措施？')}`);
    await page.waitForSelector('.answer-card .cite');

    const quote = (await page.locator('.answer-card .answer-sentence .quote').first().textContent())!;
    await page.locator('.answer-card .answer-sentence .cite').first().click();
    const target = page.locator('.doc-body .para.target');
    await target.waitFor();
    expect(await page.locator('.doc-body .para.target mark.quote-mark').textContent()).toBe(quote);
    expect(await target.isVisible()).toBe(true);
    const box = await target.boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y).toBeLessThan(900);
    expect(await page.locator('.locator').textContent()).toMatch(/引文位置/);
    expect(await page.locator('.doc-actions a[href*="/file"]').count()).toBe(1);
    await shot(page, '03-document-at-citation');
    await page.close();
  });

  it('copies a quote with its source as drafters cite it, and takes 👍/👎 with a correction on every answer card', async () => {
    const page = await newPage();
    const question = '老旧楼房装电梯政府给多少钱？';
    await page.goto(`${served.srv.url}/#/search?q=${encodeURIComponent(question)}`);
    await page.waitForSelector('.answer-card .cite');
    // The clipboard as the page sees it: what a click would paste.
    await page.evaluate(`(() => {
      window.__copied = [];
      Object.defineProperty(navigator.clipboard, 'writeText', { value: async (text) => { window.__copied.push(text); } });
    })()`);
    await page.locator('.answer-card .copy-quote').first().click();
    await expect.poll(() => page.locator('.answer-card .copy-quote').first().textContent()).toBe('已复制');
    const [copied] = await page.evaluate<string[]>('window.__copied');
    expect([...served.t.kb.feedback()]).toEqual([]);
    const doc = served.t.kb.getDocument('对市人大十七届四次会议第0112号建议的答复-既有住宅加装电梯.pdf')!;
    // “quote”——《标题》（文号）第X页, the quote exactly as the document has it.
    const match = /^“(.+)”——《(.+)》（(.+)）第(\d+)页$/u.exec(copied!);
    expect(match, copied).not.toBeNull();
    expect(doc.text).toContain(match![1]);
    expect(match![2]).toBe(doc.title);
    expect(match![3]).toBe('青建函〔2025〕67号');
    const para = doc.paragraphs.find((p) => p.text.includes(match![1]!))!;
    expect(Number(match![4])).toBe(para.pages![0]);

    // 👎 opens an optional correction; the verdict is stored with the answer and its verified quotes.
    await page.locator('.answer-card .feedback-down').click();
    await page.fill('.answer-card .feedback-form textarea', '每部补助20万元');
    await shot(page, '09-feedback-buttons');
    await page.click('.answer-card .feedback-form button[type="submit"]');
    await expect.poll(() => page.locator('.answer-card .feedback-status').textContent()).toBe('谢谢，已记录。');
    const [stored] = [...served.t.kb.feedback()];
    expect(stored).toMatchObject({ question, verdict: 'down', correction: '每部补助20万元', mode: 'lexical' });
    expect(stored!.answer).toBeTruthy();
    expect(stored!.citations.length).toBeGreaterThan(0);
    expect(await page.locator('.answer-card .feedback-down.chosen').count()).toBe(1);

    // A card without an answer asks too, and 👍 there (rightly abstained) is stored as such.
    await page.goto(`${served.srv.url}/#/search?q=${encodeURIComponent('东川省对购买新能源汽车有什么补贴？')}`);
    await page.waitForSelector('.answer-card.answer-empty .feedback-up');
    await page.locator('.answer-card .feedback-up').click();
    await expect.poll(() => page.locator('.answer-card .feedback-status').textContent()).toBe('谢谢，已记录。');
    expect([...served.t.kb.feedback()].at(-1)).toMatchObject({ question: '东川省对购买新能源汽车有什么补贴？', answer: null, citations: [], verdict: 'up' });
    await page.close();
  });

  it('shows the page number of a cited paragraph in a PDF', async () => {
    const page = await newPage();
    const pdfId = fs.readdirSync(path.resolve('corpus')).find((f) => f.endsWith('.pdf'))!;
    const doc = served.t.kb.getDocument(pdfId)!;
    const onPage2 = doc.paragraphs.find((p) => p.role === 'body' && p.pages && p.pages[0] === 2)!;
    await page.goto(`${served.srv.url}/#/doc/${encodeURIComponent(pdfId)}?s=${onPage2.start}&e=${onPage2.start + 10}`);
    await page.locator('.para.target').waitFor();
    expect(await page.locator('.locator').textContent()).toContain('第2页');
    expect(await page.locator('.para.target mark.quote-mark').textContent()).toBe(onPage2.text.slice(0, 10));
    await shot(page, '04-pdf-page-locator');
    await page.close();
  });

  it('finds precedents for a pasted proposal with aligned passages', async () => {
    const page = await newPage();
    await page.goto(`${served.srv.url}/#/similar`);
    await page.fill('textarea[name="text"]',
      '关于加强城区防洪排涝能力建设的建议\n近年来汛期暴雨频发，老城区多处路段积水严重。\n一、加快排水管网改造，提高泵站抽排能力。\n二、对易涝点逐一排查整治。\n三、建立积水预警机制，及时发布预警。');
    await page.click('.similar-form button[type="submit"]');
    await page.waitForSelector('.precedent');
    expect(await page.locator('.suggestion').count()).toBe(3);
    expect(await page.locator('.precedent').first().locator('.hit-title').textContent()).toContain('0093');
    expect(await page.locator('.precedent').first().locator('.pair:not(.pair-head)').count()).toBeGreaterThanOrEqual(2);
    await shot(page, '05-precedents');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.draft-button')]);
    expect(download.suggestedFilename()).toBe('答复初稿-关于加强城区防洪排涝能力建设的建议.docx');
    const saved = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-dl-')), 'draft.docx');
    await download.saveAs(saved);
    expect(fs.readFileSync(saved).subarray(0, 2).toString()).toBe('PK');
    await page.close();
  });

  it('finds precedents for a stored document section by section, leaving the document itself out', async () => {
    const page = await newPage();
    const id = '对市人大十七届四次会议第0093号建议的答复-城区防洪排涝.txt';
    const doc = served.t.kb.getDocument(id)!;
    await page.goto(`${served.srv.url}/#/doc/${encodeURIComponent(id)}`);
    await page.click('.doc-actions a[href*="similar"]');
    await page.waitForSelector('.similar-results .suggestion');
    // The reply's numbered sections play the suggestions.
    const sections = doc.paragraphs.filter((p) => p.role === 'heading' && p.headingLevel === 1).length;
    expect(await page.locator('.similar-results .suggestion').count()).toBe(sections);
    expect(await page.locator('.similar-results .suggestion-text').first().textContent()).toMatch(/^一、/);
    const titles = await page.locator('.similar-results .precedent .hit-title').allTextContents();
    expect(titles).not.toContain(doc.title);
    expect(await page.locator('.similar-results a[href*="' + encodeURIComponent(id) + '"]').count()).toBe(0);
    // Browsing a stored document offers no draft of a reply to it.
    expect(await page.locator('.similar-results .draft-button').count()).toBe(0);
    await shot(page, '05b-document-precedents');
    await page.close();
  });

  it('uploads a file with the admin token and shows the per-file result', async () => {
    const page = await newPage();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-upload-'));
    const file = path.join(dir, '关于口袋公园建设的答复.txt');
    fs.writeFileSync(file, '关于口袋公园建设的答复\n\n一、建设进展\n\n今年全市新建口袋公园二十八个，改造街角绿地十五处。\n');
    await page.goto(`${served.srv.url}/#/upload`);
    await page.fill('input[name="token"]', ADMIN_TOKEN);
    await page.setInputFiles('input[name="files"]', file);
    await page.click('.upload-form button[type="submit"]');
    await page.waitForSelector('.upload-table');
    expect(await page.locator('.upload-table .status').first().textContent()).toBe('已新增');
    expect(await page.locator('.upload-table').textContent()).toContain('关于口袋公园建设的答复.txt');
    await shot(page, '06-upload');
    expect(served.t.kb.getDocument('uploads/关于口袋公园建设的答复.txt')).toBeTruthy();
    fs.rmSync(dir, { recursive: true, force: true });
    await page.close();
  });

  it('renders <script> and <img onerror> inside a document as text, executing nothing', async () => {
    const page = await newPage();
    await page.goto(`${served.srv.url}/#/doc/${encodeURIComponent(XSS_ID)}`);
    await page.waitForSelector('.doc-body .para');
    const bodyText = (await page.locator('.doc-body').textContent())!;
    expect(bodyText).toContain('<script>window.__pwned = "script"</script>');
    expect(bodyText).toContain('<img src=x onerror=');
    expect(await page.locator('.doc-body img, .doc-body script').count()).toBe(0);
    // Also through the search results, where text is cut around highlights.
    await page.goto(`${served.srv.url}/#/search?q=${encodeURIComponent('脚本标签 图片标签')}`);
    await page.waitForSelector('.hits .hit');
    expect(await page.locator('.hits').textContent()).toContain('<script>');
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    await shot(page, '07-untrusted-text');
    await page.close();
  });

  it('is usable on a phone-sized screen', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await page.goto(`${served.srv.url}/#/search?q=${encodeURIComponent('普惠性民办幼儿园如何认定？')}`);
    await page.waitForSelector('.hits .hit');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, '08-mobile');
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
