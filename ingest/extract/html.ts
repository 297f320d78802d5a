/**
 * HTML reader for government web pages: the notice, not the site around it.
 *
 * A page saved from a government portal is mostly chrome: navigation,
 * breadcrumbs, "分享到", QR codes, "打印本页 关闭窗口", and a footer with
 * 主办单位/版权所有/ICP备 lines. The article sits in a container whose name
 * the CMS gives away (TRS's #zoom/.TRS_Editor, the Guangzhou portal's
 * .content_article or .info_cont, …), so known containers are tried first;
 * pages from unknown templates fall back to text density: the element that
 * holds the most Chinese text outside links, scored the way Readability
 * scores paragraph parents. Inside the chosen container, share bars and
 * print buttons are still removed, and short lines that are pure chrome are
 * dropped.
 *
 * Lines are block-level paragraphs (p, div text, li, headings, split at
 * <br>); a table's rows are one line each with their column headings
 * (table.ts), except in a layout table (no two rows of two filled cells),
 * whose content is read as ordinary blocks. <caption> is the line before
 * the rows, where the structure stage looks for every format's caption.
 */
import { load, type CheerioAPI } from 'cheerio';
import { countHan, stripWhitespace } from '../../kb/text/text.ts';
import type { ParseLimits } from '../../kb/config.ts';
import type { ExtractedDocument, SourceLine } from '../../kb/types.ts';
import { IngestError } from '../errors.ts';
import { countReplacements, decodeText, isGbLabel, replacementWarning } from './decode.ts';
import { checkMarkupBounds, childElements, type DomNode } from './dom.ts';
import { isDataTable, tableLines } from './table.ts';
import { cleanContainerTitle } from './title.ts';

/** Known article containers of government CMSs, most specific first. */
const CONTENT_SELECTORS = [
  '#zoom', '#Zoom', '.TRS_Editor', '.trs_editor_view', '#UCAP-CONTENT', '.pages_content',
  '.article-content', '.content_article', '.info_cont', '.article_con', '.article-body', '.news_content', '.news-content',
  '.conNews', '.zw', '#zw', '.zwnr', '.xxgk_content', '.detail-content', '.detail_content', '#content', '.content', '.article',
];

/** Elements that never hold article text. */
const NON_CONTENT = 'script, style, noscript, template, iframe, svg, canvas, object, embed, map, select, button, input, textarea, link, meta, head';

/** Semantic page chrome, removed from the whole page when no known container was found. */
const CHROME_TAGS = 'nav, header, footer, aside, form';

/** class/id fragments of chrome blocks: menus, breadcrumbs, share bars, QR codes, footers, toolbars. */
const CHROME_NAME = /nav|menu|breadcrumb|crumb|curmb|location|position|share|fenxiang|ewm|qrcode|erweima|sidebar|footer|copyright|toolbar|gotop|backtop|back-top|friendlink|yqlj|search|banner|login|print|article-btn|article-attr|content_attr|content_extended|article-extended|content_others|relevant|related|xgwz|xglj|skip|quickbar|quick-bar|float|popbox|pagination|pager|fenye|pagenav|page-nav/i;

