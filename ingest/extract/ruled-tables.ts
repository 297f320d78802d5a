/**
 * Tables on a laid-out page (PDF, OCR'd scan): the ruling lines draw the
 * grid, the text runs fill its cells.
 *
 * A PDF has no table object: Word and WPS export a table as text runs plus
 * the strokes or thin filled rectangles of its borders, and a scan has only
 * pixels. Both become axis-aligned segments in page points (from the
 * operator list, or from long dark pixel runs in the rendered page); segments
 * that cross each other form a grid; each text run goes to the cell its
 * centre falls in. A grid that holds no two rows of two filled cells (a box
 * around a note, the red 版头 rule) gives its runs back to the page.
 */
import type { SourceLine } from '../../kb/types.ts';
import { stripWhitespace } from '../../kb/text/text.ts';
import { isPageNumberLine, joinLines, meanConfidence } from '../clean.ts';
import { baselineGroups, buildLines, inkCentre, round, type PlacedItem } from './layout.ts';
import type { RasterImage } from './ocr/pool.ts';
import { gridHeadings, isDataTable, tableLines, type TableGrid } from './table.ts';

/** An axis-aligned ruling line in page points (y grows downwards). */
export interface Segment {
  axis: 'h' | 'v';
  /** y of a horizontal line, x of a vertical one. */
  at: number;
  from: number;
  to: number;
}

/** Points two ruling lines may miss each other by and still meet (borders drawn as separate strokes overlap or fall short by a line width). */
const MEET = 2.5;
/** Shorter than this, a stroke is a glyph's part or a dash, not a border. */
const MIN_SEGMENT = 6;
/** A filled rectangle thinner than this is a line (how Word exports cell borders). */
const THIN = 3;

type Matrix = [number, number, number, number, number, number];

function apply(m: Matrix, x: number, y: number): [number, number] {
  return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
}

function multiply(a: Matrix, b: Matrix): Matrix {
  return [
    a[0] * b[0] + a[2] * b[1], a[1] * b[0] + a[3] * b[1],
    a[0] * b[2] + a[2] * b[3], a[1] * b[2] + a[3] * b[3],
    a[0] * b[4] + a[2] * b[5] + a[4], a[1] * b[4] + a[3] * b[5] + a[5],
  ];
}

function segmentBetween(a: [number, number], b: [number, number]): Segment | undefined {
  const [x0, y0] = a;
  const [x1, y1] = b;
  if (Math.abs(y0 - y1) < 0.5 && Math.abs(x1 - x0) >= MIN_SEGMENT) return { axis: 'h', at: (y0 + y1) / 2, from: Math.min(x0, x1), to: Math.max(x0, x1) };
  if (Math.abs(x0 - x1) < 0.5 && Math.abs(y1 - y0) >= MIN_SEGMENT) return { axis: 'v', at: (x0 + x1) / 2, from: Math.min(y0, y1), to: Math.max(y0, y1) };
  return undefined;
}

/** A closed four-corner axis-aligned path: a thin one is a line, a larger one its four edges. */
function rectangleSegments(points: Array<[number, number]>): Segment[] | undefined {
  if (points.length < 4 || points.length > 5) return undefined;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const left = Math.min(...xs);
  const right = Math.max(...xs);
  const top = Math.min(...ys);
  const bottom = Math.max(...ys);
  const corners = points.every(([x, y]) => (Math.abs(x - left) < 0.5 || Math.abs(x - right) < 0.5) && (Math.abs(y - top) < 0.5 || Math.abs(y - bottom) < 0.5));
  if (!corners) return undefined;
  const width = right - left;
  const height = bottom - top;
  if (height < THIN && width >= MIN_SEGMENT) return [{ axis: 'h', at: (top + bottom) / 2, from: left, to: right }];
  if (width < THIN && height >= MIN_SEGMENT) return [{ axis: 'v', at: (left + right) / 2, from: top, to: bottom }];
  if (width < MIN_SEGMENT || height < MIN_SEGMENT) return [];
  return [
    { axis: 'h', at: top, from: left, to: right },
    { axis: 'h', at: bottom, from: left, to: right },
    { axis: 'v', at: left, from: top, to: bottom },
    { axis: 'v', at: right, from: top, to: bottom },
  ];
}

