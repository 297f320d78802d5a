/**
 * Passages: the units retrieval indexes and answers cite.
 *
 * Length bound (Config.passageMaxChars, default 300 characters): bge-small-zh
 * reads at most 512 tokens, about 500 Chinese characters, so anything longer
 * is silently truncated by the embedder. Shorter passages give tighter
 * citations (one claim, one page) and better lexical precision, since BM25
 * rewards passages where query terms are dense. 300 is also the passage size
 * the retrieval evaluation uses as its reference, so results stay comparable.
 *
 * Rules: a passage never crosses a section (same headingPath); it never cuts
 * a sentence or ；-clause (kb/text/sentences.ts says why ； ends a unit here)
 * unless it alone exceeds the bound (then at ，、：, and only then hard); short paragraphs share a passage with
 * their neighbours; a passage may start with the previous one's last unit when that unit is short
 * (overlapShortUnits), so passages of a section overlap by up to OVERLAP_UNIT_CHARS and run that much past the
 * bound; `passage.text === doc.text.slice(start, end)` always, so a passage spanning paragraphs contains the "\n"
 * between them. Heading
 * paragraphs are not passages: the indexer stores headingPath separately.
 * The closing block's signing unit, date, contact line and cc list form
 * passages of their own (FACT_ROLES), never joined to the body's. A table
 * row is a passage of its own: its text already carries its column headings
 * and its headingPath the table's caption, so it reads alone; joined to the
 * next row, the headings of one would seem to describe the other. A heading
 * row says nothing by itself and is no passage.
 */
import { createHash } from 'node:crypto';
import { PASSAGE_CLAUSE_END, PASSAGE_UNIT_END } from '../kb/text/sentences.ts';
import { CLOSING_BLOCK_HEADING, type PageSpan, type Paragraph, type ParagraphRole, type Passage } from '../kb/types.ts';

/** Roles whose text is worth retrieving as the document's content. */
const PASSAGE_ROLES: ReadonlySet<ParagraphRole> = new Set<ParagraphRole>(['body']);

/**
 * The closing block's facts: who signed, when, whom to call, who got a copy.
 * Not content, but researchers ask for them ("这份答复的联系电话是多少？"), so
 * each run of them becomes a passage of its own, cited into the closing block.
 * 此致/特此答复 and 印发 lines carry nothing to find.
 */
const FACT_ROLES: ReadonlySet<ParagraphRole> = new Set<ParagraphRole>(['signature', 'date', 'contact', 'cc']);
/**
 * The heading a record's citizen message (role 'message') is stored under. Its passages are
 * searched like the reply's — a new message is most like the earlier message its precedent
 * answered — but never quoted as an answer (search/answer.ts, search/precedents.ts).
 */
export const MESSAGE_HEADING = '来信';

/** A [start, end) piece of one paragraph, in document offsets. */
interface Piece {
  paragraph: Paragraph;
  start: number;
  end: number;
}


/** Split [start, end) of `text` after every match of `marks`. */
function splitAfter(text: string, start: number, end: number, marks: RegExp): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const slice = text.slice(start, end);
  let from = 0;
  marks.lastIndex = 0;
  for (let m = marks.exec(slice); m; m = marks.exec(slice)) {
    const cut = m.index + m[0].length;
    if (cut > from && cut < slice.length) {
      out.push([start + from, start + cut]);
      from = cut;
    }
    if (m[0].length === 0) marks.lastIndex++;
  }
  out.push([start + from, end]);
  return out;
}

/**
 * Cut a paragraph into units no longer than `max`: its sentences, and for a
 * sentence longer than `max` its clauses, and for a clause longer than `max`
 * hard slices.
 */
function units(paragraph: Paragraph, text: string, max: number): Piece[] {
  const out: Piece[] = [];
  for (const [from, to] of splitAfter(text, paragraph.start, paragraph.end, PASSAGE_UNIT_END)) {
    if (to - from <= max) {
      out.push({ paragraph, start: from, end: to });
      continue;
    }
    for (const [cFrom, cTo] of splitAfter(text, from, to, PASSAGE_CLAUSE_END)) {
      for (let s = cFrom; s < cTo; s += max) out.push({ paragraph, start: s, end: Math.min(cTo, s + max) });
    }
  }
  return out;
}

function passageId(headingPath: string[], start: number, text: string): string {
  return createHash('sha1').update(`${headingPath.join('\u001f')}\u0000${start}\u0000${text}`).digest('hex').slice(0, 16);
}

function toPassage(group: Piece[], text: string, headingPath: string[]): Passage {
  const first = group[0]!;
  const last = group[group.length - 1]!;
  const passageText = text.slice(first.start, last.end);
  const passage: Passage = {
    id: passageId(headingPath, first.start, passageText),
    text: passageText,
    headingPath,
    start: first.start,
    end: last.end,
    paragraphSpan: [first.paragraph.index, last.paragraph.index],
  };
  const spans = group.map((p) => p.paragraph.pages).filter((p): p is PageSpan => p !== undefined);
  if (spans.length > 0) passage.pages = [Math.min(...spans.map((s) => s[0])), Math.max(...spans.map((s) => s[1]))];
  // A passage is as trustworthy as its worst-read paragraph.
  const confidences = group.map((p) => p.paragraph.confidence).filter((c): c is number => c !== undefined);
  if (confidences.length > 0) passage.confidence = Math.min(...confidences);
  return passage;
}

