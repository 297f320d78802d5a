/**
 * The contract of a knowledge base's store (kb/store/document-store.ts),
 * written against the interface only. `describeStoreContract` takes a way to
 * open a store in a folder: tests/unit/store-contract.test.ts runs it on the
 * SQLite store, and a PostgreSQL store would run the same block with its own
 * opener.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DocumentStore, StoreOpener } from '../../kb/store/document-store.ts';
import { parseRecordText } from '../../ingest/parse.ts';
import type { ParsedDocument } from '../../kb/types.ts';

const TEXTS = {
  flood: '城区内涝治理三年行动。\n加快排水管网改造，城区内涝明显缓解。\n建设资金由市财政保障。',
  school: '普惠性幼儿园认定办法。\n收费标准由价格主管部门核定。',
  elevator: '既有住宅加装电梯。\n每台补贴二十万元。',
};

function parsed(id: string, text: string): ParsedDocument {
  return parseRecordText(text, id, { passageMaxChars: 20, title: id });
}

const vector = (seed: number) => Float32Array.from({ length: 4 }, (_, i) => seed + i / 10);

export function describeStoreContract(name: string, openStore: StoreOpener): void {
  describe(`${name}: the DocumentStore contract`, () => {
    const dirs: string[] = [];
    afterAll(() => {
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    });
    const fresh = () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-store-'));
      dirs.push(dir);
      return { dir, store: openStore(dir, { readOnly: false }) };
    };
    const write = (store: DocumentStore, id: string, text: string, hash = `h-${id}`, withVectors = false) => {
      const doc = parsed(id, text);
      return store.writeDocument({
        id,
        contentHash: hash,
        parsed: doc,
        lexical: doc.passages.map((p) => `lex ${p.text}`),
        ...(withVectors ? { embeddings: doc.passages.map((_, i) => vector(i)) } : {}),
      });
    };

    it('writes a document with its passages, and reads it back whole', () => {
      const { store } = fresh();
      const doc = parsed('flood.txt', TEXTS.flood);
      expect(doc.passages.length).toBeGreaterThan(1);
      const result = write(store, 'flood.txt', TEXTS.flood);
      expect(result.replaced).toBe(false);
      expect(result.removedLabels).toEqual([]);
      expect(result.added.map((row) => row.text)).toEqual(doc.passages.map((p) => p.text));
      expect(result.added.map((row) => row.lexical)).toEqual(doc.passages.map((p) => `lex ${p.text}`));
      expect(new Set(result.added.map((row) => row.docKey))).toEqual(new Set([result.docKey]));
      expect(store.counts()).toEqual({ documents: 1, passages: doc.passages.length, embedded: 0 });
      expect(store.contentHash('flood.txt')).toBe('h-flood.txt');
      expect(store.summary('flood.txt')?.passageCount).toBe(doc.passages.length);
      const stored = store.getDocument('flood.txt');
      expect(stored?.text).toBe(doc.text);
      expect(stored?.paragraphs.map((p) => p.text)).toEqual(doc.paragraphs.map((p) => p.text));
      expect(store.documentText('flood.txt')).toBe(doc.text);
      const labels = result.added.map((row) => row.label);
      const byLabel = store.passagesByLabel([...labels, 999_999]);
      expect([...byLabel.keys()].sort((a, b) => a - b)).toEqual([...labels].sort((a, b) => a - b));
      for (const row of result.added) expect(byLabel.get(row.label)?.passage.text).toBe(row.text);
      expect(byLabel.get(labels[0]!)?.documentId).toBe('flood.txt');
      expect(store.documentFilterRow(result.docKey)?.id).toBe('flood.txt');
      store.close();
    });

    it('reads a page of paragraphs, and finds the paragraph holding an offset', () => {
      const { store } = fresh();
      write(store, 'flood.txt', TEXTS.flood);
      const whole = store.getDocument('flood.txt')!;
      const page = store.documentPage('flood.txt', { offset: 1, limit: 1, maxChars: 10_000 });
      expect(page?.paragraphOffset).toBe(1);
      expect(page?.paragraphTotal).toBe(whole.paragraphs.length);
      expect(page?.paragraphs.map((p) => p.text)).toEqual([whole.paragraphs[1]!.text]);
      expect(store.documentPage('gone.txt', { offset: 0, limit: 1, maxChars: 100 })).toBeUndefined();
      const last = whole.paragraphs[whole.paragraphs.length - 1]!;
      expect(store.paragraphIndexAt('flood.txt', last.start + 1)).toBe(last.index);
      expect(store.paragraphIndexAt('flood.txt', 0)).toBe(0);
      store.close();
    });

    it('replaces a document on rewrite with new labels, never reusing the old ones', () => {
      const { store } = fresh();
      const first = write(store, 'flood.txt', TEXTS.flood, 'v1');
      write(store, 'school.txt', TEXTS.school);
      const second = write(store, 'flood.txt', TEXTS.elevator, 'v2');
      expect(second.replaced).toBe(true);
      expect(second.removedLabels.sort()).toEqual(first.added.map((row) => row.label).sort());
      const oldLabels = new Set(first.added.map((row) => row.label));
      for (const row of second.added) expect(oldLabels.has(row.label)).toBe(false);
      expect(store.contentHash('flood.txt')).toBe('v2');
      expect(store.passagesByLabel([...oldLabels]).size).toBe(0);
      expect(store.documentHashes()).toEqual(new Map([['flood.txt', 'v2'], ['school.txt', 'h-school.txt']]));
      expect(store.documentHashes('sch')).toEqual(new Map([['school.txt', 'h-school.txt']]));
      store.close();
    });

    it('removes a document with all its passages, and says when there was none', () => {
      const { store } = fresh();
      const written = write(store, 'flood.txt', TEXTS.flood);
      write(store, 'school.txt', TEXTS.school);
      const removed = store.removeDocument('flood.txt');
      expect(removed?.labels.sort()).toEqual(written.added.map((row) => row.label).sort());
      expect(store.removeDocument('flood.txt')).toBeUndefined();
      expect(store.getDocument('flood.txt')).toBeUndefined();
      expect(store.counts().documents).toBe(1);
      expect([...store.passageIndexRows()].every((row) => row.documentId === 'school.txt')).toBe(true);
      expect([...store.documentFilterRows()].map((row) => row.id)).toEqual(['school.txt']);
      store.close();
    });

    it('reads an excerpt of a document around a span, or the whole of a short one, with the document\'s own offsets', () => {
      const { store } = fresh();
      write(store, 'flood.txt', TEXTS.flood);
      const doc = store.getDocument('flood.txt')!;
      expect(doc.paragraphs.length).toBeGreaterThan(2);
      const whole = store.documentExcerpt('flood.txt', { start: 0, end: 1 }, { margin: 0, wholeUpTo: doc.text.length })!;
      expect(whole).toMatchObject({ whole: true, textStart: 0, text: doc.text });
      expect(whole.paragraphs).toEqual(doc.paragraphs);
      const middle = doc.paragraphs[Math.floor(doc.paragraphs.length / 2)]!;
      const excerpt = store.documentExcerpt('flood.txt', { start: middle.start, end: middle.end }, { margin: 0, wholeUpTo: 0 })!;
      expect(excerpt.whole).toBe(false);
      expect(excerpt.paragraphs.map((p) => p.index)).toContain(middle.index);
      expect(excerpt.paragraphs.length).toBeLessThan(doc.paragraphs.length);
      for (const p of excerpt.paragraphs) {
        expect(p).toEqual(doc.paragraphs[p.index]);
        expect(excerpt.text.slice(p.start - excerpt.textStart, p.end - excerpt.textStart)).toBe(doc.text.slice(p.start, p.end));
      }
      for (const passage of excerpt.passages) expect(doc.passages).toContainEqual(passage);
      expect(store.documentText('flood.txt', { start: middle.start, end: middle.end })).toBe(doc.text.slice(middle.start, middle.end));
      expect(store.documentText('missing.txt', { start: 0, end: 5 })).toBeUndefined();
      expect(store.documentExcerpt('missing.txt', { start: 0, end: 5 }, { margin: 0, wholeUpTo: 0 })).toBeUndefined();
      // Reading a range leaves removal intact (a plucked shared statement once made removal a no-op).
      expect(store.removeDocument('flood.txt')).toBeDefined();
      expect(store.getDocument('flood.txt')).toBeUndefined();
    });

    it('keeps vectors by label and by text, and drops them all with the model', () => {
      const { store } = fresh();
      store.setModel({ id: 'test/model', dimension: 4, profile: 'p' });
      const written = write(store, 'flood.txt', TEXTS.flood, 'h', true);
      const plain = write(store, 'school.txt', TEXTS.school);
      expect(store.model()).toEqual({ id: 'test/model', dimension: 4, profile: 'p' });
      expect([...store.embeddedLabels()]).toEqual(written.added.map((row) => row.label).sort((a, b) => a - b));
      expect(store.passagesWithoutEmbedding(100).map((row) => row.label)).toEqual(plain.added.map((row) => row.label));
      const stored = store.storedVectors('flood.txt');
      expect(stored).toHaveLength(written.added.length);
      const firstStored = stored.find((row) => row.label === written.added[0]!.label)!;
      expect(firstStored.text).toBe(written.added[0]!.text);
      expect(firstStored.title.length).toBeGreaterThan(0);
      expect([...firstStored.vector]).toEqual([...vector(0)]);
      expect(store.passagesWithoutEmbedding(100).every((row) => Array.isArray(row.headingPath) && row.title.length > 0)).toBe(true);
      expect(store.passageVectors('flood.txt')).toHaveLength(written.added.length);
      // A span reads only the passages it overlaps: a document's opening, never the whole of a long one.
      const [first, second] = store.getDocument('flood.txt')!.passages;
      expect(store.passageVectors('flood.txt', { start: first!.start, end: first!.start + 1 }).map((p) => p.passageId)).toEqual([first!.id]);
      expect(store.passageVectors('flood.txt', { start: second!.end - 1, end: second!.end }).map((p) => p.passageId)).toContain(second!.id);
      const added = store.addEmbeddings([...plain.added.map((row) => ({ label: row.label, vector: vector(7) })), { label: 999_999, vector: vector(9) }]);
      expect(added.sort()).toEqual(plain.added.map((row) => row.label).sort());
      expect(store.counts().embedded).toBe(written.added.length + plain.added.length);
      expect([...store.embeddingRows()]).toHaveLength(written.added.length + plain.added.length);
      const epoch = store.vectorEpoch();
      store.dropEmbeddings();
      expect(store.vectorEpoch()).toBeGreaterThan(epoch);
      expect(store.model()).toBeUndefined();
      expect(store.counts().embedded).toBe(0);
      expect(store.embeddedLabels().length).toBe(0);
      store.close();
    });

    it('keeps sentence vectors with their passages, finds passages of long documents lacking them, and drops them with the document or the model', () => {
      const { store } = fresh();
      store.setModel({ id: 'test/model', dimension: 4, profile: 'p' });
      const doc = parsed('flood.txt', TEXTS.flood);
      const written = store.writeDocument({
        id: 'flood.txt',
        contentHash: 'h',
        parsed: doc,
        lexical: doc.passages.map((p) => `lex ${p.text}`),
        embeddings: doc.passages.map((_, i) => vector(i)),
        sentences: doc.passages.map((p, i) => (i === 0 ? [{ text: p.text.slice(0, 10), vector: vector(5) }, { text: p.text.slice(10, 20), vector: vector(6) }] : undefined)),
      });
      expect(written.addedSentences.map((s) => s.label)).toEqual([written.added[0]!.label, written.added[0]!.label]);
      expect([...store.sentenceVectorRows()].map((r) => r.sentence)).toEqual(written.addedSentences.map((s) => s.sentence));
      expect(store.sentencePassages()).toEqual(written.addedSentences.map(({ sentence, label }) => ({ sentence, label })));
      expect(store.storedSentenceVectors('flood.txt').map((r) => r.text)).toEqual([doc.passages[0]!.text.slice(0, 10), doc.passages[0]!.text.slice(10, 20)]);
      // Documents of at least this many passages: the flood reply's other passages lack them; with a higher bound none.
      expect(store.passagesWithoutSentenceVectors(1, 100).map((p) => p.label)).toEqual(written.added.slice(1).map((row) => row.label));
      expect(store.passagesWithoutSentenceVectors(doc.passages.length + 1, 100)).toEqual([]);
      const added = store.addSentenceVectors([{ label: written.added[1]!.label, text: 'x', vector: vector(8) }, { label: 999_999, text: 'y', vector: vector(9) }]);
      expect(added.map((s) => s.label)).toEqual([written.added[1]!.label]);
      store.removeDocument('flood.txt');
      expect([...store.sentenceVectorRows()]).toEqual([]);
      write(store, 'school.txt', TEXTS.school, 'h', true);
      store.addSentenceVectors(store.passagesWithoutSentenceVectors(1, 100).map((p) => ({ label: p.label, text: p.text, vector: vector(1) })));
      expect(store.sentencePassages().length).toBeGreaterThan(0);
      store.dropEmbeddings();
      expect(store.sentencePassages()).toEqual([]);
      store.close();
    });

    it('remembers failures until the document indexes, and feedback in order', () => {
      const { store } = fresh();
      store.recordFailure('bad.pdf', '/x/bad.pdf', '没有文本层');
      expect(store.failures().map((f) => [f.id, f.error])).toEqual([['bad.pdf', '没有文本层']]);
      write(store, 'bad.pdf', TEXTS.school);
      expect(store.failures()).toEqual([]);
      const first = store.addFeedback({ question: '问题一', answer: null, citations: [], verdict: 'up', mode: 'lexical' });
      const second = store.addFeedback({ question: '问题二', answer: '回答', citations: [], verdict: 'down', correction: '应为……', mode: 'hybrid' });
      expect(second.id).toBeGreaterThan(first.id);
      expect([...store.feedback()].map((f) => f.question)).toEqual(['问题一', '问题二']);
      expect(store.feedbackCount()).toBe(2);
      store.close();
    });

    it('lists summaries in id order, filtered and paged', () => {
      const { store } = fresh();
      const keys = new Map<string, number>();
      for (const [id, text] of [['c.txt', TEXTS.elevator], ['a.txt', TEXTS.flood], ['b.txt', TEXTS.school]] as const) keys.set(id, write(store, id, text).docKey);
      expect(store.listSummaries(() => true, 0, 10).documents.map((d) => d.id)).toEqual(['a.txt', 'b.txt', 'c.txt']);
      expect(store.listSummaries(() => true, 1, 1)).toMatchObject({ total: 3, documents: [{ id: 'b.txt' }] });
      const notB = store.listSummaries((docKey) => docKey !== keys.get('b.txt'), 0, 10);
      expect(notB.total).toBe(2);
      expect(notB.documents.map((d) => d.id)).toEqual(['a.txt', 'c.txt']);
      store.close();
    });

    it('keeps everything across a close and reopen, under the same store id', () => {
      const { dir, store } = fresh();
      const id = store.storeId();
      write(store, 'flood.txt', TEXTS.flood, 'h', true);
      store.setModel({ id: 'test/model', dimension: 4, profile: 'p' });
      const rows = [...store.passageIndexRows()];
      store.updateLexical([{ label: rows[0]!.label, lexical: 'reanalysed' }]);
      store.checkpoint();
      expect(store.bytesOnDisk()).toBeGreaterThan(0);
      store.close();
      const reopened = openStore(dir, { readOnly: false });
      expect(reopened.storeId()).toBe(id);
      expect(reopened.counts()).toEqual({ documents: 1, passages: rows.length, embedded: rows.length });
      expect([...reopened.passageIndexRows()].map((row) => row.lexical)).toEqual(['reanalysed', ...rows.slice(1).map((row) => row.lexical)]);
      expect(reopened.model()?.id).toBe('test/model');
      reopened.close();
      const reader = openStore(dir, { readOnly: true });
      expect(reader.getDocument('flood.txt')?.id).toBe('flood.txt');
      reader.close();
    });
  });
}