/** pdf.js's path-drawing codes inside constructPath's data (DrawOPS). */
const DRAW = { moveTo: 0, lineTo: 1, curveTo: 2, quadraticCurveTo: 3, closePath: 4 } as const;

export interface OperatorList {
  fnArray: number[];
  argsArray: unknown[];
}

/**
 * The painted axis-aligned lines of a page, in viewport points. Clipping
 * paths (ending in endPath) paint nothing and are skipped; so are rectangles
 * covering most of the page (a background, a page frame).
 */
export function rulingSegments(ops: Record<string, number>, list: OperatorList, viewportTransform: number[], pageArea: number): Segment[] {
  const painting = new Set(['stroke', 'closeStroke', 'fill', 'eoFill', 'fillStroke', 'eoFillStroke', 'closeFillStroke', 'closeEOFillStroke'].map((name) => ops[name]));
  const segments: Segment[] = [];
  let ctm: Matrix = [1, 0, 0, 1, 0, 0];
  const stack: Matrix[] = [];
  for (let i = 0; i < list.fnArray.length; i++) {
    const fn = list.fnArray[i]!;
    if (fn === ops.save) stack.push(ctm);
    else if (fn === ops.restore) ctm = stack.pop() ?? ctm;
    else if (fn === ops.transform) ctm = multiply(ctm, list.argsArray[i] as Matrix);
    else if (fn === ops.constructPath) {
      const [paint, [data]] = list.argsArray[i] as [number, [ArrayLike<number> | null]];
      if (!painting.has(paint) || !data) continue;
      const toPage = multiply(viewportTransform as Matrix, ctm);
      let subpath: Array<[number, number]> = [];
      const flush = (closed: boolean) => {
        const rectangle = closed || subpath.length === 5 ? rectangleSegments(subpath) : undefined;
        if (rectangle) {
          const xs = subpath.map((p) => p[0]);
          const ys = subpath.map((p) => p[1]);
          if ((Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys)) < pageArea * 0.5) segments.push(...rectangle);
        } else {
          for (let k = 1; k < subpath.length; k++) {
            const segment = segmentBetween(subpath[k - 1]!, subpath[k]!);
            if (segment) segments.push(segment);
          }
        }
        subpath = [];
      };
      for (let k = 0; k < data.length;) {
        const code = data[k++];
        if (code === DRAW.moveTo) {
          if (subpath.length > 0) flush(false);
          subpath.push(apply(toPage, data[k]!, data[k + 1]!));
          k += 2;
        } else if (code === DRAW.lineTo) {
          subpath.push(apply(toPage, data[k]!, data[k + 1]!));
          k += 2;
        } else if (code === DRAW.curveTo) {
          // A curve is no border; what came before it still may be.
          flush(false);
          k += 6;
        } else if (code === DRAW.quadraticCurveTo) {
          flush(false);
          k += 4;
        } else if (code === DRAW.closePath) {
          if (subpath.length > 0) subpath.push(subpath[0]!);
          flush(true);
        } else {
          break;
        }
      }
      if (subpath.length > 0) flush(false);
    }
  }
  return segments;
}

/** A pixel darker than this (0–255 luminance) is ink; table borders on a scan are black or grey. */
const INK = 160;
/**
 * A pixel whose channels differ by more than this is colour, never a border:
 * the red seal and the red watermark across the GB/T 15834 scan made grids
 * of its text (11 "table rows" of one character per cell on pages 7–22).
 */
const COLOURED = 80;
/** A ruling line on a scan is at least this share of the page wide (horizontal) or this many points long (vertical). */
const RASTER_MIN_H_SHARE = 0.15;
const RASTER_MIN_V_POINTS = 20;

