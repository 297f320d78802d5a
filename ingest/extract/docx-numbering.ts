/**
 * Automatic paragraph numbering of a DOCX (word/numbering.xml), rendered
 * the way Word shows it. Government templates often number headings
 * automatically ("一、", "（一）", "1.") through a list or a heading style; the
 * number is then not in the paragraph's text, and without it the structure
 * stage cannot see the headings.
 *
 * Counters follow Word: numbers that share an abstract definition share a
 * counter unless the number restarts it (w:startOverride); taking a level
 * resets the deeper ones. Bullets render as nothing: a "•" says nothing a
 * reader needs.
 */
import { attribute, childElements, childNamed, findElement, parseXml, type DomNode } from './dom.ts';

interface Level {
  start: number;
  format: string;
  text: string;
}

interface NumberingDefinition {
  /** Counter identity: the abstract definition, or the number itself when it restarts. */
  counterKey: string;
  levels: Map<number, Level>;
}

const CHINESE_DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/** 1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五. */
function chineseNumber(n: number): string {
  if (n <= 0 || n >= 10000) return String(n);
  const units = ['', '十', '百', '千'];
  const digits = String(n).split('').map(Number);
  let out = '';
  let zero = false;
  digits.forEach((digit, i) => {
    const unit = units[digits.length - 1 - i]!;
    if (digit === 0) {
      zero = out !== '';
      return;
    }
    if (zero) out += '零';
    zero = false;
    out += CHINESE_DIGITS[digit]! + unit;
  });
  return out.startsWith('一十') ? out.slice(1) : out;
}

function letters(n: number, upper: boolean): string {
  let out = '';
  for (let value = n; value > 0; value = Math.floor((value - 1) / 26)) {
    out = String.fromCharCode(97 + ((value - 1) % 26)) + out;
  }
  return upper ? out.toUpperCase() : out;
}

function roman(n: number): string {
  const table: Array<[number, string]> = [[1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'], [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I']];
  let out = '';
  let value = n;
  for (const [size, symbol] of table) {
    while (value >= size) {
      out += symbol;
      value -= size;
    }
  }
  return out;
}

function formatCounter(n: number, format: string): string {
  switch (format) {
    case 'chineseCounting':
    case 'chineseCountingThousand':
    case 'chineseLegalSimplified':
    case 'ideographTraditional':
    case 'japaneseCounting':
      return chineseNumber(n);
    case 'decimalEnclosedCircle':
    case 'decimalEnclosedCircleChinese':
      return n >= 1 && n <= 20 ? String.fromCodePoint(0x2460 + n - 1) : String(n);
    case 'decimalFullWidth':
    case 'decimalFullWidth2':
      return String(n).replace(/\d/g, (d) => String.fromCodePoint(0xff10 + Number(d)));
    case 'lowerLetter':
      return letters(n, false);
    case 'upperLetter':
      return letters(n, true);
    case 'lowerRoman':
      return roman(n).toLowerCase();
    case 'upperRoman':
      return roman(n);
    case 'decimalZero':
      return n < 10 ? `0${n}` : String(n);
    default:
      return String(n);
  }
}

function readLevels(container: DomNode): Map<number, Level> {
  const levels = new Map<number, Level>();
  for (const lvl of childElements(container).filter((c) => c.name === 'w:lvl')) {
    const ilvl = Number(attribute(lvl, 'w:ilvl') ?? 0);
    levels.set(ilvl, {
      start: Number(attribute(childNamed(lvl, 'w:start'), 'w:val') ?? 1),
      format: attribute(childNamed(lvl, 'w:numFmt'), 'w:val') ?? 'decimal',
      text: attribute(childNamed(lvl, 'w:lvlText'), 'w:val') ?? '',
    });
  }
  return levels;
}

export interface NumberReference {
  numId: string;
  ilvl: number;
}

/** The w:numPr of a paragraph or style properties, if any. */
export function numberReference(properties: DomNode | undefined): Partial<NumberReference> | undefined {
  const numPr = childNamed(properties, 'w:numPr');
  if (!numPr) return undefined;
  const numId = attribute(childNamed(numPr, 'w:numId'), 'w:val');
  const ilvl = attribute(childNamed(numPr, 'w:ilvl'), 'w:val');
  return { ...(numId !== undefined ? { numId } : {}), ...(ilvl !== undefined ? { ilvl: Number(ilvl) } : {}) };
}