/** Phrases that mark a short line as site chrome wherever they appear in it. */
const CHROME_PHRASE = /ICP备|版权所有|Copyright|网站标识码|公网安备|公安备案|主办单位[：:]|承办单位[：:]|技术支持[：:]|扫一扫|分享到|打印本页|关闭窗口|字体大小|您当前的位置|当前位置[：:]|浏览次数[：:]|阅读次数[：:]|责任编辑[：:]|【\s*字体|字号[：:]\s*[【\[]?大/i;
/** Words that are chrome when a line consists of nothing else ("网站地图 | 联系我们"). */
const CHROME_WORD = /^(网站地图|联系我们|无障碍|无障碍浏览|适老化|长者模式|关怀版|繁體|繁体|繁体版|简体|简体版|English|打印|【打印】|关闭|【关闭】|收藏|返回顶部|返回|设为首页|加入收藏|登录|注册|首页|搜索|上一篇[：:]?.*|下一篇[：:]?.*|第一页|上一页|下一页|最后一页|尾页|末页|\d{1,3}|[【\[]?[大中小][】\]]?)$/i;
/** Headings a template prints at the end of every article, meaningful only with a list after them. */
const EMPTY_TRAILER = /^(相关附件|附件下载|相关文件下载|相关下载|相关链接|相关文件|附件)[：:]?$/;
/** Chrome lines are short; a body paragraph that mentions 版权所有 is not chrome. */
const CHROME_LINE_MAX = 80;

const BLOCK_TAGS = new Set([
  'p', 'div', 'section', 'article', 'main', 'header', 'footer', 'aside', 'nav', 'blockquote', 'pre', 'address', 'center',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th',
  'caption', 'figure', 'figcaption', 'hr', 'form', 'fieldset', 'legend', 'body', 'html',
]);

// ---------------------------------------------------------------------------
// Decoding

/** The charset a page declares in its first bytes (<meta charset> or http-equiv). */
function declaredCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 8192)).toString('latin1');
  return head.match(/<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)/i)?.[1];
}

function decoderFor(label: string): InstanceType<typeof TextDecoder> | undefined {
  try {
    return new TextDecoder(isGbLabel(label) ? 'gb18030' : label);
  } catch {
    return undefined;
  }
}

/**
 * Bytes that are valid UTF-8 are read as UTF-8 whatever the meta tag says:
 * pages saved through a browser or a crawler are re-encoded to UTF-8 but keep
 * their original `charset=gb2312`, while GBK text is practically never valid
 * UTF-8. Otherwise the declared charset decides (GB labels as GB18030, their
 * superset), and without one, GB18030.
 */
function decodeHtml(bytes: Uint8Array): { text: string; encoding: string; replaced: number } {
  const sniffed = decodeText(bytes);
  if (sniffed.encoding !== 'gb18030') return sniffed;
  const charset = declaredCharset(bytes);
  const decoder = charset ? decoderFor(charset) : undefined;
  if (!decoder) return sniffed;
  const text = decoder.decode(bytes);
  return { text, encoding: decoder.encoding, replaced: countReplacements(text) };
}

// ---------------------------------------------------------------------------
// Title

/** Site-name suffixes: "…的通知 - 广州市人民政府门户网站", "…_广州市人民政府", "…-广州市人力资源和社会保障局网站". */
const SITE_SUFFIX = /^(.{4,}?)\s*[-_|–—]+\s*([^-_|–—]{2,40})$/u;
const SITE_NAME = /(网站|门户|网|政府|平台|频道|官网|局|委|厅|办|中心|委员会|gov\.cn)$/u;

function stripSiteSuffix(title: string): string {
  let result = title.trim();
  for (let i = 0; i < 3; i++) {
    const match = result.match(SITE_SUFFIX);
    if (!match || !SITE_NAME.test(match[2]!.trim())) break;
    result = match[1]!.trim();
  }
  return result;
}

