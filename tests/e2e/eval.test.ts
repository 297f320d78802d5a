import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvalError, goldCoverage, parseEvalArgs, parseEvalRuns, runEval, type EvalOptions } from '../../bench/eval.ts';
import { loadConfig } from '../../kb/config.ts';

let tmp: string;
let corpus: string;
const lines: string[] = [];

function collect(): { print: (line: string) => void; progress: (line: string) => void } {
  lines.length = 0;
  return { print: (line) => lines.push(line), progress: () => {} };
}

function options(extra: Partial<EvalOptions>): EvalOptions {
  return {
    corpus,
    exclude: ['drafts'],
    mode: 'lexical',
    k: 10,
    cwd: tmp,
    jsonl: { textField: 'reply', titleField: 'subject', idField: 'id' },
    // No model on purpose and no download: hybrid and dense cannot run here.
    config: loadConfig({ KB_MODEL_DOWNLOAD: '0', KB_MODEL_DIR: path.join(tmp, 'no-models') }, tmp),
    ...extra,
  };
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-eval-'));
  corpus = path.join(tmp, 'corpus');
  fs.mkdirSync(path.join(corpus, 'policies'), { recursive: true });
  fs.mkdirSync(path.join(corpus, 'drafts'), { recursive: true });
  fs.writeFileSync(
    path.join(corpus, 'policies', 'pension.txt'),
    '关于调整城镇职工养老保险缴费基数的通知\n\n各市（州）人力资源和社会保障局：\n\n一、2024年度全省城镇职工基本养老保险个人缴费基数下限为上年度全口径城镇单位就业人员平均工资的60%，上限为300%。\n\n二、本通知自2024年7月1日起执行。\n',
  );
  fs.writeFileSync(
    path.join(corpus, 'policies', 'loans.md'),
    '# 创业担保贷款实施办法\n\n## 一、贷款额度\n\n符合条件的个人创业者可申请创业担保贷款，最高额度为30万元，小微企业最高可申请400万元。\n\n## 二、贴息\n\n财政部门按贷款市场报价利率的50%给予贴息。\n',
  );
  fs.writeFileSync(
    path.join(corpus, 'policies', 'housing.txt'),
    '住房公积金缴存比例调整的通知\n\n单位和职工住房公积金缴存比例均为5%至12%，由单位自主确定。\n',
  );
  // The same notice republished under another name: retrieval folds the copy into one hit (alsoIn).
  fs.copyFileSync(path.join(corpus, 'policies', 'housing.txt'), path.join(corpus, 'policies', 'housing-copy.txt'));
  fs.writeFileSync(
    path.join(corpus, 'replies.jsonl'),
    [
      { id: 7, subject: '小区路灯长期不亮', reply: '您反映的小区路灯不亮问题，经市城管局核实，已安排维修人员更换灯具，路灯已恢复照明。' },
      { id: 8, subject: '学校门口交通拥堵', reply: '关于学校门口上下学时段交通拥堵的问题，交警部门已增派警力疏导。' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  // Excluded: would otherwise compete for the pension question.
  fs.writeFileSync(path.join(corpus, 'drafts', 'pension-draft.txt'), '养老保险个人缴费基数下限为平均工资的60%（征求意见稿）。\n');
  fs.writeFileSync(
    path.join(tmp, 'questions.jsonl'),
    [
      { id: 'q1', kind: 'policy', question: '养老保险个人缴费基数下限是多少？', answer: '平均工资的60%', file: 'policies/pension.txt' },
      { id: 'q2', kind: 'policy', question: '个人创业者申请创业担保贷款最高多少钱？', answer: '最高额度为30万元', doc: 'policies/loans.md' },
      { id: 'q3', kind: 'other', question: '公积金缴存比例范围是什么？', answer: '5%至12%', file: 'policies/missing.txt' },
      { id: 'q4', kind: 'other', question: '住房公积金缴存比例是多少？', answer: '5%至12%', file: 'policies/housing.txt' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  fs.writeFileSync(path.join(tmp, 'precedents.jsonl'), JSON.stringify({ id: 'p1', query: '我们小区的路灯坏了好久，晚上不亮', document: 'replies.jsonl#7' }) + '\n');
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('npm run eval', () => {
  it('builds a knowledge base of the corpus and prints the exact closing line', async () => {
    const out = collect();
    const report = await runEval(options({ questions: 'questions.jsonl', json: 'out/eval.json' }), out.print, out.progress);
    // q1, q2 and q4 are found first (q4 in a hit that folds both copies of the housing notice);
    // q3 points at a file that is not in the corpus, so it can never be found.
    expect(lines[lines.length - 1]).toBe('recall@1=0.750 recall@5=0.750 recall@10=0.750 mrr@10=0.750 n=4 mode=lexical');
    expect(report.reused).toBe(false);
    expect(report.dataDir.startsWith(path.join(tmp, '.eval-data'))).toBe(true);
    expect(report.byKind.policy).toEqual({ n: 2, recall: { 1: 1, 5: 1, 10: 1 }, mrr: 1, mrrK: 10 });
    expect(report.byKind.other?.recall[10]).toBe(0.5);
    // Counting only each hit's own document, q4 is found exactly when the kept copy is housing.txt
    // (files are ingested in name order, so today the copy is kept and q4 counts through alsoIn).
    const keptCopy = report.questions.find((q) => q.id === 'q4')!.top[0];
    expect(['policies/housing.txt', 'policies/housing-copy.txt']).toContain(keptCopy);
    expect(report.strict.recall[1]).toBe(keptCopy === 'policies/housing.txt' ? 0.75 : 0.5);
    expect(report.missed).toEqual([{ id: 'q3', question: '公积金缴存比例范围是什么？', expected: 'policies/missing.txt' }]);
    expect(lines.some((l) => l.includes('q3') && l.includes('policies/missing.txt'))).toBe(true);
    expect(lines.some((l) => /^query latency: p50 [\d.]+ ms · p95 [\d.]+ ms/.test(l))).toBe(true);
    // The excluded draft is not in the knowledge base: no hit of any question comes from it.
    expect(report.questions.flatMap((q) => q.top).some((id) => id.startsWith('drafts/'))).toBe(false);
    const json = JSON.parse(fs.readFileSync(path.join(tmp, 'out', 'eval.json'), 'utf8'));
    expect(json.lastLine).toBe(lines[lines.length - 1]);
  });

  it('reuses the built knowledge base on a second run, and rebuilds when a file is added', async () => {
    let out = collect();
    const second = await runEval(options({ questions: 'questions.jsonl' }), out.print, out.progress);
    expect(second.reused).toBe(true);
    expect(lines[lines.length - 1]).toBe('recall@1=0.750 recall@5=0.750 recall@10=0.750 mrr@10=0.750 n=4 mode=lexical');

    fs.writeFileSync(path.join(corpus, 'policies', 'roads.txt'), '关于农村公路养护的通知\n\n各县应当落实农村公路日常养护责任。\n');
    out = collect();
    const third = await runEval(options({ questions: 'questions.jsonl' }), out.print, out.progress);
    expect(third.reused).toBe(false);
    expect(lines[lines.length - 1]).toBe('recall@1=0.750 recall@5=0.750 recall@10=0.750 mrr@10=0.750 n=4 mode=lexical');
  });

  it('evaluates precedents by document id, JSONL records included', async () => {
    const out = collect();
    await runEval(options({ precedents: 'precedents.jsonl' }), out.print, out.progress);
    expect(lines[lines.length - 1]).toBe('recall@1=1.000 recall@5=1.000 recall@10=1.000 mrr@10=1.000 n=1 mode=lexical');
  });

  it('--mode bigram ranks with the plain bigram reference, says so, and answers nothing', async () => {
    const out = collect();
    const report = await runEval(options({ questions: 'questions.jsonl', mode: 'bigram' }), out.print, out.progress);
    expect(lines.some((l) => l.includes('mode=bigram (REFERENCE: plain character-bigram BM25'))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/ n=4 mode=bigram$/);
    expect(report.mode).toBe('bigram');
    // The four questions reuse their documents' words: the reference finds the three it can.
    expect(report.overall.recall[10]).toBe(0.75);
    await expect(runEval(options({ questions: 'questions.jsonl', mode: 'bigram', answers: true }), () => {}, () => {})).rejects.toThrow(/--mode bigram/);
  });

  it('runs hybrid without a model as lexical, loudly, and refuses dense', async () => {
    const out = collect();
    await runEval(options({ questions: 'questions.jsonl', mode: 'hybrid' }), out.print, out.progress);
    expect(lines.some((l) => l.startsWith('!!! NOTICE: --mode hybrid cannot run here'))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/ n=4 mode=lexical$/);

    const dense = runEval(options({ questions: 'questions.jsonl', mode: 'dense' }), () => {}, () => {});
    await expect(dense).rejects.toBeInstanceOf(EvalError);
    await expect(dense).rejects.toMatchObject({ exitCode: 3 });
  });

  it('names the file and line of a malformed question', async () => {
    fs.writeFileSync(path.join(tmp, 'bad.jsonl'), '{"id":"x","question":"q","answer":"a","file":"f"}\n{"id":"y","question":"no answer"}\n');
    await expect(runEval(options({ questions: 'bad.jsonl' }), () => {}, () => {})).rejects.toThrow(/bad\.jsonl:2/);
  });

  it('parses the command line', () => {
    const parsed = parseEvalArgs([
      '--corpus', 'c', '--exclude', 'laws', '--exclude', 'services', '--questions', 'q.jsonl', '--mode', 'lexical', '--k', '20',
      '--jsonl-text', 'reply', '--jsonl-title', 'subject', '--jsonl-id', 'id',
    ]);
    expect(parsed).toMatchObject({
      corpus: 'c',
      exclude: ['laws', 'services'],
      questions: 'q.jsonl',
      mode: 'lexical',
      k: 20,
      jsonl: { textField: 'reply', titleField: 'subject', idField: 'id' },
    });
    expect(parseEvalArgs(['--corpus', 'c', '--questions', 'q']).mode).toBe('hybrid');
    expect(() => parseEvalArgs(['--questions', 'q'])).toThrow(/--corpus/);
    expect(() => parseEvalArgs(['--corpus', 'c', '--questions', 'q', '--mode', 'fast'])).toThrow(/--mode fast/);
    expect(() => parseEvalArgs(['--corpus', 'c', '--questions', 'q', '--k', '0'])).toThrow(/--k 0/);
  });

  it('exits non-zero with a message, not a stack trace, on bad arguments', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'bench/eval.ts', '--questions', 'q.jsonl'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('missing --corpus');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('--answers answers each question as /api/ask does and scores the answers against the gold answers', async () => {
    expect(parseEvalArgs(['--corpus', 'c', '--questions', 'q', '--answers']).answers).toBe(true);
    const out = collect();
    const report = await runEval(options({ questions: 'questions.jsonl', answers: true }), out.print, out.progress);
    const answers = report.answers!;
    expect(answers.n).toBe(4);
    // q1, q2 and q4 are answered from the sentence holding the gold answer; q3's file is not in the corpus.
    const held = answers.perQuestion.filter((q) => q.contains).map((q) => q.id);
    expect(held).toEqual(expect.arrayContaining(['q1', 'q2', 'q4']));
    expect(answers.containsGold).toBe(held.length / 4);
    expect(lines.some((l) => l.startsWith('answers (as POST /api/ask, k=8): n=4'))).toBe(true);
    expect(lines.some((l) => l.includes('rule: an answer holds the gold answer'))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^recall@1=/);
    await expect(runEval(options({ precedents: 'precedents.jsonl', answers: true }), () => {}, () => {})).rejects.toThrow(/--answers/);
  });

  it('repeated sets and --mode all ask every set in every mode, sets outer', () => {
    const runs = parseEvalRuns(['--corpus', 'c', '--questions', 'a.jsonl', '--questions', 'b.jsonl', '--precedents', 'p.jsonl', '--mode', 'all']);
    expect(runs.map((r) => `${r.questions ?? r.precedents}:${r.mode}`)).toEqual([
      'a.jsonl:bigram', 'a.jsonl:lexical', 'a.jsonl:dense', 'a.jsonl:hybrid',
      'b.jsonl:bigram', 'b.jsonl:lexical', 'b.jsonl:dense', 'b.jsonl:hybrid',
      'p.jsonl:bigram', 'p.jsonl:lexical', 'p.jsonl:dense', 'p.jsonl:hybrid',
    ]);
    expect(() => parseEvalRuns(['--corpus', 'c', '--questions', 'a', '--mode', 'all', '--json', 'out.json'])).toThrow(/--json/);
  });

  it('goldCoverage: contained, or half of a longer gold answer quoted in runs of four or more characters', () => {
    expect(goldCoverage('缴费基数下限为 平均工资的60%。', '平均工资的60%')).toEqual({ share: 1, contains: true });
    const gold = '市、区财政按每部电梯20万元给予补助，对纳入改造计划的，再增加5万元。';
    const half = goldCoverage('市、区财政按每部电梯20万元给予补助。', gold);
    expect(half.contains).toBe(true);
    expect(half.share).toBeGreaterThan(0.4);
    // Scattered two-character matches are chance, not a quote.
    expect(goldCoverage('财政补助电梯', gold).contains).toBe(false);
    // An answer longer than the gold answer must contain it.
    expect(goldCoverage(`${'无关内容'.repeat(20)}市、区财政按每部电梯20万元给予补助`, gold).contains).toBe(false);
  });
});
