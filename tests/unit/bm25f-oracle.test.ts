/**
 * The lexical index's scores against BM25F written out directly: for every
 * query term and field, weight · idf · tf·(k1+1) / (tf + k1·(1 − b + b·len/avg)),
 * plus the same over the passage's whole document for the words and bigrams
 * fields, a document's len capped at documentLengthCap · avg. The index computes this from compressed postings, a pending buffer,
 * per-document sums kept up to date on add, and a top-k heap; the oracle
 * recounts everything from the passages. Small hand cases, so every index is
 * below the pruning threshold and every term is scored.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LEXICAL_PARAMS, LexicalIndex, PolicyTokenizer, foldText, type LexicalParams, type QueryTerms } from '../../kb/index/lexical/lexical.ts';
import { bigramsOf, splitAnalysed, type AnalysisFields } from '../../kb/index/lexical/tokenizer.ts';
import { BIGRAM_REFERENCE_PARAMS } from '../../bench/bigram-reference.ts';

const tokenizer = new PolicyTokenizer();

type FieldName = 'words' | 'bigrams' | 'contextWords' | 'contextBigrams';
const FIELDS: FieldName[] = ['words', 'bigrams', 'contextWords', 'contextBigrams'];
/** The fields whose terms are also counted over the whole document, and the parameters they use there. */
const DOCUMENT_FIELDS = { words: 'documentWords', bigrams: 'documentBigrams' } as const;

interface OraclePassage {
  key: number;
  group: string;
  terms: Record<FieldName, string[]>;
}

function termsOf(key: number, fields: AnalysisFields): OraclePassage {
  const parts = splitAnalysed(tokenizer.analyze(fields));
  const split = (s: string) => s.split(' ').filter(Boolean);
  return {
    key,
    group: parts.group,
    terms: { words: split(parts.words), bigrams: bigramsOf(foldText(fields.text)), contextWords: split(parts.contextWords), contextBigrams: bigramsOf(parts.context) },
  };
}

const count = (list: string[], term: string) => list.filter((t) => t === term).length;

function bm25(weight: number, k1: number, b: number, idfN: number, df: number, tf: number, length: number, average: number): number {
  const idf = Math.log(1 + (idfN - df + 0.5) / (df + 0.5));
  return (weight * idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / average));
}

/** Every passage holding some query term, with its score, best first. */
function oracleScores(passages: OraclePassage[], query: QueryTerms, params: LexicalParams): Array<{ key: number; score: number }> {
  const n = passages.length;
  const groups = new Map<string, OraclePassage[]>();
  for (const p of passages) if (p.group) groups.set(p.group, [...(groups.get(p.group) ?? []), p]);
  const average = (field: FieldName) => Math.max(passages.reduce((sum, p) => sum + p.terms[field].length, 0) / n, 1);
  const queryTermsOf = (field: FieldName) => (field === 'words' || field === 'contextWords' ? query.words : query.bigrams);

  const out: Array<{ key: number; score: number }> = [];
  for (const p of passages) {
    let score = 0;
    let touched = false;
    for (const field of FIELDS) {
      const { weight, k1, b } = params[field];
      for (const term of queryTermsOf(field)) {
        const tf = count(p.terms[field], term);
        if (tf === 0) continue;
        touched = true;
        const df = passages.filter((q) => q.terms[field].includes(term)).length;
        score += bm25(weight, k1, b, n, df, tf, p.terms[field].length, average(field));
      }
    }
    if (!touched) continue;
    const members = groups.get(p.group);
    if (members) {
      for (const field of ['words', 'bigrams'] as const) {
        const { weight, k1, b } = params[DOCUMENT_FIELDS[field]];
        const groupLength = (ps: OraclePassage[]) => ps.reduce((sum, q) => sum + q.terms[field].length, 0);
        const groupAverage = Math.max([...groups.values()].reduce((sum, ps) => sum + groupLength(ps), 0) / groups.size, 1);
        for (const term of queryTermsOf(field)) {
          const tf = members.reduce((sum, q) => sum + count(q.terms[field], term), 0);
          if (tf === 0) continue;
          const gdf = [...groups.values()].filter((ps) => ps.some((q) => q.terms[field].includes(term))).length;
          score += bm25(weight, k1, b, groups.size, gdf, tf, Math.min(groupLength(members), params.documentLengthCap * groupAverage), groupAverage);
        }
      }
    }
    out.push({ key: p.key, score });
  }
  return out.sort((a, b) => b.score - a.score || a.key - b.key);
}

const PASSAGES: AnalysisFields[] = [
  { documentId: 'flood.txt', title: '城区内涝治理实施方案', headingPath: ['一、总体要求'], text: '加快城区排水管网改造，城区内涝明显缓解。' },
  { documentId: 'flood.txt', title: '城区内涝治理实施方案', headingPath: ['二、保障措施'], text: '排水管网、排水管网、排水管网建设资金由市财政保障。' },
  { documentId: 'kindergarten.txt', title: '普惠性民办幼儿园认定办法', headingPath: ['第二章 认定条件'], text: '普惠性幼儿园收费标准由价格主管部门核定。' },
  { documentId: 'kindergarten.txt', title: '普惠性民办幼儿园认定办法', headingPath: ['第二章 认定条件'], text: '幼儿园应当取得办学许可证，园舍符合安全标准。' },
  { documentId: 'kindergarten.txt', title: '普惠性民办幼儿园认定办法', headingPath: ['第三章 扶持'], text: '对认定的普惠性民办幼儿园给予生均补助。' },
  // No document and no title: scored as a passage only.
  { text: '老城区幼儿园周边排水设施改造纳入年度计划。' },
  { documentId: 'elevator.txt', title: '既有住宅加装电梯补贴办法', text: '既有住宅加装电梯每台补贴二十万元，资金由市财政保障。' },
];

