/**
 * npm run calibrate-precedents -- --data DIR [--centre-from DIR]… [--precedents bench/precedents.jsonl] [--write]
 *
 * Fits the curve search/similarity.ts maps a cosine through, for the model
 * configured (KB_MODEL …), on a knowledge base built with that model that
 * holds the precedent set's replies (npm run eval -- … --precedents F builds one).
 * For each message: the best passage cosine with the reply that answered it
 * (a positive) and with the replies that answered every other message
 * (negatives). A logistic regression with the two classes weighted equally
 * gives slope and intercept; it is fitted on the odd-numbered messages and
 * checked on the even ones (and the reverse), then fitted on all. It also
 * prints what the curve gives the documents dense retrieval ranks high that
 * are not the answer (hard negatives: many are other replies to a like problem).
 *
 * Cosines are taken after centring: the model's vectors of any two texts of
 * one register (official Chinese prose) share a large common component, so raw
 * cosines of unrelated replies reach 0.90. The centre is the mean passage
 * vector of each knowledge base given (--data and every --centre-from: say,
 * citizens' replies and policy documents), each weighted equally. With
 * --write the centre and the curve go to search/calibration/<model>.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../kb/config.ts';
import { KnowledgeBase } from '../kb/kb.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';
import { calibrated, calibrationFile, centred, dot, ownPassages, type SimilarityCalibration } from '../search/similarity.ts';
import { search } from '../search/retrieve.ts';
import { readQuestions } from './eval.ts';

interface Sample {
  message: string;
  cosine: number;
  positive: boolean;
}

/**
 * Weighted logistic regression on one feature (Newton's method); each class carries half the weight.
 * The targets are Platt's (1999) — (N₊ + 1)/(N₊ + 2) for positives, 1/(N₋ + 2) for negatives — not 1
 * and 0: when the classes (nearly) separate, as they do with vectors embedded with their document's
 * title (a reply's title is its message's subject), 1 and 0 drive the slope towards a step (82 on
 * bench/precedents.jsonl: every pair 0 or 1, the sample corpus's 养老 reply 0.72 for a 养老 proposal).
 */
export function fitLogistic(samples: Array<{ x: number; y: 0 | 1 }>): { slope: number; intercept: number } {
  const positives = samples.filter((s) => s.y === 1).length;
  const negatives = samples.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('a fit needs positives and negatives');
  const weight = (y: 0 | 1) => (y === 1 ? 0.5 / positives : 0.5 / negatives);
  const target = (y: 0 | 1) => (y === 1 ? (positives + 1) / (positives + 2) : 1 / (negatives + 2));
  let a = 0;
  let b = 0;
  for (let iteration = 0; iteration < 100; iteration++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (const { x, y } of samples) {
      const w = weight(y);
      const p = 1 / (1 + Math.exp(-(a * x + b)));
      const r = w * (p - target(y));
      ga += r * x;
      gb += r;
      const s = w * p * (1 - p);
      haa += s * x * x;
      hab += s * x;
      hbb += s;
    }
    // A tiny ridge keeps the step finite when the classes separate perfectly.
    haa += 1e-9;
    hbb += 1e-9;
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) < 1e-9 && Math.abs(db) < 1e-9) break;
  }
  return { slope: a, intercept: b };
}

/** Area under the ROC curve: the chance a random positive outscores a random negative. */
function auc(samples: Sample[]): number {
  const pos = samples.filter((s) => s.positive).map((s) => s.cosine);
  const neg = samples.filter((s) => !s.positive).map((s) => s.cosine);
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

const quantiles = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(3);
  return `min ${sorted[0]!.toFixed(3)} p10 ${at(0.1)} p50 ${at(0.5)} p90 ${at(0.9)} max ${sorted.at(-1)!.toFixed(3)}`;
};

/** Per probability band: how many pairs, and the share of them that are positives (classes weighted equally, as fitted). */
function reliability(samples: Sample[], curve: Pick<SimilarityCalibration, 'slope' | 'intercept'>): string[] {
  const positives = samples.filter((s) => s.positive).length;
  const negatives = samples.length - positives;
  const bands = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0001];
  const out: string[] = [];
  for (let i = 0; i + 1 < bands.length; i++) {
    const inBand = samples.filter((s) => {
      const p = calibrated(s.cosine, curve);
      return p >= bands[i]! && p < bands[i + 1]!;
    });
    const pos = inBand.filter((s) => s.positive).length;
    const neg = inBand.length - pos;
    const balanced = pos / positives / (pos / positives + neg / negatives || 1);
    out.push(`  P ${bands[i]!.toFixed(1)}–${Math.min(1, bands[i + 1]!).toFixed(1)}: ${String(pos).padStart(3)} positives, ${String(neg).padStart(5)} negatives · share of positives (classes weighted equally) ${inBand.length ? balanced.toFixed(2) : '—'}`);
  }
  return out;
}

