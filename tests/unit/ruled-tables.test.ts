/**
 * Issue 11, tables drawn only by horizontal rules (三线表) and tables that
 * run on to the next page, read from positioned text runs and rules as a
 * PDF page (or an OCR'd scan) gives them. None of the five PDFs in
 * ../shared/corpus/pdf has a three-line table; tests/e2e/tables-pdf.test.ts
 * reads one that LibreOffice exports, and the 对照表's ruled tables.
 */
import { describe, expect, it } from 'vitest';
import type { PlacedItem } from '../../ingest/extract/layout.ts';
import { placeTables, TableSequence, type Segment, type TablePage } from '../../ingest/extract/ruled-tables.ts';

const SIZE = 10;
/** A run of Chinese text: one em per character. */
const run = (text: string, x: number, y: number): PlacedItem => ({ text, x, right: x + [...text].length * SIZE, y, fontSize: SIZE });
const rule = (at: number, from = 50, to = 450): Segment => ({ axis: 'h', at, from, to });
const page = (number: number): TablePage => ({ number, width: 500, height: 700 });
const rows = (lines: Array<{ text: string; table?: { table: number; header: boolean } }>) => lines.map((l) => [l.table?.table, l.table?.header, l.text]);

/** Rules at the top, under the headings and at the bottom; cells at x 60, 200 and 330. */
function threeLineTable(top: number, body: Array<[string, string, string]>, options: { header?: boolean; topRule?: boolean; bottomRule?: boolean } = {}) {
  const items: PlacedItem[] = [];
  const segments = options.topRule ?? true ? [rule(top)] : [];
  let y = top + 15;
  if (options.header ?? true) {
    items.push(run('项目', 60, y), run('尺寸', 200, y), run('允许误差', 330, y));
    segments.push(rule(y + 5));
    y += 20;
  }
  for (const [a, b, c] of body) {
    for (const [text, x] of [[a, 60], [b, 200], [c, 330]] as const) if (text) items.push(run(text, x, y));
    y += 20;
  }
  if (options.bottomRule ?? true) segments.push(rule(y - 10));
  return { items, segments, bottom: y - 10 };
}

describe('three-line tables (三线表)', () => {
  it('the middle rule ends the heading row; columns are where the body text leaves gaps; each row carries its headings', () => {
    const table = threeLineTable(100, [['版心', '156mm×225mm', '±1mm'], ['天头', '37mm', '±1mm'], ['订口', '28mm', '±1mm']]);
    const before = run('表1 公文用纸版面尺寸', 150, 90);
    const after = run('特此通知。', 60, table.bottom + 30);
    const placed = placeTables([before, ...table.items, after], table.segments, new TableSequence(), page(1));
    expect(rows(placed.lines)).toEqual([
      [0, true, '项目 | 尺寸 | 允许误差'],
      [0, false, '项目：版心 | 尺寸：156mm×225mm | 允许误差：±1mm'],
      [0, false, '项目：天头 | 尺寸：37mm | 允许误差：±1mm'],
      [0, false, '项目：订口 | 尺寸：28mm | 允许误差：±1mm'],
    ]);
    expect(placed.rest.map((item) => item.text)).toEqual(['表1 公文用纸版面尺寸', '特此通知。']);
  });

  it('a body line whose first column is empty continues the row above (a wrapped cell)', () => {
    const table = threeLineTable(100, [['版心', '156mm×225mm', '不含页码'], ['', '', '与版记'], ['天头', '37mm', '±1mm']]);
    const placed = placeTables(table.items, table.segments, new TableSequence(), page(1));
    expect(rows(placed.lines).map((r) => r[2])).toEqual([
      '项目 | 尺寸 | 允许误差',
      '项目：版心 | 尺寸：156mm×225mm | 允许误差：不含页码与版记',
      '项目：天头 | 尺寸：37mm | 允许误差：±1mm',
    ]);
  });

  it('three rules around one line of two runs (the 版记: 抄送, 印发机关 and date) are no table', () => {
    const items = [run('抄送：省委办公厅，省人大常委会办公厅。', 60, 115), run('省政府办公厅', 60, 135), run('2024年7月1日印发', 300, 135)];
    const placed = placeTables(items, [rule(100), rule(120), rule(140)], new TableSequence(), page(1));
    expect(placed.lines).toEqual([]);
    expect(placed.rest).toHaveLength(3);
  });
});