/**
 * Ruling lines of a rendered page: runs of ink pixels along a row (or a
 * column) long enough to be a border, not a stroke of a glyph. A border two
 * or three pixels thick gives adjacent runs; they merge when the grid is
 * built. `pixelsPerPoint` is the scale the page was rendered at.
 */
export function rasterSegments(image: RasterImage, pixelsPerPoint: number): Segment[] {
  const { width, height, channels, data } = image;
  const ink = new Uint8Array(width * height);
  for (let p = 0, i = 0; p < width * height; p++, i += channels) {
    const luminance = channels >= 3 ? (data[i]! * 299 + data[i + 1]! * 587 + data[i + 2]! * 114) / 1000 : data[i]!;
    const opaque = channels === 4 ? data[i + 3]! > 128 : true;
    const colour = channels >= 3 ? Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!) : 0;
    ink[p] = opaque && luminance < INK && colour <= COLOURED ? 1 : 0;
  }
  const segments: Segment[] = [];
  // Runs of ink along each line of pixels: rows (across the width) for horizontal rules, columns for vertical ones.
  const scan = (axis: Segment['axis'], lines: number, length: number, pixel: (line: number, along: number) => number, min: number) => {
    for (let line = 0; line < lines; line++) {
      let run = 0;
      for (let along = 0; along <= length; along++) {
        if (along < length && ink[pixel(line, along)]) {
          run++;
          continue;
        }
        if (run >= min) segments.push({ axis, at: line / pixelsPerPoint, from: (along - run) / pixelsPerPoint, to: along / pixelsPerPoint });
        run = 0;
      }
    }
  };
  scan('h', height, width, (y, x) => y * width + x, width * RASTER_MIN_H_SHARE);
  scan('v', width, height, (x, y) => y * width + x, RASTER_MIN_V_POINTS * pixelsPerPoint);
  return segments;
}

/** Collinear segments that touch or overlap become one (a border drawn cell by cell, a 3-pixel-thick scan line). */
function mergeSegments(segments: Segment[]): Segment[] {
  const sorted = [...segments].sort((a, b) => a.at - b.at || a.from - b.from);
  const out: Segment[] = [];
  for (const segment of sorted) {
    const match = out.find((s) => s.axis === segment.axis && Math.abs(s.at - segment.at) <= MEET / 2 && segment.from <= s.to + MEET && segment.to >= s.from - MEET);
    if (match) {
      match.from = Math.min(match.from, segment.from);
      match.to = Math.max(match.to, segment.to);
    } else {
      out.push({ ...segment });
    }
  }
  return out;
}

function meets(h: Segment, v: Segment): boolean {
  return v.at >= h.from - MEET && v.at <= h.to + MEET && h.at >= v.from - MEET && h.at <= v.to + MEET;
}

/** Sorted distinct positions, those closer than `gap` taken as one. */
function boundaries(values: number[], gap: number): number[] {
  const out: number[] = [];
  for (const value of [...values].sort((a, b) => a - b)) {
    if (out.length === 0 || value - out[out.length - 1]! > gap) out.push(value);
  }
  return out;
}

interface Grid {
  left: number;
  right: number;
  top: number;
  bottom: number;
  rows: number[];
  columns: number[];
}

/** Groups of horizontal and vertical lines (merged: mergeSegments) that cross each other: at least two of each make a grid. */
function grids(merged: Segment[]): Grid[] {
  const hs = merged.filter((s) => s.axis === 'h');
  const vs = merged.filter((s) => s.axis === 'v');
  const parent = merged.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const index = new Map(merged.map((s, i) => [s, i]));
  for (const h of hs) for (const v of vs) if (meets(h, v)) parent[find(index.get(h)!)] = find(index.get(v)!);
  const groups = new Map<number, Segment[]>();
  merged.forEach((s, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), s]);
  });
  const out: Grid[] = [];
  for (const group of groups.values()) {
    const gh = group.filter((s) => s.axis === 'h');
    const gv = group.filter((s) => s.axis === 'v');
    if (gh.length < 2 || gv.length < 2) continue;
    const rows = boundaries(gh.map((s) => s.at), MEET * 2);
    const columns = boundaries(gv.map((s) => s.at), MEET * 2);
    if (rows.length < 2 || columns.length < 2) continue;
    out.push({ left: columns[0]!, right: columns[columns.length - 1]!, top: rows[0]!, bottom: rows[rows.length - 1]!, rows, columns });
  }
  return out;
}

