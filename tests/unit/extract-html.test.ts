/**
 * HTML main-content extraction: a GB2312 page made for this test, and every
 * saved government page of the shared corpus (notice body present, site
 * chrome absent).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load } from 'cheerio';
import { describe, expect, it } from 'vitest';
import type { ExtractedDocument } from '../../kb/types.ts';
import { extractFile } from '../../ingest/extract/index.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

function texts(doc: ExtractedDocument): string[] {
  return doc.pages.flatMap((page) => page.lines.map((line) => line.text));
}

function squash(text: string): string {
  return text.replace(/[\s\u00a0\u3000]+/g, '');
}

/** Chrome that must never reach the knowledge base, wherever it appears. */
const CHROME_ANYWHERE = /网站地图|版权所有|ICP备|主办单位|打印本页|关闭窗口|网站标识码|您当前的位置|当前位置：|分享到|扫一扫/;
/** Chrome that is a whole line (in a body sentence these words are fine). */
const CHROME_LINES = new Set(['联系我们', '首页', '无障碍', '长者模式', '网站地图', '【打印】', '【关闭】', '下一页', '上一页']);

describe('HTML reader on a GB2312 page', () => {
  it('decodes by <meta charset=gb2312>, keeps the notice, drops the chrome', async () => {
    const doc = await extractFile('tests/fixtures/gb2312-page.html');
    expect(doc.format).toBe('html');
    expect(doc.linesAreParagraphs).toBe(true);
    expect(doc.titleHint).toBe('关于做好2025年度就业补贴申领工作的通知');
    expect(texts(doc)).toEqual([
      '各区人力资源和社会保障局：',
      '为做好就业补贴申领工作，现将有关事项通知如下。',
      '一、申领对象',
      '在本市登记失业的人员。',
      '补贴项目 | 标准',
      '补贴项目：求职创业补贴 | 标准：每人2000元',
    ]);
  });

  it('reads a page re-encoded to UTF-8 that still declares gb2312 as UTF-8', async () => {
    const utf8 = new TextDecoder('gb18030').decode(fs.readFileSync('tests/fixtures/gb2312-page.html'));
    expect(utf8).toContain('charset=gb2312');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'extract-html-'));
    try {
      const file = path.join(dir, 'saved.html');
      fs.writeFileSync(file, utf8);
      const doc = await extractFile(file);
      expect(doc.titleHint).toBe('关于做好2025年度就业补贴申领工作的通知');
      expect(texts(doc)[0]).toBe('各区人力资源和社会保障局：');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('falls back to text density on a page without a known container', async () => {
    const html = fs.readFileSync('tests/fixtures/gb2312-page.html');
    const decoded = new TextDecoder('gb18030').decode(html).replace('id="zoom"', 'id="main-text"').replace('charset=gb2312', 'charset=utf-8');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'extract-html-'));
    try {
      const file = path.join(dir, 'page.htm');
      fs.writeFileSync(file, decoded);
      const lines = texts(await extractFile(file));
      expect(lines).toContain('为做好就业补贴申领工作，现将有关事项通知如下。');
      expect(lines).toContain('补贴项目：求职创业补贴 | 标准：每人2000元');
      expect(lines.join('\n')).not.toMatch(CHROME_ANYWHERE);
      expect(lines.filter((line) => CHROME_LINES.has(line))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The notice's body, found independently of the extractor: the page's
 * longest paragraph (<p>) by Chinese characters, which on these pages is
 * always article text, never a menu or a footer.
 */
function longestParagraph(html: string): string {
  const $ = load(html);
  $('script, style, noscript').remove();
  let best = '';
  let bestHan = 0;
  $('p').each((_, element) => {
    const text = $(element).text();
    const han = text.match(/\p{Script=Han}/gu)?.length ?? 0;
    if (han > bestHan) {
      best = text;
      bestHan = han;
    }
  });
  return squash(best);
}

describeWithSharedCorpus('HTML reader on the saved government pages', () => {
  const dir = sharedPath('policies', 'html');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => /\.html?$/.test(name)).sort() : [];

  it('finds all 47 pages', () => {
    expect(files).toHaveLength(47);
  });

  it.each(files)('%s: body present, chrome absent, title without the site name', async (name) => {
    const file = path.join(dir, name);
    const doc = await extractFile(file);
    const lines = texts(doc);
    const joined = squash(lines.join(''));
    const html = fs.readFileSync(file, 'utf8');

    const body = longestParagraph(html);
    if (body.length >= 20) expect(joined).toContain(body);
    expect(joined.match(/\p{Script=Han}/gu)?.length ?? 0).toBeGreaterThan(150);

    const chrome = lines.filter((line) => CHROME_ANYWHERE.test(line) || CHROME_LINES.has(line));
    expect(chrome).toEqual([]);

    expect(doc.titleHint).toBeTruthy();
    expect(doc.titleHint).not.toMatch(/门户网站|人民政府网|[-_]\s*广州市/);
  });

  it.each([
    ['10b_广州门特费用范围标准_穗医保规字2019-4号.html', '广州市医疗保障局 广州市财政局 广州市卫生健康委员会关于印发广州市社会医疗保险统筹基金支付门诊特定病种费用范围及标准的通知'],
    ['11_公共租赁住房保障办法_穗府办规2024-13号.html', '广州市人民政府办公厅关于印发广州市公共租赁住房管理办法的通知'],
    ['15_创业担保贷款常见问题_2025.html', '创业担保贷款常见问题'],
  ])('%s: title hint is the notice title alone', async (name, title) => {
    const doc = await extractFile(path.join(dir, name));
    expect(doc.titleHint).toBe(title);
  });
});
