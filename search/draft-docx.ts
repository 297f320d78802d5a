/**
 * Word files for the drafter: the first draft of a reply, laid out as an
 * official letter after GB/T 9704 (A4, margins 37/35/28/26 mm, title in
 * 方正小标宋 二号, body in 仿宋 三号 at a fixed 28-point line, 一、 headings
 * in 黑体, page numbers "— N —" in the footer, signing unit and date at the
 * right), and the precedent comparison as a table.
 *
 * Precedent paragraphs are set apart in colour, each with a footnote naming
 * its source, so a reader of the draft never mistakes a quote for new text.
 */
import {
  AlignmentType,
  Document,
  Footer,
  FootnoteReferenceRun,
  LineRuleType,
  Packer,
  PageNumber,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
  type IRunOptions,
} from 'docx';
import type { Draft } from './draft.ts';
import { COMPARISON_HEADINGS, comparisonRows, comparisonTitle, COVERAGE_NOTE } from './comparison.ts';
import type { PrecedentsResult } from './precedents.ts';

const MM = 56.7; // twips per millimetre
/** Half-points: 二号 22 pt, 三号 16 pt, 四号 14 pt, 小四 12 pt. */
const SIZE = { erhao: 44, sanhao: 32, sihao: 28, xiaosi: 24 };
const FONT = {
  title: '方正小标宋简体',
  body: '仿宋_GB2312',
  heading: '黑体',
  latin: 'Times New Roman',
};
/** GB/T 9704: 22 lines a page at this fixed line height (28.95 pt rounded). */
const LINE = { line: 579, lineRule: LineRuleType.EXACT };
/** Two characters of 三号 text. */
const FIRST_LINE_INDENT = 640;
/** A quoted precedent is dark blue: visibly not the unit's own text. */
/** The date stands four characters in from the right margin (GB/T 9704 7.3.5), the signing unit above it. */
const SIGN_OFF_INDENT = 2 * FIRST_LINE_INDENT;
const PRECEDENT_COLOUR = '0B5394';
const NOTE_COLOUR = '7F7F7F';
const CITATION_MARKER = /\s*\[\d{1,3}\]/g;

function run(text: string, font: string, size: number, extra: Partial<IRunOptions> = {}): TextRun {
  return new TextRun({ text, size, font: { eastAsia: font, ascii: FONT.latin, hAnsi: FONT.latin }, ...extra });
}

function body(text: string, extra: Partial<IRunOptions> = {}): Paragraph {
  return new Paragraph({ spacing: LINE, indent: { firstLine: FIRST_LINE_INDENT }, children: [run(text, FONT.body, SIZE.sanhao, extra)] });
}

function pageFooter(): Footer {
  return new Footer({
    children: [
      new Paragraph({
        alignment: AlignmentType.CENTER,
        children: [new TextRun({ children: ['— ', PageNumber.CURRENT, ' —'], size: SIZE.sihao, font: { eastAsia: FONT.latin, ascii: FONT.latin, hAnsi: FONT.latin } })],
      }),
    ],
  });
}

const PAGE = {
  size: { width: Math.round(210 * MM), height: Math.round(297 * MM) },
  margin: { top: Math.round(37 * MM), bottom: Math.round(35 * MM), left: Math.round(28 * MM), right: Math.round(26 * MM), footer: Math.round(20 * MM) },
};