/** Where a band of boundaries puts a value: the index of the band it falls in, or -1 outside. */
function band(edges: number[], value: number): number {
  for (let i = 0; i + 1 < edges.length; i++) if (value >= edges[i]! && value < edges[i + 1]!) return i;
  return -1;
}

/** A cell's runs as one text: its visual lines in order, rejoined as the cleaning stage rejoins a paragraph. */
function cellText(items: PlacedItem[]): string {
  return buildLines(items).reduce((text, line) => joinLines(text, line.text), '');
}

/**
 * A run that crosses a column border is two cells' text read as one: OCR's
 * detector joins boxes on one baseline across a thin border ("…经费的" in one
 * cell, "前者“请示”…" in the next). It is cut where the border falls, by
 * character count — Chinese is set on an even grid of ems.
 */
function splitAtColumns(item: PlacedItem, grid: Pick<Grid, 'top' | 'bottom' | 'columns'>): PlacedItem[] {
  const cy = inkCentre(item.y, item.fontSize);
  if (cy < grid.top || cy > grid.bottom) return [item];
  const chars = [...item.text];
  const margin = item.fontSize * 0.5;
  const borders = grid.columns.slice(1, -1).filter((c) => item.x < c - margin && item.right > c + margin);
  if (borders.length === 0 || chars.length < 2) return [item];
  const pieces: PlacedItem[] = [];
  let from = 0;
  let left = item.x;
  for (const border of [...borders, item.right]) {
    const to = border === item.right ? chars.length : Math.round((chars.length * (border - item.x)) / (item.right - item.x));
    if (to > from) pieces.push({ ...item, text: chars.slice(from, to).join(''), x: left, right: border });
    from = Math.max(from, to);
    left = border;
  }
  return pieces;
}

export interface PlacedTables {
  /** Runs outside every table: the page's ordinary text. */
  rest: PlacedItem[];
  /** One line per table row, positioned at the row, marked with its table. */
  lines: SourceLine[];
}

/** The page a reader places tables on: its number (continuations are between consecutive pages) and size in points. */
export interface TablePage {
  number: number;
  width: number;
  height: number;
  /**
   * The page's own lines when only a part of it is being read (a picture on a
   * text page): text of the page above that part's table means the table
   * cannot continue the one the page before left open.
   */
  linesAround?: SourceLine[];
}

/** A table that ran to the foot of its page: the next page may continue it. */
interface OpenTable {
  page: number;
  table: number;
  /** Centres of its columns, in points. */
  centres: number[];
  headings: string[];
  /** Its heading row as printed, to recognise the row when the next page repeats it. */
  headerRow: string[];
  /** A three-line table's width: its continuation may have no rule at all until its bottom one. */
  extent?: { left: number; right: number };
}

/**
 * Tables numbered in document order, and the table left open at the foot of
 * a page, so that its continuation on the next page keeps its number, its
 * column headings and its caption. A reader may place a page's tables twice
 * (its text layer, then its OCR): the later reading of a page replaces what
 * the earlier one left open.
 */
export class TableSequence {
  private count = 0;
  private readonly open = new Map<number, OpenTable>();

  next(): number {
    return this.count++;
  }

  /** The table the page before this one left open. */
  openBefore(page: number): OpenTable | undefined {
    return this.open.get(page - 1);
  }

