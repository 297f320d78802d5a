import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANALYSIS_VERSION,
  LexicalIndex,
  PolicyTokenizer,
  foldText,
  highlightRanges,
  isCurrentAnalysis,
} from '../../kb/index/lexical/lexical.ts';
import { bigramsOf, parseDictionary } from '../../kb/index/lexical/tokenizer.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const tokenizer = new PolicyTokenizer();

function indexOf(passages: Array<{ text: string; title?: string; headingPath?: string[]; documentId?: string }>): LexicalIndex {
  const index = new LexicalIndex(tokenizer);
  passages.forEach((p, i) => index.add(i + 1, tokenizer.analyze(p), p.text));
  return index;
}

describe('PolicyTokenizer', () => {
  it('keeps policy terms whole in search-mode cuts, with their sub-words', () => {
    const words = tokenizer.words('支持高校毕业生创新创业，提高留吉率，落实稳岗返还和职称评聘政策');
    for (const term of ['高校毕业生', '毕业生', '创新创业', '留吉率', '稳岗返还', '职称评聘']) expect(words).toContain(term);
    expect(words).not.toContain('，');
    expect(words).not.toContain('和');
  });

  it('folds full-width letters and digits without moving offsets', () => {
    expect(foldText('ＣＯＶＩＤ－１９　疫情')).toBe('covid-19 疫情');
    expect(foldText('ＡＢＣ').length).toBe(3);
  });

  it('makes bigrams across line breaks but not across punctuation, and keeps Latin runs whole', () => {
    expect(bigramsOf('复工\n复产，covid19防控')).toEqual(['复工', '工复', '复产', 'covid19防', '防控']);
    expect(bigramsOf('疫。')).toEqual(['疫']);
  });

  it('drops question words from queries and reads quoted phrases', () => {
    const terms = tokenizer.queryTerms('请问“稳岗返还”的比例是多少？');
    expect(terms.phrases).toEqual(['稳岗返还']);
    expect(terms.words).toContain('比例');
    expect(terms.words).not.toContain('多少');
    expect(terms.bigrams).not.toContain('多少');
  });

  it('stores a versioned analysed form', () => {
    const analysed = tokenizer.analyze({ text: '高校毕业生就业', title: '通知', headingPath: ['一、总则'], documentId: 'a.txt' });
    expect(analysed.startsWith(ANALYSIS_VERSION)).toBe(true);
    expect(isCurrentAnalysis(analysed)).toBe(true);
    expect(isCurrentAnalysis('old-format')).toBe(false);
  });

  it('parses dictionaries leniently: comments skipped, frequency filled in', () => {
    expect(parseDictionary('# note\n留吉率\n稳岗 500 v\n人才强省 n\n')).toBe('留吉率 100000\n稳岗 500 v\n人才强省 100000 n');
  });
});

describe('user dictionary in the data folder', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-lexical-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is picked up when it appears and when it changes, without a new tokenizer', () => {
    const userDict = path.join(dir, 'user-dict.txt');
    const local = new PolicyTokenizer({ userDictPath: userDict, userDictCheckMs: 0 });
    const sentence = '推进旅发大会筹办工作';
    expect(local.words(sentence)).not.toContain('旅发大会');
    fs.writeFileSync(userDict, '旅发大会 200000 n\n');
    expect(local.words(sentence)).toContain('旅发大会');
    fs.writeFileSync(userDict, '# emptied\n筹办工作 300000 n\n');
    // A different size is a change even within the same mtime tick.
    const words = local.words(sentence);
    expect(words).toContain('筹办工作');
    expect(words).not.toContain('旅发大会');
  });
});

