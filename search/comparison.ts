/**
 * The precedent comparison a drafter checks before adapting anything: each
 * suggestion beside its precedent paragraphs, their source and coverage. One
 * list of rows, written as a Word table (draft-docx.ts) or a spreadsheet here.
 */
import writeXlsxFile, { type SheetData } from 'write-excel-file/node';
import { sourceLabel } from './draft.ts';
import type { PrecedentsResult } from './precedents.ts';

export interface ComparisonRow {
  /** 1-based, in the proposal's order. */
  suggestionNumber: number;
  suggestion: string;
  /** The precedent paragraph; undefined when the suggestion has none. */
  precedent?: string;
  source?: string;
  /** 0–1, as the finder computes it. */
  coverage?: number;
}

export const COMPARISON_HEADINGS = ['建议', '先例段落', '出处', '覆盖率'] as const;
export const COVERAGE_NOTE = '覆盖率：先例段落包含该条建议内容词（二字词组，不计通用词）的比例。';

export function comparisonRows(result: PrecedentsResult): ComparisonRow[] {
  return result.bySuggestion.flatMap(({ suggestion, precedents }, i): ComparisonRow[] => {
    const base = { suggestionNumber: i + 1, suggestion: suggestion.text };
    if (precedents.length === 0) return [base];
    return precedents.map((excerpt) => ({ ...base, precedent: excerpt.text, source: sourceLabel(excerpt), coverage: excerpt.coverage }));
  });
}

export function comparisonTitle(result: PrecedentsResult): string {
  return `先例对照表：${result.outline.title?.text ?? '提案'}`;
}

/**
 * The comparison as one XLSX sheet: a row per precedent, the suggestion
 * repeated on each so the sheet sorts and filters; coverage as a number shown
 * as a percentage.
 */
export async function comparisonXlsx(result: PrecedentsResult): Promise<Uint8Array> {
  const bold = (value: string) => ({ value, fontWeight: 'bold' as const });
  const data: SheetData = [
    [{ value: comparisonTitle(result), fontWeight: 'bold', columnSpan: 5 }, null, null, null, null],
    [{ value: COVERAGE_NOTE, columnSpan: 5 }, null, null, null, null],
    [bold('序号'), ...COMPARISON_HEADINGS.map(bold)],
    ...comparisonRows(result).map((row) => [
      { value: row.suggestionNumber, type: Number },
      { value: row.suggestion, wrap: true },
      { value: row.precedent ?? '（未找到先例）', wrap: true },
      row.source ? { value: row.source, wrap: true } : null,
      row.coverage === undefined ? null : { value: row.coverage, type: Number, format: '0%' },
    ]),
  ];
  const buffer = await writeXlsxFile(data, {
    sheet: '先例对照表',
    columns: [{ width: 6 }, { width: 40 }, { width: 70 }, { width: 30 }, { width: 9 }],
    stickyRowsCount: 3,
  }).toBuffer();
  return new Uint8Array(buffer);
}