  /** What this page has left open so far (a second reading of part of the page may have to give it back). */
  leftOpen(page: number): Omit<OpenTable, 'page'> | undefined {
    return this.open.get(page);
  }

  /** What this page leaves open: its last table when nothing but page furniture follows it. */
  leave(page: number, open: Omit<OpenTable, 'page'> | undefined): void {
    for (const earlier of this.open.keys()) if (earlier < page - 1) this.open.delete(earlier);
    if (open) this.open.set(page, { page, ...open });
    else this.open.delete(page);
  }
}

/** Where a table's rows and columns fall on the page; rows are bands between rules, or `lines` when only text lines divide them. */
interface Frame {
  left: number;
  right: number;
  top: number;
  bottom: number;
  columns: number[];
  rows: number[] | 'lines';
  /** Rows above this y are column headings (a three-line table's middle rule). */
  headerBottom?: number;
}

/** Horizontal rules of one extent (each end within this share of its width) belong to one three-line table. */
const RULE_EXTENT_SHARE = 0.04;
/** Text runs closer than this many ems belong to one column of a three-line table. */
const COLUMN_GAP_EMS = 1.2;

/**
 * Three-line tables (三线表): a top rule, a rule under the column headings
 * and a bottom rule, all of one width, and no vertical lines. The columns are
 * where the text of the body rows leaves gaps; a body line whose first column
 * is empty continues the row above (a wrapped cell). More rules of the same
 * width between them divide the rows instead.
 *
 * Across a page break Writer and Word draw no rule: the page's part ends at
 * the foot of the page without its bottom rule, and the next page's part
 * starts either with the heading row repeated between its two rules or, when
 * the heading row does not repeat, with no rule at all until the bottom one.
 * `open` is the extent of the three-line table the page before left open.
 */
function ruleOnlyFrames(merged: Segment[], items: PlacedItem[], page: TablePage, open: { left: number; right: number } | undefined): Frame[] {
  const vs = merged.filter((s) => s.axis === 'v');
  const free = merged.filter((s) => s.axis === 'h' && !vs.some((v) => meets(s, v))).sort((a, b) => a.at - b.at);
  const pageTop = page.height * RUNNING_HEADER_SHARE;
  const pageFoot = page.height * (1 - RUNNING_HEADER_SHARE);
  const inBand = (item: PlacedItem, from: number, to: number, left: number, right: number) => {
    const cy = inkCentre(item.y, item.fontSize);
    const cx = (item.x + item.right) / 2;
    return cy > from && cy < to && cx > left - MEET && cx < right + MEET && item.text.trim() !== '';
  };
  const frames: Frame[] = [];
  const sameExtent = (s: Segment, left: number, right: number) => {
    const tolerance = (right - left) * RULE_EXTENT_SHARE;
    return Math.abs(s.from - left) <= tolerance && Math.abs(s.to - right) <= tolerance;
  };
  if (open) {
    // The open table's rows before the first rule of its width (its bottom rule, or the next page's part's top rule).
    const first = free.find((s) => sameExtent(s, open.left, open.right));
    const bottom = first?.at ?? pageFoot;
    const body = items.filter((item) => inBand(item, pageTop, bottom, open.left, open.right));
    const columns = textColumns(body, open.left, open.right);
    if (body.length > 0 && columns.length >= 3) frames.push({ left: open.left, right: open.right, top: pageTop, bottom, columns, rows: 'lines' });
  }
  const used = new Set<Segment>(frames.length > 0 ? free.filter((s) => Math.abs(s.at - frames[0]!.bottom) <= MEET) : []);
  for (const top of free) {
    if (used.has(top) || (frames[0] && top.at < frames[0].bottom - MEET)) continue;
    const rules = free.filter((s) => !used.has(s) && s.at >= top.at && sameExtent(s, top.from, top.to));
    const edges = boundaries(rules.map((s) => s.at), MEET * 2);
    // A part cut by the page break has no bottom rule: its rows run to the foot of the page.
    if (edges.length === 2) edges.push(pageFoot);
    if (edges.length < 3) continue;
    for (const rule of rules) used.add(rule);
    const left = Math.min(...rules.map((s) => s.from));
    const right = Math.max(...rules.map((s) => s.to));
    const [first, header] = [edges[0]!, edges[1]!];
    const bottom = edges[edges.length - 1]!;
    const body = items.filter((item) => inBand(item, header, bottom, left, right));
    const columns = textColumns(body, left, right);
    if (columns.length < 3 || !items.some((item) => inBand(item, first, header, left, right))) continue;
    frames.push({ left, right, top: first, bottom, columns, rows: edges.length > 3 ? edges : 'lines', headerBottom: header });
  }
  return frames;
}

