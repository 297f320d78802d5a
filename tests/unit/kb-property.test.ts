/**
 * Random sequences of add / update / remove / reopen against a knowledge base
 * and against a model of it (a map from document id to the version written
 * and its passage count). After every step the knowledge base must list
 * exactly the model's documents with their passage counts, and a lexical
 * search for each version's marker word must find the current version's
 * passages and nothing for a replaced or removed one — also after a reopen,
 * when the in-memory indexes are rebuilt from the store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../kb/config.ts';
import { KnowledgeBase } from '../../kb/kb.ts';
import { parseRecordText } from '../../ingest/parse.ts';
import { search } from '../../search/retrieve.ts';

const IDS = ['a.txt', 'b.txt', 'sub/c.txt', 'replies/m.jsonl#7'];

type Step =
  | { op: 'write'; doc: number; paragraphs: string[] }
  | { op: 'remove'; doc: number }
  | { op: 'reopen' };

/** Filler sentences; each written version adds its own marker word so it can be searched for alone. */
const SENTENCES = [
  '加快城区排水管网改造，城区内涝明显缓解。',
  '普惠性幼儿园收费标准由价格主管部门核定。',
  '既有住宅加装电梯每台补贴二十万元。',
  '高校毕业生在本省就业的，给予生活补助。',
  '灵活就业人员可以自愿参加职工基本医疗保险。',
  '老年助餐服务由街道统筹，社区负责日常管理。',
];

const paragraphArb = fc.array(fc.constantFrom(...SENTENCES), { minLength: 1, maxLength: 8 }).map((s) => s.join(''));
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('write' as const), doc: fc.nat(IDS.length - 1), paragraphs: fc.array(paragraphArb, { minLength: 1, maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), doc: fc.nat(IDS.length - 1) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

const markerOf = (doc: number, version: number) => `mk${doc}x${version}`;

interface ModelDocument {
  version: number;
  passages: number;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function open(config: Config): Promise<KnowledgeBase> {
  return KnowledgeBase.open(config, { log: () => {}, embedder: null, lexicalOnlyReason: 'property test' });
}

async function check(kb: KnowledgeBase, model: Map<string, ModelDocument>, written: Array<{ doc: number; version: number }>, step: string): Promise<void> {
  const listed = kb.listDocuments({ limit: 100 });
  expect(listed.documents.map((d) => d.id).sort(), step).toEqual([...model.keys()].sort());
  expect(listed.total, step).toBe(model.size);
  for (const [id, expected] of model) expect(kb.summary(id)?.passageCount, `${step}: ${id}`).toBe(expected.passages);
  const stats = kb.stats();
  const passages = [...model.values()].reduce((sum, d) => sum + d.passages, 0);
  expect(stats.passages, step).toBe(passages);
  expect(stats.lexical, step).toBe(passages);
  for (const { doc, version } of written) {
    const id = IDS[doc]!;
    const current = model.get(id)?.version === version;
    const { hits } = await search(kb, { text: markerOf(doc, version), k: 50, mode: 'lexical' });
    if (current) {
      expect(hits.length, `${step}: ${markerOf(doc, version)} of the current ${id}`).toBeGreaterThan(0);
      for (const hit of hits) expect(hit.citation.documentId, step).toBe(id);
    } else {
      expect(hits, `${step}: ${markerOf(doc, version)} of a replaced or removed ${id}`).toEqual([]);
    }
  }
}

describe('a knowledge base under random writes, removals and reopens', () => {
  it('always agrees with a model of its documents', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 10 }), async (steps) => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-property-'));
        dirs.push(dataDir);
        const config = loadConfig({ KB_DATA_DIR: dataDir, KB_LEXICAL_ONLY: '1' }, process.cwd());
        let kb = await open(config);
        const model = new Map<string, ModelDocument>();
        const written: Array<{ doc: number; version: number }> = [];
        try {
          for (const [n, step] of steps.entries()) {
            const label = `step ${n + 1} ${JSON.stringify(step)}`;
            if (step.op === 'write') {
              const id = IDS[step.doc]!;
              const version = written.length;
              const marker = markerOf(step.doc, version);
              // The marker opens the first paragraph and closes the last, so it survives any passage cut.
              const paragraphs = step.paragraphs.map((p, i) => (i === 0 ? `${marker}${p}` : p));
              paragraphs[paragraphs.length - 1] += marker;
              const parsed = parseRecordText(paragraphs.join('\n'), id, { passageMaxChars: config.passageMaxChars, title: `文档${step.doc}` });
              const [outcome] = await kb.write((writer) => writer.indexDocuments([{ id, contentHash: `v${version}`, parsed }]));
              expect(outcome?.status, label).toBe(model.has(id) ? 'updated' : 'added');
              model.set(id, { version, passages: parsed.passages.length });
              written.push({ doc: step.doc, version });
            } else if (step.op === 'remove') {
              const id = IDS[step.doc]!;
              const removed = await kb.write((writer) => writer.remove(id));
              expect(removed, label).toBe(model.has(id));
              model.delete(id);
            } else {
              kb.close();
              kb = await open(config);
            }
            await check(kb, model, written, label);
          }
        } finally {
          kb.close();
        }
      }),
      // 30 runs of up to 10 steps: ~4 s on the 2-core machine (opening a store is cheap once jieba is loaded).
      { numRuns: 30 },
    );
  });
});
