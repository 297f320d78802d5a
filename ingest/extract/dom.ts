/**
 * The parsed-markup tree cheerio (htmlparser2/domhandler) builds, as the
 * structural subset the DOCX and HTML readers walk. domhandler's own types
 * are not re-exported by cheerio and it is not a direct dependency.
 */
import { load } from 'cheerio';
import type { ParseLimits } from '../../kb/config.ts';
import { IngestError } from '../errors.ts';

export interface DomNode {
  /** 'tag', 'script', 'style', 'text', 'comment', 'cdata', 'root', 'directive'. */
  type: string;
  name?: string;
  data?: string;
  attribs?: Record<string, string>;
  children?: DomNode[];
  parent?: DomNode | null;
}

function isElement(node: DomNode): boolean {
  return node.type === 'tag' || node.type === 'script' || node.type === 'style';
}

export function childElements(node: DomNode): DomNode[] {
  return (node.children ?? []).filter(isElement);
}

/** The first child element with this name. */
export function childNamed(node: DomNode | undefined, name: string): DomNode | undefined {
  return node ? childElements(node).find((c) => c.name === name) : undefined;
}

export function attribute(node: DomNode | undefined, name: string): string | undefined {
  return node?.attribs?.[name];
}

/** The text directly inside an element (its text children, entities decoded by the parser). */
export function ownText(node: DomNode): string {
  return (node.children ?? []).map((child) => (child.type === 'text' ? child.data ?? '' : '')).join('');
}

/** Parse XML keeping `w:p`-style prefixed names as they are. */
export function parseXml(xml: string): DomNode {
  const $ = load(xml, { xml: { xmlMode: true, decodeEntities: true } });
  return $.root()[0] as unknown as DomNode;
}

/** Depth-first search for the first element with this name. */
export function findElement(node: DomNode, name: string): DomNode | undefined {
  for (const child of node.children ?? []) {
    if (child.name === name) return child;
    const found = findElement(child, name);
    if (found) return found;
  }
  return undefined;
}

/** Elements that never have children in HTML. */
const HTML_VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr', 'frame', 'keygen']);
/** HTML elements whose end tag may be left out: the parser closes them, so an unclosed one adds no depth. */
const HTML_OPTIONAL_END = new Set(['p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option', 'optgroup', 'thead', 'tbody', 'tfoot', 'colgroup', 'caption', 'rb', 'rt', 'rp', 'html', 'head', 'body']);

/**
 * Refuse markup nested deeper, or with more elements, than the limits,
 * measured on the source in one linear scan before any parser sees it:
 * parse5 takes quadratic time on deep nesting (40,000 nested <div>s: 25 s,
 * measured), 200,000 nested DOCX runs overflowed the stack of the recursive
 * readers, and the HTML reader's chrome removal is quadratic in depth.
 */
export function checkMarkupBounds(markup: string, limits: Pick<ParseLimits, 'maxDepth' | 'maxNodes'>, file: string, html: boolean): void {
  const tag = /<(\/?)([A-Za-z][^\s/>]*)[^>]*>/g;
  let depth = 0;
  let elements = 0;
  for (let match = tag.exec(markup); match; match = tag.exec(markup)) {
    const name = html ? match[2]!.toLowerCase() : match[2]!;
    if (match[1]) {
      if (!(html && HTML_OPTIONAL_END.has(name)) && depth > 0) depth--;
      continue;
    }
    if (++elements > limits.maxNodes) {
      throw new IngestError(file, `元素超过 ${limits.maxNodes} 个上限（KB_PARSE_MAX_NODES; too many elements）`);
    }
    if (match[0].endsWith('/>') || (html && (HTML_VOID.has(name) || HTML_OPTIONAL_END.has(name)))) continue;
    if (html && (name === 'script' || name === 'style')) {
      // Raw text: a '<div>' inside a script string is not an element.
      const close = name === 'script' ? /<\/script/gi : /<\/style/gi;
      close.lastIndex = tag.lastIndex;
      tag.lastIndex = close.exec(markup)?.index ?? markup.length;
      continue;
    }
    if (++depth > limits.maxDepth) {
      throw new IngestError(file, `元素嵌套超过 ${limits.maxDepth} 层上限（KB_PARSE_MAX_DEPTH; nesting too deep）`);
    }
  }
}