/** Column boundaries where the runs leave vertical gaps: left edge, a border midway in each gap, right edge. */
function textColumns(items: PlacedItem[], left: number, right: number): number[] {
  const spans = items.map((item) => [item.x, item.right, item.fontSize] as const).sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [from, to, size] of spans) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1] + size * COLUMN_GAP_EMS) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  const borders = merged.slice(1).map(([from], i) => (merged[i]![1] + from) / 2);
  return [Math.min(left, merged[0]?.[0] ?? left), ...borders, Math.max(right, merged[merged.length - 1]?.[1] ?? right)];
}

/** A borderless grid needs this share of its body lines (and at least two) to fill two columns or more: wrapped cells fill one. */
const GRID_LINE_SHARE = 1 / 3;

/**
 * The rules a table without any would have, when the runs form a grid: the
 * first line fills two columns or more (the column headings) and so do enough
 * of the lines below it, the columns being where those lines leave vertical
 * gaps. A top rule, a rule under the first line and a bottom rule make it a
 * three-line table, read as one (a body line with its first column empty
 * continues the row above). Prose — one column, however many lines — gives
 * none. For text that has no rules of its own to show: a picture of a table
 * (OCR boxes).
 */
export function borderlessTableRules(items: PlacedItem[]): Segment[] {
  const lines = baselineGroups(items.filter((item) => item.text.trim() !== ''));
  if (lines.length < 3) return [];
  const left = Math.min(...items.map((item) => item.x)) - MEET;
  const right = Math.max(...items.map((item) => item.right)) + MEET;
  const [header, ...body] = lines;
  const columns = textColumns(body.flat(), left, right);
  if (columns.length < 3) return [];
  const filled = (line: PlacedItem[]) => new Set(line.map((item) => band(columns, (item.x + item.right) / 2))).size;
  const gridLines = body.filter((line) => filled(line) >= 2).length;
  if (filled(header!) < 2 || gridLines < Math.max(2, body.length * GRID_LINE_SHARE)) return [];
  const top = Math.min(...header!.map((item) => item.y - item.fontSize)) - MEET;
  const underHeader = (Math.max(...header!.map((item) => item.y)) + Math.min(...body[0]!.map((item) => item.y - item.fontSize))) / 2;
  const bottom = Math.max(...items.map((item) => item.y)) + MEET;
  return [top, underHeader, bottom].map((at) => ({ axis: 'h', at, from: left, to: right }));
}

/**
 * Share of the page height at its top (and bottom) where a short line is a
 * running header (footer), not text: Word's default margin puts the first
 * body baseline at about 10% of an A4 page and the header at about 6%.
 */
const RUNNING_HEADER_SHARE = 0.08;

/** A line is page furniture when it is a page number, or a short line in the page's top or bottom margin. */
function isFurniture(line: SourceLine, page: TablePage, where: 'above' | 'below'): boolean {
  if (isPageNumberLine(line.text, true)) return true;
  const y = line.y ?? 0;
  return where === 'above' ? y < page.height * RUNNING_HEADER_SHARE && line.text.length <= 30 : y > page.height * (1 - RUNNING_HEADER_SHARE);
}

/** Columns this many points apart (or closer) are the same column on two pages. */
const CONTINUED_COLUMN_POINTS = 12;