/** The mean of a knowledge base's stored passage vectors (read straight from its store, so a build may still be running). */
function meanVector(dataDir: string, dimension: number): { mean: Float64Array; count: number } {
  const db = new Database(path.join(dataDir, 'kb.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const mean = new Float64Array(dimension);
    let count = 0;
    for (const row of db.prepare('SELECT vector FROM embeddings').iterate() as IterableIterator<{ vector: Buffer }>) {
      const v = new Float32Array(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength / 4);
      for (let i = 0; i < dimension; i++) mean[i]! += v[i]!;
      count++;
    }
    for (let i = 0; i < dimension; i++) mean[i]! /= Math.max(1, count);
    return { mean, count };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      'centre-from': { type: 'string', multiple: true, default: [] },
      precedents: { type: 'string', default: 'bench/precedents.jsonl' },
      write: { type: 'boolean', default: false },
    },
  });
  if (!values.data) throw new Error('usage: npm run calibrate-precedents -- --data DIR [--centre-from DIR]… [--precedents FILE] [--write]');
  const cwd = process.cwd();
  const base = loadConfig(process.env, cwd);
  const load = await loadEmbedder(base, (m) => console.error(m));
  if (!load.embedder) throw new Error(`calibration needs the embedding model: ${load.reason}`);
  const kb = await KnowledgeBase.open({ ...base, dataDir: path.resolve(cwd, values.data) }, { embedder: load.embedder, log: (m) => console.error(m) });
  try {
    const dimension = load.embedder.dimension;
    const centreSources = [values.data, ...values['centre-from']].map((dir) => ({ dir, ...meanVector(path.resolve(cwd, dir), dimension) }));
    const centre = new Float32Array(dimension);
    for (const { mean } of centreSources) for (let i = 0; i < dimension; i++) centre[i]! += mean[i]! / centreSources.length;
    console.log(`centre: the mean passage vector of ${centreSources.map((c) => `${c.dir} (${c.count} vectors)`).join(', ')}, weighted equally`);
    const centre_ = (v: Float32Array) => centred(v, centre);
    const messages = readQuestions(path.resolve(cwd, values.precedents), 'precedents');
    const replies = [...new Set(messages.map((m) => m.expected))].filter((id) => kb.passageVectors(id).length > 0);
    // As the finders score: over the reply's own passages, not a record's citizen message.
    const ownVectors = (id: string) => {
      const doc = kb.getDocument(id);
      const own = doc ? new Set(ownPassages(doc).map((p) => p.id)) : undefined;
      return kb.passageVectors(id).filter((p) => !own || own.has(p.passageId)).map((p) => centre_(p.vector));
    };
    const vectorsOf = new Map(replies.map((id) => [id, ownVectors(id)]));
    const best = (q: Float32Array, id: string) => Math.max(...(vectorsOf.get(id) ?? ownVectors(id)).map((v) => dot(q, v)));
    const byMessage: Sample[][] = [];
    const hard: number[] = [];
    for (const message of messages) {
      if (!vectorsOf.has(message.expected)) continue;
      const [raw] = await load.embedder.embedQueries([message.text]);
      const q = centre_(raw!);
      byMessage.push(replies.map((id) => ({ message: message.id, cosine: best(q, id), positive: id === message.expected })));
      const dense = await search(kb, { text: message.text, k: 30, mode: 'dense', withMessages: true });
      const others = [...new Set(dense.hits.map((h) => h.citation.documentId))].filter((id) => id !== message.expected && !(dense.hits.find((h) => h.citation.documentId === id)?.alsoIn ?? []).includes(message.expected));
      for (const id of others.slice(0, 5)) hard.push(best(q, id));
    }
    const all = byMessage.flat();
    const toFit = (samples: Sample[]) => samples.map((s) => ({ x: s.cosine, y: (s.positive ? 1 : 0) as 0 | 1 }));
    console.log(`${kb.health().model?.id} · ${byMessage.length} messages × ${replies.length} replies: ${all.filter((s) => s.positive).length} positive pairs, ${all.filter((s) => !s.positive).length} negative`);
    console.log(`cosine, positives: ${quantiles(all.filter((s) => s.positive).map((s) => s.cosine))}`);
    console.log(`cosine, negatives: ${quantiles(all.filter((s) => !s.positive).map((s) => s.cosine))}`);
    console.log(`cosine, hard negatives (dense top 5 that are not the answer): ${quantiles(hard)}`);
    console.log(`AUC ${auc(all).toFixed(3)}`);
    for (const [name, fitOn, checkOn] of [
      ['odd → even', byMessage.filter((_, i) => i % 2 === 0), byMessage.filter((_, i) => i % 2 === 1)],
      ['even → odd', byMessage.filter((_, i) => i % 2 === 1), byMessage.filter((_, i) => i % 2 === 0)],
    ] as const) {
      const curve = fitLogistic(toFit(fitOn.flat()));
      console.log(`\nfitted on ${name}: slope ${curve.slope.toFixed(2)} intercept ${curve.intercept.toFixed(2)}; held-out pairs:`);
      for (const line of reliability(checkOn.flat(), curve)) console.log(line);
    }
    const curve = fitLogistic(toFit(all));
    const p = (x: number) => calibrated(x, curve);
    console.log(`\nfitted on all: slope ${curve.slope.toFixed(2)} intercept ${curve.intercept.toFixed(2)} (P 0.5 at cosine ${(-curve.intercept / curve.slope).toFixed(3)})`);
    for (const line of reliability(all, curve)) console.log(line);
    const positives = all.filter((s) => s.positive).map((s) => p(s.cosine));
    const negatives = all.filter((s) => !s.positive).map((s) => p(s.cosine));
    console.log(`P, positives: ${quantiles(positives)}`);
    console.log(`P, negatives: ${quantiles(negatives)}`);
    console.log(`P, hard negatives: ${quantiles(hard.map(p))}`);
    console.log(`{ slope: ${curve.slope.toFixed(2)}, intercept: ${curve.intercept.toFixed(2)} }`);
    if (values.write) {
      const file = calibrationFile(load.embedder.profile.id);
      const calibration: SimilarityCalibration = {
        slope: Math.round(curve.slope * 1000) / 1000,
        intercept: Math.round(curve.intercept * 1000) / 1000,
        centre: [...centre].map((x) => Math.round(x * 1e6) / 1e6),
      };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${JSON.stringify(calibration)}\n`);
      console.log(`wrote ${path.relative(cwd, file)}`);
    }
  } finally {
    kb.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(`calibrate-precedents: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
