/**
 * Tables, for every reader that finds one (PDF ruling lines, OCR'd scans,
 * DOCX w:tbl, HTML <table>): a grid of cell texts becomes one line per row.
 *
 * A row read alone must still say what its numbers are, so each cell is led
 * by its column heading: "错误类型：文种重复 | 错误实例：《关于……意见的函》 |
 * 正确写法：《关于……的函》，应删去“意见”". That is what a passage quotes in an
 * answer and what a question's words ("正确写法", "版心") meet in the index.
 * The heading row itself stays as a line too ("错误类型 | 错误实例 | 正确写法"),
 * so the viewer can draw the table. The caption is found by the structure
 * stage, the same way for every format.
 */
import { TABLE_CELL_SEPARATOR, TABLE_HEADING_MARK, type SourceLine, type TableRowMark } from '../../kb/types.ts';
import { normaliseSpacing } from '../clean.ts';

export interface TableGrid {
  /** Cell texts, row by row; a cell spanning columns is repeated in each (headings) or given once (data). */
  rows: string[][];
  /** Leading rows that are column headings: 0 when the reader cannot tell and the first row does not look like headings. */
  headerRows: number | 'guess';
  /** A table continued from the page before: its column headings, which lead these rows' cells (headerRows is then 0). */
  headings?: string[];
}

/** A cell as one line of text, with no character that would break the row's split. */
export function cellText(text: string): string {
  return normaliseSpacing(text.replace(/\|/g, '｜'));
}

/**
 * The first row names the columns when every cell is a short label: no
 * sentence, no measurement. A key–value table ("版心 | 156 mm × 225 mm")
 * has none, and its first row is data.
 */
const HEADING_CELL_MAX = 16;
function looksLikeHeadings(row: string[]): boolean {
  const filled = row.filter(Boolean);
  return filled.length >= 2
    && new Set(filled).size === filled.length
    && filled.every((cell) => cell.length <= HEADING_CELL_MAX && !/[\d。；;，,]/.test(cell));
}

/** Longer than this, a cell is a page region (a layout table around an article), not a table's cell. */
const LAYOUT_CELL_CHARS = 500;

/** Whether a grid is a table worth reading as one: two rows or more with two filled cells, none of them a page region. */
export function isDataTable(rows: string[][]): boolean {
  return rows.filter((row) => row.filter((cell) => cell.trim()).length >= 2).length >= 2
    && rows.every((row) => row.every((cell) => cell.length <= LAYOUT_CELL_CHARS));
}

/** The column headings: stacked heading rows joined per column, repeats (a spanning cell) said once. */
function columnHeadings(headerRows: string[][], columns: number): string[] {
  return Array.from({ length: columns }, (_, column) => {
    const parts: string[] = [];
    for (const row of headerRows) {
      const cell = row[column] ?? '';
      if (cell && parts[parts.length - 1] !== cell) parts.push(cell);
    }
    return parts.join(' ');
  });
}

/** The text of a data row: each filled cell, led by its column's heading when it has one. */
function rowText(cells: string[], headings: string[]): string {
  return cells
    .map((cell, column) => {
      if (!cell) return '';
      const heading = headings[column];
      return heading && heading !== cell ? `${heading}${TABLE_HEADING_MARK}${cell}` : cell;
    })
    .filter(Boolean)
    .join(TABLE_CELL_SEPARATOR);
}

/** How many leading rows of the grid are column headings. */
function headerRowCount(grid: TableGrid): number {
  if (grid.headings) return 0;
  if (grid.headerRows !== 'guess') return grid.headerRows;
  const first = grid.rows[0]?.map(cellText);
  return first && looksLikeHeadings(first) ? 1 : 0;
}

/** The column headings of a grid (stacked heading rows joined per column), as its rows' cells are led by them. */
export function gridHeadings(grid: TableGrid): string[] {
  if (grid.headings) return grid.headings;
  const rows = grid.rows.map((row) => row.map(cellText));
  const columns = Math.max(0, ...rows.map((row) => row.length));
  return columnHeadings(rows.slice(0, headerRowCount(grid)), columns);
}

/**
 * One line per row, marked with the table's number. `layout` positions the
 * lines where the reader has layout (PDF): every row gets the table's left
 * edge and font size, and its own baseline.
 */
export function tableLines(grid: TableGrid, table: number, layout?: (row: number) => Omit<SourceLine, 'text' | 'table'>): SourceLine[] {
  const rows = grid.rows.map((row) => row.map(cellText));
  const headerCount = headerRowCount(grid);
  const headings = gridHeadings(grid);
  const lines: SourceLine[] = [];
  rows.forEach((row, index) => {
    const header = index < headerCount;
    const text = header ? row.filter(Boolean).join(TABLE_CELL_SEPARATOR) : rowText(row, headings);
    if (!text) return;
    // A heading row repeated under the first (a table continued across pages) says nothing new.
    if (!header && headerCount > 0 && row.join('\u0000') === rows[headerCount - 1]!.join('\u0000')) return;
    const mark: TableRowMark = { table, header };
    lines.push({ text, ...(layout ? layout(index) : {}), table: mark });
  });
  return lines;
}