/**
 * Read the tables that ruling lines draw among a page's text runs: grids of
 * horizontal and vertical borders, and three-line tables. A table at the top
 * of a page, with the columns of the table left open at the foot of the page
 * before, continues it: a repeated heading row is dropped, and its rows take
 * the open table's number and headings.
 */
export function placeTables(items: PlacedItem[], segments: Segment[], sequence: TableSequence, page: TablePage): PlacedTables {
  const open = sequence.openBefore(page.number);
  // A three-line table's continuation may have one rule on its page, or none.
  if (items.length === 0 || (segments.length < 2 && !open?.extent)) {
    sequence.leave(page.number, undefined);
    return { rest: items, lines: [] };
  }
  let rest = items;
  const lines: SourceLine[] = [];
  const read: Array<{ frame: Frame; open: Omit<OpenTable, 'page'> }> = [];
  const merged = mergeSegments(segments);
  const frames: Frame[] = [...grids(merged), ...ruleOnlyFrames(merged, items, page, open?.extent)].sort((a, b) => a.top - b.top);
  for (const frame of frames) {
    const columnCount = frame.columns.length - 1;
    const inside: PlacedItem[] = [];
    const outside: PlacedItem[] = [];
    const placed: Array<{ item: PlacedItem; row: number; column: number }> = [];
    // A run across a three-line table's column gap is a cell spanning columns, not two cells' text read as one.
    for (const item of frame.rows === 'lines' ? rest : rest.flatMap((run) => splitAtColumns(run, frame))) {
      // The centre of the run's x-height: a baseline sits on the cell's lower border.
      const cx = (item.x + item.right) / 2;
      const cy = inkCentre(item.y, item.fontSize);
      const column = band(frame.columns, cx);
      const row = frame.rows === 'lines' ? (cy > frame.top && cy < frame.bottom ? 0 : -1) : band(frame.rows, cy);
      if (row < 0 || column < 0) {
        outside.push(item);
        continue;
      }
      placed.push({ item, row, column });
      inside.push(item);
    }
    const cells = frame.rows === 'lines' ? lineRows(placed, frame.headerBottom, columnCount) : bandRows(placed, frame.rows, columnCount);
    const texts = cells.map((row) => row.map(cellText));
    // Rows and columns without text (a spacer, the second half of a merged cell) are no part of the table's reading.
    const keptRows = texts.map((row, i) => (row.some(Boolean) ? i : -1)).filter((i) => i >= 0);
    const keptColumns = (texts[0] ?? []).map((_, j) => (texts.some((row) => row[j]) ? j : -1)).filter((j) => j >= 0);
    let grid: TableGrid = { rows: keptRows.map((i) => keptColumns.map((j) => texts[i]![j]!)), headerRows: frame.headerBottom !== undefined ? 1 : 'guess' };
    // Rules alone around one line of text under a heading line (the 版记's 抄送 and 印发 lines) are no table.
    const bodyRows = grid.rows.length - (frame.headerBottom !== undefined ? 1 : 0);
    if (!isDataTable(grid.rows) || (frame.rows === 'lines' && bodyRows < 2)) continue;
    let rowItems = keptRows.map((i) => cells[i]!.flat());
    const centres = keptColumns.map((j) => (frame.columns[j]! + frame.columns[j + 1]!) / 2);
    // A continuation: the open table's columns, and nothing above this one on its page but furniture.
    const above = [...buildLines(outside.filter((item) => item.y < frame.top)), ...(page.linesAround ?? []).filter((line) => (line.y ?? 0) < frame.top)];
    const startsPage = open !== undefined && read.length === 0 && above.every((line) => isFurniture(line, page, 'above'));
    let table: number;
    if (open && startsPage && sameColumns(open.centres, centres)) {
      const repeated = grid.rows[0]!.map(stripWhitespace).join('|') === open.headerRow.map(stripWhitespace).join('|');
      const skip = repeated ? 1 : 0;
      grid = { rows: grid.rows.slice(skip), headerRows: 0, headings: open.headings };
      rowItems = rowItems.slice(skip);
      table = open.table;
    } else if (frame.rows === 'lines' && frame.headerBottom === undefined) {
      // Two rules with text between them and no table open before: a boxed note, not a table.
      continue;
    } else {
      table = sequence.next();
    }
    if (grid.rows.length === 0) {
      rest = outside;
      continue;
    }
    const sizes = inside.map((item) => item.fontSize).sort((a, b) => a - b);
    const fontSize = round(sizes[Math.floor(sizes.length / 2)] ?? 12);
    lines.push(...tableLines(grid, table, (row) => {
      const runs = rowItems[row] ?? [];
      const confidence = meanConfidence(runs.map((item) => ({ chars: item.text.length, confidence: item.confidence })));
      return {
        x: round(frame.left),
        right: round(frame.right),
        y: round(Math.min(...runs.map((item) => item.y), frame.bottom)),
        fontSize,
        ...(confidence !== undefined ? { confidence } : {}),
      };
    }));
    const headings = gridHeadings(grid);
    const headerRow = grid.headings ? (open?.headerRow ?? []) : (grid.rows[0] ?? []);
    const extent = frame.rows === 'lines' || frame.headerBottom !== undefined ? { extent: { left: frame.left, right: frame.right } } : {};
    read.push({ frame, open: { table, centres, headings, headerRow, ...extent } });
    rest = outside;
  }
  const last = read[read.length - 1];
  const endsPage = last && buildLines(rest.filter((item) => item.y - item.fontSize > last.frame.bottom)).every((line) => isFurniture(line, page, 'below'));
  sequence.leave(page.number, endsPage && last.open.headings.some(Boolean) ? last.open : undefined);
  return { rest, lines };
}