const QUERIES = ['城区内涝 排水管网', '普惠性幼儿园收费标准', '城区排水设施', '办学许可证', '财政保障资金', '加装电梯补贴多少钱？'];

const field = (weight: number, k1: number, b: number) => ({ weight, k1, b });
const off = field(0, 1.2, 0.75);

const defaultIndex = new LexicalIndex(tokenizer);
PASSAGES.forEach((fields, i) => defaultIndex.add(i + 1, tokenizer.analyze(fields), fields.text));
const defaultHits = new Map(QUERIES.map((query) => [query, defaultIndex.searchTerms(tokenizer.queryTerms(query), 100)]));

const PARAMETER_SETS: Array<{ name: string; params: LexicalParams }> = [
  { name: 'the defaults', params: DEFAULT_LEXICAL_PARAMS },
  {
    name: 'passage words only, no length normalisation',
    params: { ...DEFAULT_LEXICAL_PARAMS, words: field(1, 1.2, 0), bigrams: off, contextWords: off, contextBigrams: off, documentWords: off, documentBigrams: off },
  },
  {
    name: 'full length normalisation, heavy documents',
    params: { ...DEFAULT_LEXICAL_PARAMS, bigrams: field(0.7, 2, 1), contextBigrams: field(1.5, 0.5, 1), documentWords: field(3, 1.5, 1), documentBigrams: field(2, 0.3, 0.2) },
  },
  { name: "the evaluation's plain bigram reference", params: BIGRAM_REFERENCE_PARAMS },
  // The flood and kindergarten documents are longer than the average document: the cap shortens them.
  { name: 'document lengths capped at the average', params: { ...DEFAULT_LEXICAL_PARAMS, documentLengthCap: 1 } },
];

describe('BM25F scores against the formula written out', () => {
  for (const { name, params } of PARAMETER_SETS) {
    it(`match on hand cases with ${name}`, () => {
      const index = new LexicalIndex(tokenizer, params);
      const oraclePassages = PASSAGES.map((fields, i) => termsOf(i + 1, fields));
      PASSAGES.forEach((fields, i) => index.add(i + 1, tokenizer.analyze(fields), fields.text));
      for (const query of QUERIES) {
        const terms = tokenizer.queryTerms(query);
        const expected = oracleScores(oraclePassages, terms, params).filter((hit) => hit.score > 0);
        const got = index.searchTerms(terms, 100);
        expect(expected.length, query).toBeGreaterThan(0);
        expect(got.map((hit) => hit.key), query).toEqual(expected.map((hit) => hit.key));
        got.forEach((hit, i) => expect(hit.score, `${query} #${i + 1}`).toBeCloseTo(expected[i]!.score, 9));
        // The heap keeps the same order when asked for fewer.
        expect(index.searchTerms(terms, 2).map((hit) => hit.key), query).toEqual(expected.slice(0, 2).map((hit) => hit.key));
        // The same parameters given to one query of an index built with the defaults score the same, and leave its own alone.
        expect(defaultIndex.searchTerms(terms, 100, undefined, params), query).toEqual(got);
        expect(defaultIndex.searchTerms(terms, 100), query).toEqual(defaultHits.get(query));
      }
    });
  }

  it('saturate repeated terms', () => {
    const index = new LexicalIndex(tokenizer);
    PASSAGES.forEach((fields, i) => index.add(i + 1, tokenizer.analyze(fields), fields.text));
    const [best, second] = index.search('排水管网', 10);
    // Passage 2 says 排水管网 three times, passage 1 once: it ranks first, but far from three times the score.
    expect([best!.key, second!.key]).toEqual([2, 1]);
    expect(best!.score / second!.score).toBeLessThan(2);
  });

  it('still match after the recent postings are folded and more passages are added', () => {
    const index = new LexicalIndex(tokenizer);
    const oraclePassages: OraclePassage[] = [];
    PASSAGES.forEach((fields, i) => {
      index.add(i + 1, tokenizer.analyze(fields), fields.text);
      oraclePassages.push(termsOf(i + 1, fields));
      // A search folds the pending additions into a segment: the next additions land in another one.
      if (i % 2 === 0) index.search('城区', 1);
    });
    for (const query of QUERIES) {
      const terms = tokenizer.queryTerms(query);
      const expected = oracleScores(oraclePassages, terms, DEFAULT_LEXICAL_PARAMS);
      const got = index.searchTerms(terms, 100);
      expect(got.map((hit) => hit.key), query).toEqual(expected.map((hit) => hit.key));
      got.forEach((hit, i) => expect(hit.score, query).toBeCloseTo(expected[i]!.score, 9));
    }
  });
});