/** Paragraph styles that number their paragraphs (Heading 1 → list 3, level 0), following w:basedOn. */
export function styleNumbering(stylesXml: string | undefined): Map<string, NumberReference> {
  const result = new Map<string, NumberReference>();
  if (!stylesXml) return result;
  const root = findElement(parseXml(stylesXml), 'w:styles');
  if (!root) return result;
  const own = new Map<string, { basedOn?: string; ref?: Partial<NumberReference> }>();
  for (const style of childElements(root).filter((c) => c.name === 'w:style')) {
    const id = attribute(style, 'w:styleId');
    if (!id) continue;
    const basedOn = attribute(childNamed(style, 'w:basedOn'), 'w:val');
    const ref = numberReference(childNamed(style, 'w:pPr'));
    own.set(id, { ...(basedOn ? { basedOn } : {}), ...(ref ? { ref } : {}) });
  }
  for (const id of own.keys()) {
    let numId: string | undefined;
    let ilvl: number | undefined;
    const seen = new Set<string>();
    for (let current: string | undefined = id; current && !seen.has(current); current = own.get(current)?.basedOn) {
      seen.add(current);
      const ref = own.get(current)?.ref;
      numId ??= ref?.numId;
      ilvl ??= ref?.ilvl;
    }
    if (numId !== undefined && numId !== '0') result.set(id, { numId, ilvl: ilvl ?? 0 });
  }
  return result;
}

export class ListNumbering {
  private readonly definitions = new Map<string, NumberingDefinition>();
  private readonly counters = new Map<string, number[]>();

  constructor(numberingXml: string | undefined) {
    if (!numberingXml) return;
    const root = findElement(parseXml(numberingXml), 'w:numbering');
    if (!root) return;
    const abstracts = new Map<string, Map<number, Level>>();
    for (const abstract of childElements(root).filter((c) => c.name === 'w:abstractNum')) {
      const id = attribute(abstract, 'w:abstractNumId');
      if (id !== undefined) abstracts.set(id, readLevels(abstract));
    }
    for (const num of childElements(root).filter((c) => c.name === 'w:num')) {
      const numId = attribute(num, 'w:numId');
      const abstractId = attribute(childNamed(num, 'w:abstractNumId'), 'w:val');
      if (numId === undefined || abstractId === undefined) continue;
      const levels = new Map(abstracts.get(abstractId) ?? []);
      let restarts = false;
      for (const override of childElements(num).filter((c) => c.name === 'w:lvlOverride')) {
        const ilvl = Number(attribute(override, 'w:ilvl') ?? 0);
        const startOverride = attribute(childNamed(override, 'w:startOverride'), 'w:val');
        const lvl = childNamed(override, 'w:lvl');
        const base = levels.get(ilvl) ?? { start: 1, format: 'decimal', text: '' };
        const replaced = lvl ? readLevels({ type: 'tag', name: 'w:abstractNum', children: [lvl] }).get(ilvl) ?? base : base;
        if (startOverride !== undefined) restarts = true;
        levels.set(ilvl, { ...replaced, ...(startOverride !== undefined ? { start: Number(startOverride) } : {}) });
      }
      this.definitions.set(numId, { counterKey: restarts ? `num:${numId}` : `abstract:${abstractId}`, levels });
    }
  }

  /** The rendered number for the next paragraph of this list level ("一、", "（二）", "1.2"), or '' for bullets and unknown lists. */
  next(ref: NumberReference): string {
    const definition = this.definitions.get(ref.numId);
    const level = definition?.levels.get(ref.ilvl);
    if (!definition || !level) return '';
    const counts = this.counters.get(definition.counterKey) ?? [];
    for (let i = 0; i < ref.ilvl; i++) {
      counts[i] ??= (definition.levels.get(i)?.start ?? 1) - 1;
    }
    counts[ref.ilvl] = (counts[ref.ilvl] ?? level.start - 1) + 1;
    counts.length = ref.ilvl + 1;
    this.counters.set(definition.counterKey, counts);
    if (level.format === 'bullet' || level.format === 'none') return '';
    return level.text.replace(/%(\d)/g, (_, digit: string) => {
      const index = Number(digit) - 1;
      const format = index === ref.ilvl ? level.format : definition.levels.get(index)?.format ?? 'decimal';
      return formatCounter(Math.max(1, counts[index] ?? 1), format);
    });
  }
}
