/**
 * The first draft of a reply, as the drafter downloads it from POST /api/draft,
 * read back through the project's own parser: the letter's anatomy is there,
 * the sections mirror the proposal's numbering, and every quoted precedent
 * sentence stands verbatim in the source its footnote cites.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseFile } from '../../ingest/parse.ts';
import { ZipArchive } from '../../ingest/extract/zip.ts';
import { splitSentences } from '../../kb/text/sentences.ts';
import type { ParsedDocument } from '../../kb/types.ts';
import type { PrecedentsResult } from '../../search/precedents.ts';
import { buildTestKb, SEED_ID, serve, type RunningServer, type TestKb } from '../support/test-server.ts';
import { describeWithSharedCorpus, SHARED_CORPUS, sharedPath } from '../support/shared-corpus.ts';
import { ingestPaths } from '../../ingest/ingest.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

describeWithSharedCorpus('POST /api/draft and /api/precedents/export', () => {
  let t: TestKb;
  let srv: RunningServer;
  let tmp: string;
  let proposal: string;
  let sectionHeadings: string[];
  beforeAll(async () => {
    t = await buildTestKb({ shared: false });
    await ingestPaths(t.kb, [sharedPath('seed')], { root: SHARED_CORPUS });
    srv = await serve(t.kb, t.config);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-draft-'));
    const seed = t.kb.getDocument(SEED_ID)!;
    sectionHeadings = seed.paragraphs.filter((p) => p.role === 'heading' && p.headingLevel === 1).map((p) => p.text);
    proposal = [
      '关于加强我省创新创业人才队伍建设的建议',
      '我省创新创业人才总量不足，高层次人才外流较多。为此建议：',
      ...sectionHeadings.map((h) => `${h.replace(/关于[“"](.+)[”"]的建议$/, '$1')}。`),
    ].join('\n');
  });
  afterAll(async () => {
    await srv?.close();
    t?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const post = (route: string, body: unknown) =>
    fetch(`${srv.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function download(route: string, body: unknown, name: string): Promise<{ file: string; bytes: Buffer }> {
    const response = await post(route, body);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain(DOCX);
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename\*=UTF-8''/);
    const bytes = Buffer.from(await response.arrayBuffer());
    const file = path.join(tmp, name);
    fs.writeFileSync(file, bytes);
    return { file, bytes };
  }

  it('round-trips: title, addressee and one section per suggestion in its numbering are recovered; quotes are verbatim and cited', async () => {
    const { file, bytes } = await download('/api/draft', { text: proposal }, 'draft.docx');
    const parsed: ParsedDocument = await parseFile(file, { passageMaxChars: 300 });
    expect(parsed.title).toBe('对《关于加强我省创新创业人才队伍建设的建议》的答复');
    expect(parsed.metadata.addressee).toBe('XX委员');
    const opening = parsed.paragraphs.find((p) => p.role === 'body')!;
    expect(opening.text).toContain('《关于加强我省创新创业人才队伍建设的建议》');
    const headings = parsed.paragraphs.filter((p) => p.role === 'heading' && p.headingLevel === 1).map((p) => p.text);
    expect(headings).toEqual(sectionHeadings);

    // Each quote is one paragraph followed by a footnote naming its document and range.
    const zip = new ZipArchive(bytes);
    const footnotes = [...zip.read('word/footnotes.xml')!.toString('utf8').matchAll(/（文档 ([^，]+)，字符 (\d+)–(\d+)）/g)]
      .map((m) => ({ documentId: m[1]!, start: Number(m[2]), end: Number(m[3]) }));
    expect(footnotes.length).toBeGreaterThanOrEqual(sectionHeadings.length);
    const documentXml = zip.read('word/document.xml')!.toString('utf8');
    const quotedParagraphs = [...documentXml.matchAll(/<w:p>(?:(?!<\/w:p>).)*?<w:footnoteReference[^>]*\/>(?:(?!<\/w:p>).)*?<\/w:p>/gs)]
      .map((m) => [...m[0].matchAll(/<w:t[^>]*>([^<]*)<\/w:t>/g)].map((t) => t[1]).join(''));
    expect(quotedParagraphs).toHaveLength(footnotes.length);
    quotedParagraphs.forEach((quoted, i) => {
      const source = t.kb.getDocument(footnotes[i]!.documentId)!;
      expect(source, footnotes[i]!.documentId).toBeDefined();
      const cited = source.text.slice(footnotes[i]!.start, footnotes[i]!.end);
      // What our parser read back is the same paragraph.
      expect(parsed.paragraphs.some((p) => p.text === quoted.trim())).toBe(true);
      for (const sentence of splitSentences(quoted)) expect(cited).toContain(sentence.text);
    });
    // Suggestion i's section quotes section i of the seed reply first.
    const seedQuotes = footnotes.filter((f) => f.documentId === SEED_ID);
    expect(seedQuotes.length).toBe(5);
    const seed = t.kb.getDocument(SEED_ID)!;
    seedQuotes.forEach((f, i) => {
      const paragraph = seed.paragraphs.find((p) => p.start <= f.start && f.end <= p.end)!;
      expect(paragraph.headingPath[0]).toBe(sectionHeadings[i]);
    });
  });

  it('mirrors the proposal numbering and leaves a marked gap where no precedent exists', async () => {
    const text = '关于发展低空经济的建议\n（一）建设无人机起降场，完善低空航线。\n（二）加快高校毕业生留省就业，提高生活补贴。\n（三）培育火星殖民飞船的量子曲率引擎。';
    const { file } = await download('/api/draft', { text }, 'gap.docx');
    const parsed = await parseFile(file, { passageMaxChars: 300 });
    const headings = parsed.paragraphs.filter((p) => p.role === 'heading').map((p) => p.text);
    expect(headings.map((h) => h.slice(0, 2))).toEqual(['一、', '二、', '三、']);
    expect(parsed.text).toContain('未找到覆盖本条建议的先例');
  });

  it('exports the comparison (suggestion | precedent | source | coverage) as a Word table', async () => {
    const { file } = await download('/api/precedents/export', { text: proposal }, 'compare.docx');
    const parsed = await parseFile(file, { passageMaxChars: 300 });
    expect(parsed.text).toContain('覆盖率');
    expect(parsed.text).toContain('《关于加强我省创新创业人才队伍建设的建议（第26号提案）的答复》');
    expect(parsed.text).toMatch(/\d+%/);
    for (const heading of sectionHeadings) expect(parsed.text).toContain(heading.replace(/关于[“"](.+)[”"]的建议$/, '$1'));
  });

  it('exports the same comparison as an Excel sheet: a row per precedent, the suggestion on each, coverage a number shown as a percentage', async () => {
    const result = (await (await post('/api/precedents', { text: proposal })).json()) as PrecedentsResult;
    const response = await post('/api/precedents/export', { text: proposal, format: 'xlsx' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(response.headers.get('content-disposition')).toContain(encodeURIComponent('先例对照表.xlsx'));
    const zip = new ZipArchive(Buffer.from(await response.arrayBuffer()));
    const unescape = (x: string) => x.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    const strings = [...zip.read('xl/sharedStrings.xml')!.toString('utf8').matchAll(/<si><t[^>]*>([^<]*)<\/t><\/si>/g)].map((m) => unescape(m[1]!));
    // Each row as its cells' values by column letter: shared strings resolved, numbers as numbers.
    const rows = [...zip.read('xl/worksheets/sheet1.xml')!.toString('utf8').matchAll(/<row r="\d+">(.*?)<\/row>/g)].map(([, cells]) =>
      Object.fromEntries([...cells!.matchAll(/<c r="([A-Z]+)\d+"([^>]*?)(?:\/>|><v>([^<]*)<\/v><\/c>)/g)]
        .filter((c) => c[3] !== undefined)
        .map(([, column, attributes, value]) => [column!, / t="s"/.test(attributes!) ? strings[Number(value)]! : Number(value)])),
    );
    expect(rows[0]!.A).toBe('先例对照表：关于加强我省创新创业人才队伍建设的建议');
    expect(rows[2]).toEqual({ A: '序号', B: '建议', C: '先例段落', D: '出处', E: '覆盖率' });
    const expected = result.bySuggestion.flatMap(({ suggestion, precedents }, i) =>
      precedents.length === 0 ? [{ A: i + 1, B: suggestion.text, C: '（未找到先例）' }] : precedents.map((p) => ({ A: i + 1, B: suggestion.text, C: p.text, E: p.coverage })));
    expect(rows.slice(3).map(({ D: _source, ...row }) => row)).toEqual(expected);
    expect(rows.slice(3).some((row) => String(row.D).includes('《关于加强我省创新创业人才队伍建设的建议（第26号提案）的答复》'))).toBe(true);
    expect(zip.read('xl/styles.xml')!.toString('utf8')).toContain('formatCode="0%"');
  });

  it('with KB_LLM_* and rewrite: true, adds the model\'s paragraph per section, citations as footnote numbers, uncited sentences flagged', async () => {
    const prompts: string[] = [];
    const stubModel = (async (_url: string | URL | Request, init?: RequestInit) => {
      const { messages } = JSON.parse(String(init!.body)) as { messages: Array<{ content: string }> };
      prompts.push(messages.at(-1)!.content);
      const content = '我们已构建人才政策体系并持续完善。[1] 下一步将争取更多中央资金。';
      return new Response(JSON.stringify({ choices: [{ message: { content } }] }), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const withModel = await serve(t.kb, { ...t.config, llmUrl: 'http://127.0.0.1:9/v1', llmModel: 'stub' }, { fetchImpl: stubModel });
    try {
      const response = await fetch(`${withModel.url}/api/draft`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: proposal, rewrite: true }) });
      expect(response.status).toBe(200);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(prompts).toHaveLength(5);
      // The model sees the suggestion and the section's precedents, numbered.
      expect(prompts[0]).toContain('落实‘人才强省’政策');
      expect(prompts[0]).toMatch(/\[1\] （《关于加强我省创新创业人才队伍建设的建议（第26号提案）的答复》/);
      const xml = new ZipArchive(bytes).read('word/document.xml')!.toString('utf8');
      expect(xml).toContain('我们已构建人才政策体系并持续完善。');
      expect(xml).not.toContain('[1]');
      // The uncited sentence is highlighted; the cited one carries its footnote number in superscript.
      expect(xml).toMatch(/<w:highlight w:val="yellow"\/>(?:(?!<\/w:r>).)*下一步将争取更多中央资金。/s);
      expect(xml).toMatch(/<w:vertAlign w:val="superscript"\/>(?:(?!<\/w:r>).)*<w:t[^>]*>1<\/w:t>/s);
      // The precedents stay below the rewrite, verbatim.
      const file = path.join(tmp, 'rewritten.docx');
      fs.writeFileSync(file, bytes);
      const parsed = await parseFile(file, { passageMaxChars: 300 });
      expect(parsed.paragraphs.filter((p) => p.role === 'heading').map((p) => p.text)).toEqual(sectionHeadings);
    } finally {
      await withModel.close();
    }
  });

  it('names a missing or oversized proposal as field text', async () => {
    const empty = await post('/api/draft', { text: '' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { field: string } }).error.field).toBe('text');
    const long = await post('/api/precedents/export', { text: '提'.repeat(20_001) });
    expect(long.status).toBe(400);
  });
});