function sameColumns(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((centre, i) => Math.abs(centre - b[i]!) <= CONTINUED_COLUMN_POINTS);
}

/** Cells of a grid whose rows are bands between rules. */
function bandRows(placed: Array<{ item: PlacedItem; row: number; column: number }>, edges: number[], columns: number): PlacedItem[][][] {
  const cells = Array.from({ length: edges.length - 1 }, () => Array.from({ length: columns }, (): PlacedItem[] => []));
  for (const { item, row, column } of placed) cells[row]![column]!.push(item);
  return cells;
}

/**
 * Cells of a three-line table without rules between its rows: the heading
 * row is everything above the middle rule; below it each text line starts a
 * row, unless its first column is empty (the wrapped end of a cell above).
 * A continuation on the next page has no middle rule (`headerBottom`
 * undefined): its heading row stays empty and every line is body.
 */
function lineRows(placed: Array<{ item: PlacedItem; row: number; column: number }>, headerBottom: number | undefined, columns: number): PlacedItem[][][] {
  const empty = () => Array.from({ length: columns }, (): PlacedItem[] => []);
  const header = empty();
  const rows: PlacedItem[][][] = [header];
  const column = new Map(placed.map((p) => [p.item, p.column]));
  const body: PlacedItem[] = [];
  for (const { item } of placed) {
    if (headerBottom !== undefined && inkCentre(item.y, item.fontSize) < headerBottom) header[column.get(item)!]!.push(item);
    else body.push(item);
  }
  for (const line of baselineGroups(body)) {
    const starts = rows.length === 1 || line.some((item) => column.get(item) === 0);
    if (starts) rows.push(empty());
    const row = rows[rows.length - 1]!;
    for (const item of line) row[column.get(item)!]!.push(item);
  }
  return rows;
}

/** The page's lines with its table rows in reading order (by baseline). */
export function mergeTableLines(lines: SourceLine[], tableRows: SourceLine[]): SourceLine[] {
  if (tableRows.length === 0) return lines;
  return [...lines, ...tableRows].sort((a, b) => (a.y ?? 0) - (b.y ?? 0));
}