describe('LexicalIndex', () => {
  const passages = [
    { text: '吉人回乡累计达到58.2万人，高校毕业生留吉率逐年提升。', title: '关于人才工作的答复', documentId: 'a' },
    { text: '深化职称评聘改革，专业技术人才队伍不断壮大。', title: '关于人才工作的答复', documentId: 'a' },
    { text: '疫情期间，企业复工复产，社保费阶段性减免，稳岗返还比例提高到60%。', title: '支持企业复工复产的通知', documentId: 'b' },
    { text: '职称 评\n聘工作按照属地原则组织。', title: '职称工作通知', documentId: 'c' },
  ];

  it('ranks the passage holding the query terms first', () => {
    const index = indexOf(passages);
    expect(index.size).toBe(4);
    expect(index.search('稳岗返还比例是多少', 3)[0]?.key).toBe(3);
    expect(index.search('高校毕业生留在吉林的比例', 3)[0]?.key).toBe(1);
    const hits = index.search('职称评聘', 10);
    expect(hits.map((h) => h.key).sort()).toEqual([2, 4]);
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
  });

  it('matches quoted phrases exactly, ignoring whitespace and line breaks in the passage', () => {
    const index = indexOf(passages);
    expect(index.search('"职称评聘"', 10).map((h) => h.key).sort()).toEqual([2, 4]);
    expect(index.search('“评聘改革”', 10).map((h) => h.key)).toEqual([2]);
    // Each word occurs, but not as this phrase.
    expect(index.search('"人才评聘"', 10)).toEqual([]);
  });

  it('asks the filter only about keys that would enter the top k', () => {
    const index = indexOf(passages);
    const asked: number[] = [];
    const hits = index.search('职称评聘', 10, (key) => {
      asked.push(key);
      return key !== 2;
    });
    expect(hits.map((h) => h.key)).toEqual([4]);
    expect(asked.sort()).toEqual([2, 4]);
  });

  it('forgets removed passages and replaces re-added keys', () => {
    const index = indexOf(passages);
    expect(index.remove(2)).toBe(true);
    expect(index.remove(2)).toBe(false);
    expect(index.size).toBe(3);
    expect(index.search('职称评聘', 10).map((h) => h.key)).toEqual([4]);
    index.add(4, tokenizer.analyze({ text: '公积金缴存比例调整。' }), '公积金缴存比例调整。');
    expect(index.size).toBe(3);
    expect(index.search('职称评聘', 10)).toEqual([]);
    expect(index.search('公积金', 10).map((h) => h.key)).toEqual([4]);
  });

  it('stays correct through compaction after many removals and additions between searches', () => {
    const index = new LexicalIndex(tokenizer);
    const text = (i: number) => `第${i}号通知：编号${i}的企业申请稳岗返还，另有编号${i + 1000}。`;
    for (let i = 0; i < 200; i++) index.add(i, tokenizer.analyze({ text: text(i) }), text(i));
    expect(index.search('编号150', 1)[0]?.key).toBe(150);
    for (let i = 0; i < 150; i++) index.remove(i);
    expect(index.size).toBe(50);
    // The first search after the removals compacts; the ranking must still point at the right key.
    expect(index.search('编号170', 1)[0]?.key).toBe(170);
    expect(index.search('编号10', 50).every((h) => h.key >= 150)).toBe(true);
    for (let i = 0; i < 10; i++) index.add(1000 + i, tokenizer.analyze({ text: text(1000 + i) }), text(1000 + i));
    expect(index.search('编号1005', 1)[0]?.key).toBe(1005);
    expect(index.search('稳岗返还', 100).length).toBe(60);
  });

  it('still answers queries made only of very common terms in a large index', () => {
    const index = new LexicalIndex(tokenizer);
    for (let i = 0; i < 6000; i++) {
      const text = `疫情防控工作第${i}项：${i % 2 === 0 ? '企业复工' : '学校开学'}安排。`;
      index.add(i, tokenizer.analyze({ text, documentId: `d${i % 300}` }), text);
    }
    // Every term of these queries is in half or all of the passages: skipped for speed, except the rarest.
    expect(index.search('疫情防控工作', 10)).toHaveLength(10);
    const reopening = index.search('学校开学', 10);
    expect(reopening).toHaveLength(10);
    expect(reopening.every((h) => h.key % 2 === 1)).toBe(true);
    expect(index.search('"防控工作第17项"', 10).map((h) => h.key)).toEqual([17]);
  });

  it('scores the whole document: a question naming the document finds its other passages', () => {
    const docs = [
      { text: '大理市人民政府关于疫情防控的通告', documentId: 'dali' },
      { text: '任何单位和个人应当服从防控决定，如实报告旅居史。', documentId: 'dali' },
      { text: '任何单位和个人应当遵守交通规则，如实报告事故。', documentId: 'other' },
    ];
    const index = indexOf(docs);
    expect(index.search('大理市要求单位和个人如实报告什么', 2)[0]?.key).toBe(2);
  });
});

describe('highlightRanges', () => {
  it('marks query words and phrases in the original text', () => {
    const text = '企业复工复产期间，社保费\n阶段性减免。';
    const ranges = highlightRanges('复工复产 "社保费阶段性"', text, tokenizer);
    expect(ranges.map(([s, e]) => text.slice(s, e))).toEqual(['复工复产', '社保费\n阶段性']);
  });
});

describeWithSharedCorpus('LexicalIndex on real NCPQA documents', () => {
  it('finds the passage answering real questions among all NCPQA documents', () => {
    const docsDir = sharedPath('ncpqa', 'docs');
    const index = new LexicalIndex(tokenizer);
    const passages: Array<{ file: string; text: string }> = [];
    for (const name of fs.readdirSync(docsDir).sort()) {
      const text = fs.readFileSync(path.join(docsDir, name), 'utf8');
      // Throwaway 300-character windows: the parser's passages are tested elsewhere.
      for (let at = 0; at < text.length; at += 300) {
        const slice = text.slice(at, at + 300);
        passages.push({ file: `ncpqa/docs/${name}`, text: slice });
        index.add(passages.length - 1, tokenizer.analyze({ text: slice, documentId: name }), slice);
      }
    }
    const questions = fs
      .readFileSync(sharedPath('ncpqa', 'questions.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .slice(0, 100)
      .map((line) => JSON.parse(line) as { question: string; answer: string; file: string });
    let found = 0;
    for (const q of questions) {
      const hits = index.search(q.question, 10);
      if (hits.some((h) => passages[h.key]!.file === q.file)) found++;
    }
    // The right document within the top 10 for most of the first 100 questions (measured 0.9+).
    expect(found).toBeGreaterThanOrEqual(85);
  });
});