describe('tables continued on the next page', () => {
  const body1: Array<[string, string, string]> = [['版心', '156mm×225mm', '±1mm'], ['天头', '37mm', '±1mm']];
  const body2: Array<[string, string, string]> = [['订口', '28mm', '±1mm'], ['行距', '28.95pt', '±0.5pt']];
  const footer = run('— 1 —', 230, 680);

  it('the heading row repeated at the top of the next page is dropped; the rows there keep the table number and headings', () => {
    const sequence = new TableSequence();
    const first = threeLineTable(560, body1);
    const one = placeTables([run('正文最后一段。', 60, 540), ...first.items, footer], first.segments, sequence, page(1));
    const second = threeLineTable(60, body2);
    const two = placeTables([run('GB/T 9704—2012', 380, 40), ...second.items, run('其他内容。', 60, second.bottom + 30)], second.segments, sequence, page(2));
    expect(rows(one.lines).map((r) => r[0])).toEqual([0, 0, 0]);
    expect(rows(two.lines)).toEqual([
      [0, false, '项目：订口 | 尺寸：28mm | 允许误差：±1mm'],
      [0, false, '项目：行距 | 尺寸：28.95pt | 允许误差：±0.5pt'],
    ]);
  });

  it('cut by the page break as Writer draws it: no bottom rule on the first page, no rule on the next until the bottom one', () => {
    const sequence = new TableSequence();
    const first = threeLineTable(560, body1, { bottomRule: false });
    const one = placeTables([...first.items, footer], first.segments, sequence, page(1));
    expect(rows(one.lines).map((r) => r[2])).toEqual(['项目 | 尺寸 | 允许误差', '项目：版心 | 尺寸：156mm×225mm | 允许误差：±1mm', '项目：天头 | 尺寸：37mm | 允许误差：±1mm']);
    const second = threeLineTable(60, body2, { header: false, topRule: false });
    const two = placeTables([...second.items, run('特此通知。', 60, second.bottom + 30)], second.segments, sequence, page(2));
    expect(rows(two.lines)).toEqual([
      [0, false, '项目：订口 | 尺寸：28mm | 允许误差：±1mm'],
      [0, false, '项目：行距 | 尺寸：28.95pt | 允许误差：±0.5pt'],
    ]);
  });

  it('a heading between them (text above the table on the new page) makes the next table a new one', () => {
    const sequence = new TableSequence();
    const first = threeLineTable(560, body1);
    placeTables([...first.items, footer], first.segments, sequence, page(1));
    const second = threeLineTable(100, body2);
    const two = placeTables([run('第二类：正文内容', 150, 80), ...second.items], second.segments, sequence, page(2));
    expect(rows(two.lines).map((r) => [r[0], r[1]])).toEqual([[1, true], [1, false], [1, false]]);
  });

  it('a picture\'s table below the page\'s own text (linesAround) is a new table, not the continuation', () => {
    const sequence = new TableSequence();
    const first = threeLineTable(560, body1);
    placeTables([...first.items, footer], first.segments, sequence, page(1));
    const picture = threeLineTable(300, body2);
    const text = { text: '二、有关要求如下表所示。', x: 60, right: 300, y: 250, fontSize: SIZE };
    const two = placeTables(picture.items, picture.segments, sequence, { ...page(2), linesAround: [text] });
    expect(rows(two.lines).map((r) => [r[0], r[1]])).toEqual([[1, true], [1, false], [1, false]]);
    // The same picture at the top of its page, under nothing but the running header, continues table 0.
    const again = new TableSequence();
    placeTables([...first.items, footer], first.segments, again, page(1));
    const top = threeLineTable(60, body2);
    const header = { text: 'GB/T 9704—2012', x: 380, right: 450, y: 40, fontSize: SIZE };
    expect(rows(placeTables(top.items, top.segments, again, { ...page(2), linesAround: [header] }).lines).map((r) => r[0])).toEqual([0, 0]);
  });

  it('rows under a single rule with no table open before are no table', () => {
    const second = threeLineTable(100, body2, { header: false, topRule: false });
    expect(placeTables(second.items, [...second.segments, rule(40)], new TableSequence(), page(2)).lines).toEqual([]);
  });

  it('ruled grids: the continuation on the next page takes the open table\'s number and headings', () => {
    const grid = (top: number, lines: string[][]) => {
      const xs = [50, 180, 320, 450];
      const segments: Segment[] = xs.map((x) => ({ axis: 'v' as const, at: x, from: top, to: top + 20 * lines.length }));
      for (let r = 0; r <= lines.length; r++) segments.push(rule(top + 20 * r));
      const items = lines.flatMap((cells, r) => cells.map((text, c) => run(text, xs[c]! + 10, top + 20 * r + 15)));
      return { items, segments };
    };
    const sequence = new TableSequence();
    const a = grid(580, [['错误类型', '错误实例', '正确写法'], ['文种重复', '《关于……意见的函》', '删去“意见”']]);
    placeTables([...a.items, footer], a.segments, sequence, page(1));
    const b = grid(60, [['错误类型', '错误实例', '正确写法'], ['介词连用', '《关于对……的批复》', '删去“对”'], ['缺介词', '《×××授予…的通报》', '加“关于”']]);
    const two = placeTables(b.items, b.segments, sequence, page(2));
    expect(rows(two.lines)).toEqual([
      [0, false, '错误类型：介词连用 | 错误实例：《关于对……的批复》 | 正确写法：删去“对”'],
      [0, false, '错误类型：缺介词 | 错误实例：《×××授予…的通报》 | 正确写法：加“关于”'],
    ]);
  });
});