export async function draftDocx(draft: Draft): Promise<Uint8Array> {
  const footnotes: Record<string, { children: Paragraph[] }> = {};
  let nextNote = 1;
  const children: Array<Paragraph> = [
    new Paragraph({ alignment: AlignmentType.RIGHT, spacing: LINE, children: [run(draft.docNumber, FONT.body, SIZE.sanhao)] }),
    new Paragraph({ spacing: LINE, children: [] }),
    new Paragraph({ alignment: AlignmentType.CENTER, spacing: { line: 700, lineRule: LineRuleType.EXACT }, children: [run(draft.title, FONT.title, SIZE.erhao)] }),
    new Paragraph({ spacing: LINE, children: [] }),
    new Paragraph({ spacing: LINE, children: [run(draft.addressee, FONT.body, SIZE.sanhao)] }),
    body(draft.opening),
  ];
  for (const section of draft.sections) {
    children.push(new Paragraph({ spacing: LINE, indent: { firstLine: FIRST_LINE_INDENT }, children: [run(section.heading, FONT.heading, SIZE.sanhao)] }));
    if (section.quotes.length === 0) {
      children.push(body('（未找到覆盖本条建议的先例，请根据本单位工作情况撰写。）', { color: NOTE_COLOUR }));
      continue;
    }
    // Footnote numbers of this section's quotes, known before the rewrite that cites them.
    const firstNote = nextNote;
    if (section.rewrite) {
      children.push(body('（以下一段由大模型据本节先例改写，上标为所据先例的脚注号；标黄的句子没有出处，须核实或删除。）', { color: NOTE_COLOUR }));
      children.push(
        new Paragraph({
          spacing: LINE,
          indent: { firstLine: FIRST_LINE_INDENT },
          children: section.rewrite.sentences.flatMap((sentence) => [
            run(sentence.text.replace(CITATION_MARKER, ''), FONT.body, SIZE.sanhao, sentence.uncited ? { highlight: 'yellow' } : {}),
            ...sentence.citations.map((n) => run(String(firstNote + n - 1), FONT.body, SIZE.sanhao, { superScript: true })),
          ]),
        }),
      );
    } else if (section.rewriteError) {
      children.push(body(`（大模型改写未完成：${section.rewriteError}）`, { color: NOTE_COLOUR }));
    }
    children.push(body('（以下为先例段落，须按本单位实际情况改写后使用。）', { color: NOTE_COLOUR }));
    for (const quote of section.quotes) {
      const id = nextNote++;
      footnotes[String(id)] = {
        children: [
          new Paragraph({
            children: [
              run(`先例段落，出自${quote.source}（文档 ${quote.citation.documentId}，字符 ${quote.citation.start}–${quote.citation.end}），覆盖本条建议内容的 ${Math.round(quote.coverage * 100)}%。`, FONT.body, SIZE.xiaosi),
            ],
          }),
        ],
      };
      children.push(
        new Paragraph({
          spacing: LINE,
          indent: { firstLine: FIRST_LINE_INDENT },
          children: [run(quote.text, FONT.body, SIZE.sanhao, { color: PRECEDENT_COLOUR }), new FootnoteReferenceRun(id)],
        }),
      );
    }
  }
  children.push(
    body(draft.closing),
    new Paragraph({ spacing: LINE, children: [] }),
    new Paragraph({ alignment: AlignmentType.RIGHT, spacing: LINE, indent: { right: SIGN_OFF_INDENT }, children: [run(draft.signature, FONT.body, SIZE.sanhao)] }),
    new Paragraph({ alignment: AlignmentType.RIGHT, spacing: LINE, indent: { right: SIGN_OFF_INDENT }, children: [run(draft.date, FONT.body, SIZE.sanhao)] }),
    new Paragraph({ spacing: LINE, children: [] }),
    new Paragraph({ spacing: LINE, indent: { firstLine: FIRST_LINE_INDENT }, children: [run('（联系人：XXX    联系电话：XXXXXXXX）', FONT.body, SIZE.sanhao)] }),
  );
  const document = new Document({
    title: draft.title,
    creator: 'PolicyKB',
    description: '答复初稿（先例段落须改写后使用）',
    footnotes,
    sections: [{ properties: { page: PAGE }, footers: { default: pageFooter() }, children }],
  });
  return new Uint8Array(await Packer.toBuffer(document));
}

function cell(text: string, width: number, bold = false): TableCell {
  return new TableCell({
    width: { size: width, type: WidthType.PERCENTAGE },
    children: text.split('\n').map((line) => new Paragraph({ children: [run(line, FONT.body, SIZE.xiaosi, bold ? { bold: true } : {})] })),
  });
}

/** The comparison a drafter checks before adapting: each suggestion beside its precedents, source and coverage. */
export async function comparisonDocx(result: PrecedentsResult): Promise<Uint8Array> {
  const widths = [26, 46, 20, 8];
  const rows = [new TableRow({ tableHeader: true, children: COMPARISON_HEADINGS.map((h, i) => cell(h, widths[i]!, true)) })];
  comparisonRows(result).forEach((row, i, all) => {
    // The suggestion once, beside its first precedent.
    const first = i === 0 || all[i - 1]!.suggestionNumber !== row.suggestionNumber;
    const texts = [first ? row.suggestion : '', row.precedent ?? '（未找到先例）', row.source ?? '', row.coverage === undefined ? '' : `${Math.round(row.coverage * 100)}%`];
    rows.push(new TableRow({ children: texts.map((text, k) => cell(text, widths[k]!)) }));
  });
  const document = new Document({
    title: comparisonTitle(result),
    creator: 'PolicyKB',
    sections: [
      {
        properties: { page: { ...PAGE, margin: { top: Math.round(25 * MM), bottom: Math.round(25 * MM), left: Math.round(20 * MM), right: Math.round(20 * MM) } } },
        footers: { default: pageFooter() },
        children: [
          new Paragraph({ alignment: AlignmentType.CENTER, children: [run(comparisonTitle(result), FONT.heading, SIZE.sihao)] }),
          new Paragraph({ children: [run(COVERAGE_NOTE, FONT.body, SIZE.xiaosi, { color: NOTE_COLOUR })] }),
          new Table({ width: { size: 100, type: WidthType.PERCENTAGE }, rows }),
        ],
      },
    ],
  });
  return new Uint8Array(await Packer.toBuffer(document));
}
