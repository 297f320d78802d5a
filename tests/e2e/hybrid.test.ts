/**
 * The dense path end to end, with a real (random-weight) model: a knowledge
 * base built from corpus/ with the generated tiny BERT, loaded the way
 * `npm start` loads it (from KB_MODEL_DIR / KB_MODEL), served by the real
 * app: health, the three retrieval modes, answers, precedents, an upload
 * that embeds and a delete that leaves the HNSW index, and a model change
 * that is refused until `npm run kb -- reembed` re-embeds the store.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEval } from '../../bench/eval.ts';
import { loadConfig, type Config } from '../../kb/config.ts';
import { KnowledgeBase, KnowledgeBaseError } from '../../kb/kb.ts';
import { makeTinyModelDir, writeRandomBert } from '../../bench/random-bert.ts';
import { npmStart } from '../support/npm-start.ts';
import { hasChromium, launchChromium, SHOTS } from '../support/chromium.ts';
import { ADMIN_TOKEN, buildTestKb, PROJECT_CORPUS, serve, type RunningServer } from '../support/test-server.ts';
import { openCachedKb } from '../support/kb-cache.ts';
import type { RouteContract, RouteResponse } from '../../server/contract/define.ts';
import { deleteDocumentRoute, documentRoute, documentSimilarRoute, uploadRoute } from '../../server/contract/documents.ts';
import { askRoute, searchRoute, similarRoute } from '../../server/contract/search.ts';
import { healthRoute } from '../../server/contract/system.ts';
import { search as searchKnowledgeBase } from '../../search/retrieve.ts';
import { ingestPaths } from '../../ingest/ingest.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-hybrid-'));
let dataDir: string;
/** A second model: another id and another width, as switching to a different real model would be. */
const OTHER_MODEL_ID = 'test/tiny-bert-48';

let modelEnv: Record<string, string>;
let otherModelEnv: Record<string, string>;
let config: Config;
let kb: KnowledgeBase;
let srv: RunningServer;
let closed = false;

beforeAll(async () => {
  const { modelDir, modelId } = await makeTinyModelDir();
  modelEnv = { KB_MODEL_DIR: modelDir, KB_MODEL: modelId, KB_MODEL_DOWNLOAD: '0' };
  const otherModelDir = path.join(tmp, 'models');
  await writeRandomBert(path.join(otherModelDir, ...OTHER_MODEL_ID.split('/')), { layers: 1, hidden: 48, heads: 2, ffn: 96, seed: 7 });
  otherModelEnv = { KB_MODEL_DIR: otherModelDir, KB_MODEL: OTHER_MODEL_ID, KB_MODEL_DOWNLOAD: '0' };
  // The sample corpus embedded with the tiny model: built once per change of its inputs, copied here.
  ({ kb, config, dataDir } = await openCachedKb({
    env: { ...modelEnv, KB_ADMIN_TOKEN: ADMIN_TOKEN, KB_UPLOAD_MAX_BYTES: '200000' },
    sources: [{ paths: [PROJECT_CORPUS], options: { root: PROJECT_CORPUS } }],
    check: ([report]) => expect(report!.failed).toEqual([]),
  }));
  srv = await serve(kb, config);
});

