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
import { joinLines, meanConfidence } from '../clean.ts';
import { buildLines, round, type PlacedItem } from './layout.ts';
import type { RasterImage } from './ocr/pool.ts';
import { isDataTable, tableLines } from './table.ts';

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
    ink[p] = opaque && luminance < INK ? 1 : 0;
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

/** Groups of horizontal and vertical lines that cross each other: at least two of each make a grid. */
function grids(segments: Segment[]): Grid[] {
  const merged = mergeSegments(segments);
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
function splitAtColumns(item: PlacedItem, grid: Grid): PlacedItem[] {
  const cy = item.y - item.fontSize * 0.35;
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

/**
 * Read the tables that ruling lines draw among a page's text runs.
 * `nextTable` numbers each table found (tables are numbered per document).
 */
export function placeTables(items: PlacedItem[], segments: Segment[], nextTable: () => number): PlacedTables {
  if (segments.length < 4 || items.length === 0) return { rest: items, lines: [] };
  let rest = items;
  const lines: SourceLine[] = [];
  for (const grid of grids(segments).sort((a, b) => a.top - b.top)) {
    const cells = grid.rows.slice(1).map(() => grid.columns.slice(1).map((): PlacedItem[] => []));
    const inside: PlacedItem[] = [];
    const outside: PlacedItem[] = [];
    for (const item of rest.flatMap((run) => splitAtColumns(run, grid))) {
      // The centre of the run's x-height: a baseline sits on the cell's lower border.
      const cx = (item.x + item.right) / 2;
      const cy = item.y - item.fontSize * 0.35;
      const row = band(grid.rows, cy);
      const column = band(grid.columns, cx);
      if (row < 0 || column < 0) {
        outside.push(item);
        continue;
      }
      cells[row]![column]!.push(item);
      inside.push(item);
    }
    const texts = cells.map((row) => row.map(cellText));
    // Rows and columns without text (a spacer, the second half of a merged cell) are no part of the table's reading.
    const keptRows = texts.map((row, i) => (row.some(Boolean) ? i : -1)).filter((i) => i >= 0);
    const keptColumns = texts[0]!.map((_, j) => (texts.some((row) => row[j]) ? j : -1)).filter((j) => j >= 0);
    const grid2 = keptRows.map((i) => keptColumns.map((j) => texts[i]![j]!));
    if (!isDataTable(grid2)) continue;
    const sizes = inside.map((item) => item.fontSize).sort((a, b) => a - b);
    const fontSize = round(sizes[Math.floor(sizes.length / 2)] ?? 12);
    const rowItems = keptRows.map((i) => cells[i]!.flat());
    lines.push(...tableLines({ rows: grid2, headerRows: 'guess' }, nextTable(), (row) => {
      const runs = rowItems[row] ?? [];
      const confidence = meanConfidence(runs.map((item) => ({ chars: item.text.length, confidence: item.confidence })));
      return {
        x: round(grid.left),
        right: round(grid.right),
        y: round(Math.min(...runs.map((item) => item.y), grid.bottom)),
        fontSize,
        ...(confidence !== undefined ? { confidence } : {}),
      };
    }));
    rest = outside;
  }
  return { rest, lines };
}

/** The page's lines with its table rows in reading order (by baseline). */
export function mergeTableLines(lines: SourceLine[], tableRows: SourceLine[]): SourceLine[] {
  if (tableRows.length === 0) return lines;
  return [...lines, ...tableRows].sort((a, b) => (a.y ?? 0) - (b.y ?? 0));
}