/** Runs of consecutive paragraphs that `eligible` accepts, under the same headingPath. */
function sections(paragraphs: Paragraph[], eligible: (p: Paragraph) => boolean): Paragraph[][] {
  const out: Paragraph[][] = [];
  let run: Paragraph[] = [];
  let key = '';
  for (const paragraph of paragraphs) {
    const pathKey = paragraph.headingPath.join('\u001f');
    if (!eligible(paragraph)) {
      if (run.length > 0) out.push(run);
      run = [];
      continue;
    }
    if (run.length > 0 && pathKey !== key) {
      out.push(run);
      run = [];
    }
    key = pathKey;
    run.push(paragraph);
  }
  if (run.length > 0) out.push(run);
  return out;
}

const span = (group: Piece[]) => group[group.length - 1]!.end - group[0]!.start;

/**
 * Greedy packing leaves a scrap when a paragraph runs just over a passage
 * boundary (300 + 20 characters). A scrap without context retrieves badly,
 * so the pair is re-cut at the unit boundary closest to the middle.
 */
function rebalanceScraps(groups: Piece[][], max: number): void {
  for (let i = 1; i < groups.length; i++) {
    const scrap = groups[i]!;
    const before = groups[i - 1]!;
    if (span(scrap) >= max / 4 || before[before.length - 1]!.paragraph !== scrap[0]!.paragraph) continue;
    const all = [...before, ...scrap];
    const middle = (all[0]!.start + all[all.length - 1]!.end) / 2;
    let best = -1;
    for (let cut = 1; cut < all.length; cut++) {
      const left = all.slice(0, cut);
      const right = all.slice(cut);
      if (span(left) > max || span(right) > max) continue;
      if (best < 0 || Math.abs(all[cut]!.start - middle) < Math.abs(all[best]!.start - middle)) best = cut;
    }
    if (best > 0) groups.splice(i - 1, 2, all.slice(0, best), all.slice(best));
  }
}

/**
 * The longest unit (sentence, ；-clause, short paragraph) a passage repeats from the end of the one before it in the
 * same section. Measured with multilingual-e5-small (int8) on the whole evaluation corpus (3,699 documents, 22,392
 * passages, 5,731 of them starting with 31 characters of the one before on average; hybrid R@1 / R@5 / R@10 / MRR@10): NCPQA 0.625 /
 * 0.881 / 0.907 / 0.735 without the overlap → 0.660 / 0.889 / 0.918 / 0.759 with it; the answers lying in one
 * passage (the ceiling of NCPQA recall) 627 → 633 of 658. Estimated from the stored passages without parsing, a cap
 * of 100 characters would have made it 634 and lengthened ~7,500 passages, 300 characters 636 and ~9,100.
 * Every other set and mode: README, "Passage size".
 */
export const OVERLAP_UNIT_CHARS = 60;

/**
 * Each passage of a section after the first also starts with the previous passage's last unit when that unit is
 * short: a lead-in or list item cut off from what follows it ("路径1：…" | "路径2：…") then reads with its
 * neighbour, and a passage that begins mid-paragraph keeps the sentence it continues.
 */
function overlapShortUnits(groups: Piece[][]): void {
  for (let i = groups.length - 1; i >= 1; i--) {
    const before = groups[i - 1]!;
    const last = before[before.length - 1]!;
    if (before.length > 1 && last.end - last.start <= OVERLAP_UNIT_CHARS) groups[i] = [last, ...groups[i]!];
  }
}

export function buildPassages(paragraphs: Paragraph[], text: string, maxChars: number): Passage[] {
  const max = Math.max(20, Math.floor(maxChars));
  const hasBody = paragraphs.some((p) => PASSAGE_ROLES.has(p.role) || p.role === 'table-row');
  const content = hasBody
    ? (p: Paragraph) => PASSAGE_ROLES.has(p.role)
    // A document with no body (only a title, or only a sign-off) still gets passages, of everything.
    : (p: Paragraph) => p.text.length > 0;
  const runs = sections(paragraphs, content);
  if (hasBody) {
    runs.push(...sections(paragraphs, (p) => FACT_ROLES.has(p.role) && p.text.length > 0));
    runs.push(...paragraphs.filter((p) => p.role === 'table-row').map((row) => [row]));
    runs.push(...sections(paragraphs, (p) => p.role === 'message' && p.text.length > 0));
  }
  runs.sort((a, b) => a[0]!.start - b[0]!.start);
  const passages: Passage[] = [];
  for (const section of runs) {
    const headingPath = hasBody && FACT_ROLES.has(section[0]!.role) ? [CLOSING_BLOCK_HEADING] : section[0]!.headingPath;
    const groups: Piece[][] = [];
    let group: Piece[] = [];
    const length = () => (group.length === 0 ? 0 : span(group));
    const flush = () => {
      if (group.length > 0) groups.push(group);
      group = [];
    };
    for (const paragraph of section) {
      const paragraphLength = paragraph.end - paragraph.start;
      if (group.length > 0 && length() + 1 + paragraphLength > max && paragraphLength <= max && length() >= max / 3) {
        // A paragraph that fits a passage of its own is not split just to
        // top up a passage that is already substantial.
        flush();
      }
      for (const unit of units(paragraph, text, max)) {
        if (group.length > 0 && unit.end - group[0]!.start > max) flush();
        group.push(unit);
      }
    }
    flush();
    rebalanceScraps(groups, max);
    overlapShortUnits(groups);
    for (const g of groups) passages.push(toPassage(g, text, headingPath));
  }
  return passages;
}
