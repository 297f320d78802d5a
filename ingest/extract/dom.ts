/**
 * The parsed-markup tree cheerio (htmlparser2/domhandler) builds, as the
 * structural subset the DOCX and HTML readers walk. domhandler's own types
 * are not re-exported by cheerio and it is not a direct dependency.
 */
import { load } from 'cheerio';

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