afterAll(async () => {
  if (!closed) {
    await srv?.close();
    kb?.close();
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A request to `route` at `url`; a 200 body is typed and checked against the route's contract. */
async function json<C extends RouteContract>(route: C, url: string, init: RequestInit = {}): Promise<{ status: number; body: RouteResponse<C>; text: string }> {
  const response = await fetch(url.startsWith('http') ? url : `${srv.url}${url}`, init);
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, body: undefined as RouteResponse<C>, text };
  return { status: response.status, body: route.response!.parse(JSON.parse(text)) as RouteResponse<C>, text };
}
const post = <C extends RouteContract>(route: C, url: string, payload: unknown) =>
  json(route, url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
const enc = encodeURIComponent;

const KINDERGARTEN_REPLY = '对市人大十七届四次会议第0056号建议的答复-学前教育学位.txt';

describe('the server with a model', () => {
  it('health says hybrid, names the model and its dimension, and every passage has a vector', async () => {
    const r = await json(healthRoute, '/api/health');
    expect(r.status).toBe(200);
    expect(r.body.mode).toBe('hybrid');
    expect(r.body.model).toEqual({ id: 'test/tiny-bert', dimension: 64 });
    expect(r.body.lexicalOnlyReason).toBeUndefined();
    expect(r.body.passages).toBeGreaterThan(50);
    expect(r.body.index.vectors).toBe(r.body.passages);
  });

  it('hybrid search fuses both retrievers: hits carry dense ranks and lexical ranks', async () => {
    const r = await json(searchRoute, `/api/search?q=${enc('普惠性民办幼儿园如何认定和扶持？')}&k=20&mode=hybrid`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.mode).toBe('hybrid');
    expect(r.body.lexicalOnly).toBe(false);
    expect(r.body.notice).toBeUndefined();
    const hits = r.body.hits;
    expect(hits.length).toBe(20);
    expect(hits.some((h) => h.ranks.dense !== undefined)).toBe(true);
    expect(hits.some((h) => h.ranks.lexical !== undefined)).toBe(true);
    // Lexical evidence still counts: the lexical first hit (the 认定 notice's 第四条) stays in the top three. The
    // generated model's dense ranks are noise, so which of the near-equal fused scores comes first is not asserted
    // (the 0056 reply quoting the notice's title, lexical 5 and dense 3, edges it by 0.0003).
    const lexicalFirst = hits.find((h) => h.ranks.lexical === 1);
    expect(lexicalFirst?.citation.documentId).toBe('青州市普惠性民办幼儿园认定和扶持管理办法-通知.txt');
    expect(hits.indexOf(lexicalFirst!)).toBeLessThan(3);
    // Fused scores are reciprocal-rank sums, best first.
    for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
  });

  it("dense mode answers from vectors alone, and a passage's own text ranks it first", async () => {
    const doc = (await json(documentRoute, `/api/documents/${enc(KINDERGARTEN_REPLY)}`)).body;
    expect(doc.paragraphs.length).toBeGreaterThan(3);
    const stored = kb.getDocument(KINDERGARTEN_REPLY)!;
    const passages = stored.passages.filter((p) => p.text.length >= 40).slice(0, 4);
    expect(passages.length).toBe(4);
    for (const passage of passages) {
      const r = await json(searchRoute, `/api/search?q=${enc(passage.text)}&k=5&mode=dense`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.mode).toBe('dense');
      const top = r.body.hits[0]!;
      expect(top.passageId).toBe(passage.id);
      expect(top.ranks).toEqual({ dense: 1 });
      // A dense hit's score is the cosine similarity of unit vectors.
      expect(top.score).toBeGreaterThan(0.9);
      expect(top.score).toBeLessThanOrEqual(1.0001);
    }
  });

  it('asks in hybrid mode and every quote is verified against the stored text', async () => {
    const r = await post(askRoute, '/api/ask', { question: '城区内涝治理采取了哪些措施？', mode: 'hybrid' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.mode).toBe('hybrid');
    expect(r.body.lexicalOnly).toBe(false);
    expect(r.body.verified).toBe(true);
    expect(r.body.answer, r.body.reason).not.toBeNull();
    expect(r.body.citations.length).toBeGreaterThan(0);
    expect(r.body.hits.some((h) => h.ranks.dense !== undefined)).toBe(true);
    for (const c of r.body.citations) {
      const doc = kb.getDocument(c.documentId)!;
      expect(doc.text.slice(c.start, c.end)).toBe(c.quote);
      expect(r.body.answer!.text).toContain(`${c.quote}[${c.n}]`);
    }
  });

  it('finds precedents for a pasted proposal through the hybrid retriever', async () => {
    const proposal =
      '关于加强城区防洪排涝能力建设的建议。近年来汛期暴雨频发，老城区多处路段积水严重。建议加快排水管网改造，提高泵站抽排能力。建议对易涝点逐一排查整治，建立积水预警机制。';
    const r = await post(similarRoute, '/api/similar', { text: proposal, k: 5 });
    expect(r.status, r.text).toBe(200);
    expect(r.body.mode).toBe('hybrid');
    expect(r.body.lexicalOnly).toBe(false);
    expect(r.body.documents[0]!.documentId).toContain('0093');
    expect(r.body.documents[0]!.pairs.length).toBeGreaterThanOrEqual(2);
    const dense = await post(similarRoute, '/api/similar', { text: proposal, k: 5, mode: 'dense' });
    expect(dense.status, dense.text).toBe(200);
    expect(dense.body.mode).toBe('dense');
    expect(dense.body.documents.length).toBeGreaterThan(0);
    const byDocument = await json(documentSimilarRoute, `/api/documents/${enc(KINDERGARTEN_REPLY)}/similar?k=3`);
    expect(byDocument.status, byDocument.text).toBe(200);
    expect(byDocument.body.mode).toBe('hybrid');
    expect(byDocument.body.documents.map((d) => d.documentId)).not.toContain(KINDERGARTEN_REPLY);
  });

  it('an upload embeds its passages into the HNSW index and a delete takes them out again', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const before = (await json(healthRoute, '/api/health')).body;
    const text = [
      '关于推进社区口袋公园建设的答复',
      '',
      '一、建设进展',
      '',
      '今年全市新建口袋公园二十八个，改造街角绿地十五处，新增公共绿地面积四点二万平方米，居民步行十分钟可达公园绿地的比例提高到百分之八十五。',
      '',
      '二、下一步打算',
      '',
      '我们将结合老旧小区改造和城市更新项目，利用边角地、闲置地继续建设口袋公园，并完善座椅、照明和无障碍设施，方便老年人和儿童就近休憩。',
      '',
    ].join('\n');
    const form = new FormData();
    form.append('files', new Blob([text]), '口袋公园答复.txt');
    const up = await json(uploadRoute, '/api/documents', { method: 'POST', body: form, headers: auth });
    expect(up.status, up.text).toBe(200);
    const result = up.body.results[0]!;
    expect(result.status).toBe('added');
    const added: number = result.document!.passageCount;
    expect(added).toBeGreaterThan(0);

    const after = (await json(healthRoute, '/api/health')).body;
    expect(after.passages).toBe(before.passages + added);
    expect(after.index.vectors).toBe(before.index.vectors + added);
    expect(kb.stats().embedded).toBe(after.passages);

    const uploaded = kb.getDocument('uploads/口袋公园答复.txt')!;
    const target = uploaded.passages.find((p) => p.text.length >= 40)!;
    const found = await json(searchRoute, `/api/search?q=${enc(target.text)}&k=5&mode=dense`);
    expect(found.body.hits[0]!.passageId).toBe(target.id);

    // A changed file under the same name replaces the old passages' vectors with the new ones.
    const revised = text.replace('二十八个', '三十一个') + '\n三、资金保障\n\n市财政安排专项资金一千二百万元，对各区口袋公园建设按照新增绿地面积给予以奖代补，并将养护经费纳入年度预算。\n';
    const second = new FormData();
    second.append('files', new Blob([revised]), '口袋公园答复.txt');
    const update = await json(uploadRoute, '/api/documents', { method: 'POST', body: second, headers: auth });
    expect(update.status, update.text).toBe(200);
    expect(update.body.results[0]!.status).toBe('updated');
    const revisedCount: number = update.body.results[0]!.document!.passageCount;
    expect(revisedCount).toBeGreaterThan(added);
    const afterUpdate = (await json(healthRoute, '/api/health')).body;
    expect(afterUpdate.index.vectors).toBe(before.index.vectors + revisedCount);
    expect(afterUpdate.index.vectors).toBe(afterUpdate.passages);
    const stale = await json(searchRoute, `/api/search?q=${enc(target.text)}&k=20&mode=dense`);
    expect(stale.body.hits.map((h) => h.passageId)).not.toContain(target.id);

    const del = await json(deleteDocumentRoute, `/api/documents/${enc('uploads/口袋公园答复.txt')}`, { method: 'DELETE', headers: auth });
    expect(del.status, del.text).toBe(200);
    const afterDelete = (await json(healthRoute, '/api/health')).body;
    expect(afterDelete.passages).toBe(before.passages);
    expect(afterDelete.index.vectors).toBe(before.index.vectors);
    const gone = await json(searchRoute, `/api/search?q=${enc(target.text)}&k=20&mode=dense`);
    expect(gone.body.hits.map((h) => h.citation.documentId)).not.toContain('uploads/口袋公园答复.txt');
  });
});

describe.skipIf(!hasChromium)('the page with a model', () => {
  it('shows no lexical-only banner, names the model, and badges each hit with the rank each retriever gave it', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${srv.url}/#/search?q=${enc('普惠性民办幼儿园如何认定和扶持？')}`);
      await page.waitForSelector('.hits .hit');
      await expect.poll(() => page.locator('#footer-status').textContent()).toContain('混合检索（test/tiny-bert）');
      expect(await page.locator('#banner').isHidden()).toBe(true);
      expect(await page.locator('.results-head').textContent()).toContain('混合检索');
      // Badges say in words which retriever found the passage; the ranks are in the tooltip.
      const badges = await page.locator('.hits .hit .rank').evaluateAll((els) => els.map((el) => ({ label: el.textContent ?? '', detail: el.getAttribute('title') ?? '' })));
      expect(badges.some((b) => /语义/.test(b.label) && /语义检索第 \d+ 名/.test(b.detail))).toBe(true);
      expect(badges.some((b) => /关键词/.test(b.label) && /关键词检索第 \d+ 名/.test(b.detail))).toBe(true);
      await page.screenshot({ path: path.join(SHOTS, 'hybrid-01-results.png'), fullPage: false });
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('npm run eval with a model', () => {
  it('evaluates dense and hybrid on a sub-folder corpus whose question files name paths from the folder above, reusing the build; another model re-embeds only its own cache', async () => {
    // Questions written against the project root (`corpus/…`), evaluated on corpus/ itself:
    // the ids are then `…` without the folder, as with --corpus ../shared/corpus/ncpqa.
    const root = path.dirname(PROJECT_CORPUS);
    const ownText = kb
      .getDocument(KINDERGARTEN_REPLY)!
      .passages.filter((p) => p.text.length >= 40)
      .slice(0, 3);
    const questionsFile = path.join(tmp, 'own-text-questions.jsonl');
    fs.writeFileSync(
      questionsFile,
      ownText
        .map((p, i) => JSON.stringify({ id: `q${i}`, question: p.text, answer: p.text.slice(5, 25), file: path.relative(root, path.join(PROJECT_CORPUS, KINDERGARTEN_REPLY)) }))
        .join('\n'),
    );
    const evalData = path.join(tmp, 'eval-data');
    const lines: string[] = [];
    const progress: string[] = [];
    const run = (mode: 'dense' | 'hybrid') =>
      runEval(
        { corpus: PROJECT_CORPUS, exclude: [], questions: questionsFile, mode, k: 10, data: evalData, cwd: tmp, config: loadConfig(modelEnv) },
        (line) => lines.push(line),
        (line) => progress.push(line),
      );
    const dense = await run('dense');
    expect(dense.reused).toBe(false);
    expect(dense.mode).toBe('dense');
    // A passage's own text finds it first with the model; the expected file is matched under its corpus-relative id.
    expect(dense.overall.recall[1]).toBe(1);
    expect(dense.questions[0]!.expected).toBe(KINDERGARTEN_REPLY);
    expect(lines.at(-1)).toBe('recall@1=1.000 recall@5=1.000 recall@10=1.000 mrr@10=1.000 n=3 mode=dense');

    progress.length = 0;
    const hybrid = await run('hybrid');
    expect(hybrid.reused).toBe(true);
    expect(hybrid.mode).toBe('hybrid');
    expect(progress.join('\n')).toContain('reusing');
    expect(progress.join('\n')).not.toMatch(/embedded|rebuilding/);
    expect(hybrid.overall.recall[10]).toBe(1);
    expect(lines.at(-1)).toMatch(/^recall@1=\d\.\d{3} recall@5=\d\.\d{3} recall@10=1\.000 mrr@10=\d\.\d{3} n=3 mode=hybrid$/);

    // Another model: a folder given with --data is refused, naming the command that switches that folder …
    const other = { corpus: PROJECT_CORPUS, exclude: [], questions: questionsFile, mode: 'dense' as const, k: 10, cwd: tmp, config: loadConfig(otherModelEnv) };
    await expect(runEval({ ...other, data: evalData }, () => {}, () => {})).rejects.toThrow(`npm run kb -- reembed --data ${evalData}`);
    // … while the eval's own default folder is a cache, re-embedded with the configured model.
    await runEval({ ...other, config: loadConfig(modelEnv) }, () => {}, () => {});
    progress.length = 0;
    const switched = await runEval(other, (line) => lines.push(line), (line) => progress.push(line));
    expect(progress.join('\n')).toContain(`dropping them for ${OTHER_MODEL_ID}`);
    expect(switched.mode).toBe('dense');
    expect(switched.overall.recall[1]).toBe(1);
  });
});



describe('a knowledge base built without a model', () => {
  it('gets its vectors at the next ingest with a model, and the log says so before embedding', async () => {
    const lateDir = path.join(tmp, 'late-model');
    const lexical = await KnowledgeBase.open(loadConfig({ ...modelEnv, KB_DATA_DIR: lateDir }), { embedder: null, log: () => {} });
    await ingestPaths(lexical, [PROJECT_CORPUS], { root: PROJECT_CORPUS });
    const passages = lexical.stats().passages;
    lexical.close();

    const logs: string[] = [];
    const withModel = await KnowledgeBase.open(loadConfig({ ...modelEnv, KB_DATA_DIR: lateDir }), { log: (m) => logs.push(m) });
    try {
      expect(logs.join('\n')).toContain(`${passages} of ${passages} passages have no vectors yet`);
      const report = await ingestPaths(withModel, [PROJECT_CORPUS], { root: PROJECT_CORPUS });
      expect(report.unchanged).toBe(10);
      expect(logs.join('\n')).toContain(`embedding ${passages} passages stored without vectors with test/tiny-bert`);
      expect(logs.join('\n')).toContain(`embedded ${passages} passages that had been stored without vectors`);
      expect(withModel.health().index.vectors).toBe(passages);
    } finally {
      withModel.close();
    }
  });
});

/**
 * Each of these starts the server in a child process that loads the model and
 * embeds the sample corpus: 30–60 s alone, past the default 120 s when the
 * whole suite shares two cores.
 */
const NPM_START_TIMEOUT_MS = 300_000;

describe('npm start with a model', () => {
  it('loads the model, embeds the corpus with progress on an empty store, and serves hybrid', async () => {
    const started = await npmStart({ ...modelEnv, KB_DATA_DIR: path.join(tmp, 'start-fresh'), KB_CORPUS_DIR: PROJECT_CORPUS });
    try {
      const log = started.output();
      expect(log).toMatch(/embedder: test\/tiny-bert \(q8, 64 dimensions, cls pooling\) loaded from/);
      expect(log).toContain('向量模型 test/tiny-bert（64 维），混合检索');
      expect(log).toMatch(/索引进度 \d+\/10 个文件/);
      expect(log).toMatch(/索引完成：新增 10，.*失败 0/);
      expect(log).not.toContain('LEXICAL-ONLY');
      const health = (await json(healthRoute, `${started.url}/api/health`)).body;
      expect(health.mode).toBe('hybrid');
      expect(health.model).toEqual({ id: 'test/tiny-bert', dimension: 64 });
      expect(health.index.vectors).toBe(health.passages);
    } finally {
      await started.stop();
    }
  }, NPM_START_TIMEOUT_MS);

  it('gives vectors to passages stored while no model was loaded, before serving', async () => {
    // The sample corpus as a lexical-only `npm start` leaves it (the tests' shared build of it).
    const lexical = await buildTestKb({ shared: false });
    const before = lexical.kb.health();
    lexical.kb.close();
    expect(before.mode).toBe('lexical-only');
    expect(before.index.vectors).toBe(0);

    const started = await npmStart({ ...modelEnv, KB_DATA_DIR: lexical.dataDir, KB_CORPUS_DIR: PROJECT_CORPUS });
    try {
      expect(started.output()).toContain(`${before.passages} of ${before.passages} passages have no vectors yet`);
      expect(started.output()).toMatch(new RegExp(`${before.passages} 个段落还没有向量[^]*嵌入完成：${before.passages} 个段落`));
      const health = (await json(healthRoute, `${started.url}/api/health`)).body;
      expect(health.mode).toBe('hybrid');
      expect(health.passages).toBe(before.passages);
      expect(health.index.vectors).toBe(health.passages);
      const passage = kb.getDocument(KINDERGARTEN_REPLY)!.passages.find((p) => p.text.length >= 40)!;
      const dense = (await json(searchRoute, `${started.url}/api/search?q=${enc(passage.text)}&k=3&mode=dense`)).body;
      expect(dense.hits[0]!.passageId).toBe(passage.id);
    } finally {
      await started.stop();
      fs.rmSync(lexical.dataDir, { recursive: true, force: true });
    }
  }, NPM_START_TIMEOUT_MS);
});

/** Run a project CLI the way `npm run …` does, with the given environment on top of this process's. */
function runScript(script: string, args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
}

describe('switching to another model', () => {
  // Runs after the server tests: the same data folder, closed first.
  it('is refused with the reembed fix, by the library and by `npm start`; `npm run kb -- reembed` then switches', async () => {
    await srv.close();
    const passages = kb.stats().passages;
    kb.close();
    closed = true;

    const otherConfig = loadConfig({ ...otherModelEnv, KB_DATA_DIR: dataDir });
    const refusal = await KnowledgeBase.open(otherConfig, { log: () => {} }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(KnowledgeBaseError);
    const message = (refusal as Error).message;
    expect(message).toContain('test/tiny-bert (cls pooling, 64 dimensions');
    expect(message).toContain(`${OTHER_MODEL_ID} (cls pooling, 48 dimensions`);
    expect(message).toContain('npm run kb -- reembed');

    const start = runScript('server/main.ts', [], { ...otherModelEnv, KB_DATA_DIR: dataDir, PORT: '0' });
    expect(start.status, start.stdout + start.stderr).toBe(1);
    expect(start.stderr).toContain('启动失败');
    expect(start.stderr).toContain('npm run kb -- reembed');
    expect(start.stderr).not.toMatch(/\n\s+at /);

    const reembed = runScript('cli/kb.ts', ['reembed'], { ...otherModelEnv, KB_DATA_DIR: dataDir });
    expect(reembed.status, reembed.stderr).toBe(0);
    expect(reembed.stdout).toContain(`re-embedded ${passages} passages with ${OTHER_MODEL_ID} (48 dims)`);

    const switched = await KnowledgeBase.open(otherConfig, { log: () => {} });
    try {
      const health = switched.health();
      expect(health.mode).toBe('hybrid');
      expect(health.model).toEqual({ id: OTHER_MODEL_ID, dimension: 48 });
      expect(health.index).toEqual({ vectors: passages, state: 'ready' });
      const passage = switched.getDocument(KINDERGARTEN_REPLY)!.passages.find((p) => p.text.length >= 40)!;
      const dense = await searchKnowledgeBase(switched, { text: passage.text, k: 3, mode: 'dense' });
      expect(dense.hits[0]?.passageId).toBe(passage.id);
    } finally {
      switched.close();
    }
  });
});