function pageTitle($: CheerioAPI): string | undefined {
  const candidates = [
    $('meta[name="ArticleTitle"]').attr('content'),
    $('meta[property="og:title"]').attr('content'),
    $('title').first().text(),
  ];
  for (const candidate of candidates) {
    // "（转载）" marks a page republished from another site; it is not part of the document's title.
    const title = cleanContainerTitle(candidate ? stripSiteSuffix(candidate.replace(/\s+/g, ' ')).replace(/^[（(【[]转载[）)】\]]\s*/u, '') : undefined);
    if (title) return title;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Finding the article

function isChromeElement(node: DomNode): boolean {
  const id = node.attribs?.id ?? '';
  const cls = node.attribs?.class ?? '';
  if (id && CHROME_NAME.test(id)) return true;
  return cls.split(/\s+/).some((token) => token !== '' && CHROME_NAME.test(token));
}

function isHidden(node: DomNode): boolean {
  const style = stripWhitespace(node.attribs?.style ?? '').toLowerCase();
  return style.includes('display:none') || style.includes('visibility:hidden') || node.attribs?.hidden !== undefined;
}

/** Chinese characters of the element's text, counting link text separately. */
function textStats(node: DomNode): { text: number; link: number } {
  let text = 0;
  let link = 0;
  const walk = (current: DomNode, inLink: boolean): void => {
    for (const child of current.children ?? []) {
      if (child.type === 'text') {
        const n = countHan(child.data ?? '');
        text += n;
        if (inLink) link += n;
      } else if (child.type === 'tag') {
        walk(child, inLink || child.name === 'a');
      }
    }
  };
  walk(node, false);
  return { text, link };
}

/** Minimum Chinese characters outside links for a container to count as the article. */
const MIN_ARTICLE_CHARS = 30;

function knownContainer($: CheerioAPI): DomNode | undefined {
  for (const selector of CONTENT_SELECTORS) {
    let best: DomNode | undefined;
    let bestChars = 0;
    for (const element of $(selector).toArray() as unknown as DomNode[]) {
      const { text, link } = textStats(element);
      // A container that is mostly links is a list page or a menu, not an article.
      if (text - link > bestChars && link < text * 0.5) {
        best = element;
        bestChars = text - link;
      }
    }
    if (best && bestChars >= MIN_ARTICLE_CHARS) return best;
  }
  return undefined;
}

/**
 * Readability-style density: every leaf block's Chinese text outside links
 * scores its parent fully and its grandparent by half; the best-scoring
 * element is the article.
 */
function densestContainer(root: DomNode): DomNode | undefined {
  const scores = new Map<DomNode, number>();
  const visit = (node: DomNode): void => {
    for (const child of childElements(node)) {
      const name = child.name ?? '';
      const hasBlockChild = childElements(child).some((c) => BLOCK_TAGS.has(c.name ?? ''));
      if (BLOCK_TAGS.has(name) && !hasBlockChild) {
        const { text, link } = textStats(child);
        const own = text - link;
        if (own >= 10) {
          const parent = child.parent ?? undefined;
          if (parent) scores.set(parent, (scores.get(parent) ?? 0) + own);
          const grandparent = parent?.parent ?? undefined;
          if (grandparent) scores.set(grandparent, (scores.get(grandparent) ?? 0) + own / 2);
        }
      }
      visit(child);
    }
  };
  visit(root);
  let best: DomNode | undefined;
  let bestScore = 0;
  for (const [node, score] of scores) {
    if (node.type !== 'tag') continue;
    if (score > bestScore) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------
// Lines

function collapse(text: string): string {
  return text.replace(/[ \t\n\r\f\u00a0\u3000\u200b\ufeff]+/g, ' ');
}

class LineBuilder {
  readonly lines: SourceLine[] = [];
  private current = '';
  /** Tables read so far: the next one's number. */
  tables = 0;

  text(value: string): void {
    this.current += collapse(value);
  }

  break(): void {
    const line = this.current.trim();
    if (line) this.lines.push({ text: line });
    this.current = '';
  }

  table(lines: SourceLine[]): void {
    this.break();
    this.lines.push(...lines);
  }
}

/** Chrome tags removed inside a chosen article too; a <header> there is the article's own heading block. */
const ARTICLE_CHROME_TAGS = new Set(['nav', 'aside', 'form', 'footer']);

function isRemovable(node: DomNode): boolean {
  return isHidden(node) || isChromeElement(node) || ARTICLE_CHROME_TAGS.has(node.name ?? '');
}

/** Text of a table cell as one line: its blocks joined by spaces. */
function cellText(cell: DomNode): string {
  const builder = new LineBuilder();
  walkBlocks(cell, builder);
  builder.break();
  return builder.lines.map((line) => line.text).join(' ');
}

/** Rows of this table, not of a table nested in one of its cells. */
function tableRows(table: DomNode): DomNode[] {
  return childElements(table).flatMap((child) =>
    child.name === 'tr' ? [child] : ['thead', 'tbody', 'tfoot'].includes(child.name ?? '') ? childElements(child).filter((row) => row.name === 'tr') : []);
}

function span(cell: DomNode): number {
  const value = Number(cell.attribs?.colspan);
  return Number.isInteger(value) && value > 1 && value < 64 ? value : 1;
}

function walkTable(table: DomNode, builder: LineBuilder): void {
  const rows = tableRows(table);
  const cells = rows.map((row) => childElements(row).filter((cell) => (cell.name === 'td' || cell.name === 'th') && !isRemovable(cell)));
  const grid = cells.map((row) => row.flatMap((cell) => {
    const text = cellText(cell);
    return [text, ...Array<string>(span(cell) - 1).fill(text)];
  }));
  if (!isDataTable(grid)) {
    // A layout table: a one-cell row is a page region, read as blocks; a lone row of cells stays one line.
    cells.forEach((row, index) => {
      const texts = grid[index]!.filter((text) => text !== '');
      builder.break();
      if (texts.length === 1) walkBlocks(row.find((cell) => cellText(cell) !== '')!, builder);
      else if (texts.length > 1) builder.text(texts.join(' | '));
      builder.break();
    });
    return;
  }
  const caption = childElements(table).find((child) => child.name === 'caption');
  if (caption) {
    builder.break();
    walkBlocks(caption, builder);
    builder.break();
  }
  // Heading rows: those in <thead>, or leading rows made only of <th>.
  const inHead = (row: DomNode) => row.parent?.name === 'thead';
  let headerRows = 0;
  while (headerRows < rows.length && (inHead(rows[headerRows]!) || cells[headerRows]!.every((cell) => cell.name === 'th'))) headerRows++;
  builder.table(tableLines({ rows: grid, headerRows: headerRows > 0 ? headerRows : 'guess' }, builder.tables++));
}

function walkBlocks(node: DomNode, builder: LineBuilder): void {
  for (const child of node.children ?? []) {
    if (child.type === 'text') {
      builder.text(child.data ?? '');
      continue;
    }
    if (child.type !== 'tag') continue;
    if (isRemovable(child)) continue;
    const name = child.name ?? '';
    if (name === 'br') {
      builder.break();
    } else if (name === 'table') {
      walkTable(child, builder);
    } else if (BLOCK_TAGS.has(name)) {
      builder.break();
      walkBlocks(child, builder);
      builder.break();
    } else {
      walkBlocks(child, builder);
    }
  }
}

function isChromeLine(line: string): boolean {
  if (line.length > CHROME_LINE_MAX) return false;
  if (CHROME_PHRASE.test(line)) return true;
  const parts = line.split(/[\s|｜丨/·•]+/u).filter(Boolean);
  return parts.length > 0 && parts.every((part) => CHROME_WORD.test(part));
}

// ---------------------------------------------------------------------------

export function extractHtml(bytes: Uint8Array, file: string, limits: Pick<ParseLimits, 'maxDepth' | 'maxNodes'>): ExtractedDocument {
  const decoded = decodeHtml(bytes);
  const html = decoded.text;
  if (!html.trim()) throw new IngestError(file, '文件为空（empty file）');
  checkMarkupBounds(html, limits, file, true);
  const $ = load(html);
  const titleHint = pageTitle($);
  $(NON_CONTENT).remove();

  let container = knownContainer($);
  if (!container) {
    $(CHROME_TAGS).remove();
    for (const element of $('[class], [id]').toArray() as unknown as DomNode[]) {
      if (isChromeElement(element) && element.name !== 'body' && element.name !== 'html') $(element as never).remove();
    }
    container = densestContainer($.root()[0] as unknown as DomNode) ?? ($('body')[0] as unknown as DomNode | undefined);
  }
  const builder = new LineBuilder();
  if (container) walkBlocks(container, builder);
  builder.break();

  const lines = builder.lines.filter((line) => line.table || !isChromeLine(line.text));
  // CMS templates print an attachments heading even when the list under it is empty.
  while (lines.length > 0 && EMPTY_TRAILER.test(lines[lines.length - 1]!.text)) lines.pop();
  const warnings = replacementWarning(decoded);
  if (lines.length === 0) {
    throw new IngestError(file, '网页中没有找到正文（no article text in the page）');
  }
  const result: ExtractedDocument = {
    format: 'html',
    paged: false,
    linesAreParagraphs: true,
    pages: [{ number: 1, lines }],
    warnings,
  };
  if (titleHint) result.titleHint = titleHint;
  return result;
}
