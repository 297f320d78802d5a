/**
 * The knowledge base the load check runs against: about 100,000 passages of
 * real text (../shared/corpus/laws, lexical index as in production) and a
 * vector for every passage, at a cost this machine can pay.
 *
 * WHAT THE VECTORS ARE. Embedding 100k passages with multilingual-e5-small in
 * process runs at ~18 passages/s on a quiet 2-core machine (1.5 h; far longer
 * under load), so only the first `realVectors` passages (in store order) get
 * real e5 vectors from the model. Every other passage gets a "seeded" vector:
 * one of those real vectors, chosen by a hash of the passage text, plus
 * Gaussian noise of norm ~0.5, renormalised — cosine ≈ 0.9 to its seed. The
 * index therefore holds 100k vectors of the model's dimension with the
 * model's own anisotropy (e5 vectors share a large common direction), so HNSW
 * search costs what it would with real vectors, but the dense ranking of the
 * seeded passages means nothing. Query vectors always come from the real
 * model, in process: the load measures the query encoding a user waits for.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../kb/config.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';
import { KnowledgeBase } from '../kb/kb.ts';
import type { Embedder } from '../kb/types.ts';
import { walkInputs } from '../ingest/batch.ts';
import { ingestPaths } from '../ingest/ingest.ts';
import { prng } from './bench-synthetic.ts';
import { runLoad } from './load.ts';

const SHARED_CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'corpus');

/** Written when the knowledge base is complete; its content says what the vectors are. */
export const LOAD_KB_MANIFEST = 'load-kb.json';

export interface LoadKbManifest {
  corpus: string;
  passages: number;
  documents: number;
  model: string;
  dimension: number;
  realVectors: number;
  seededVectors: number;
  vectors: string;
  builtAt: string;
}

export function describeVectors(m: Pick<LoadKbManifest, 'passages' | 'realVectors' | 'seededVectors' | 'model' | 'dimension'>): string {
  return (
    `${m.passages.toLocaleString('en-US')} passages; vectors: ${m.realVectors.toLocaleString('en-US')} REAL (${m.model}, ${m.dimension}-d, in process), ` +
    `${m.seededVectors.toLocaleString('en-US')} SEEDED (a real vector chosen by text hash + noise, cosine ≈ 0.9 to it: search cost of real vectors, ranking meaningless); ` +
    'query vectors from the real model in process'
  );
}

/** Standard deviation per dimension of the noise added to a seed vector: total norm ~0.5. */
const SEED_NOISE_NORM = 0.5;

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * Passage vectors from the model for the first `realCount` passages it is asked
 * for, then seeded ones (see the file comment); queries always from the model.
 */
export function seededEmbedder(model: Embedder, realCount: number): Embedder & { real: number; seeded: number } {
  const seeds: Float32Array[] = [];
  const counts = { real: 0, seeded: 0 };
  const seeded = (text: string): Float32Array => {
    const hash = crypto.createHash('sha1').update(text).digest();
    const seed = seeds[hash.readUInt32LE(0) % seeds.length]!;
    const random = prng(hash.readUInt32LE(4));
    const sigma = SEED_NOISE_NORM / Math.sqrt(seed.length);
    const vector = new Float32Array(seed.length);
    let norm = 0;
    for (let i = 0; i < seed.length; i++) {
      vector[i] = seed[i]! + sigma * gaussian(random);
      norm += vector[i]! * vector[i]!;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < seed.length; i++) vector[i] = vector[i]! / norm;
    return vector;
  };
  const embedder = {
    modelId: model.modelId,
    dimension: model.dimension,
    profile: model.profile,
    embedQueries: (texts: string[]) => model.embedQueries(texts),
    embedPassages: async (texts: string[]) => {
      const realTexts = texts.slice(0, Math.max(0, realCount - counts.real));
      const real = realTexts.length > 0 ? await model.embedPassages(realTexts) : [];
      seeds.push(...real);
      counts.real += real.length;
      if (seeds.length === 0) throw new Error('seeded vectors need at least one real vector');
      const rest = texts.slice(real.length).map(seeded);
      counts.seeded += rest.length;
      return [...real, ...rest];
    },
    get real() {
      return counts.real;
    },
    get seeded() {
      return counts.seeded;
    },
  };
  return embedder;
}

/**
 * Builds (or reuses, when its manifest says it is complete) the load knowledge
 * base in `config.dataDir`: files of `corpus` in name order until `targetPassages`,
 * then vectors as described above.
 */
export async function buildLoadKb(
  config: Config,
  options: { corpus: string; targetPassages: number; realVectors: number; log: (message: string) => void },
): Promise<LoadKbManifest> {
  const manifestFile = path.join(config.dataDir, LOAD_KB_MANIFEST);
  if (fs.existsSync(manifestFile)) {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as LoadKbManifest;
    options.log(`reusing the load knowledge base in ${config.dataDir} (built ${manifest.builtAt})`);
    // Vectors this version adds to a store (the sentence vectors of long documents) are seeded here too:
    // the server would otherwise embed them with the real model at start, hours for 100k passages of laws.
    const loaded = await loadEmbedder({ ...config, allowModelDownload: false }, options.log);
    if (!loaded.embedder) throw new Error(`the load check needs the real model (KB_MODEL_DIR): ${loaded.reason}`);
    const kb = await KnowledgeBase.open(config, { embedder: seededEmbedder(loaded.embedder, options.realVectors), log: options.log });
    try {
      await kb.write((writer) => writer.embedMissing());
    } finally {
      kb.close();
    }
    return manifest;
  }
  const walk = walkInputs([options.corpus], { root: options.corpus });
  const files = walk.files.filter((f) => !f.jsonl).sort((a, b) => (a.id < b.id ? -1 : 1));
  const lexicalKb = await KnowledgeBase.open(config, { embedder: null, log: () => {} });
  let at = 0;
  try {
    const started = performance.now();
    while (at < files.length && lexicalKb.health().passages < options.targetPassages) {
      const slice = files.slice(at, at + 200);
      at += slice.length;
      await ingestPaths(lexicalKb, slice.map((f) => f.absolutePath), { root: options.corpus });
      options.log(`  lexical ingest: ${at} files, ${lexicalKb.health().passages.toLocaleString('en-US')} passages, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  } finally {
    lexicalKb.close();
  }
  const loaded = await loadEmbedder({ ...config, allowModelDownload: false }, options.log);
  if (!loaded.embedder) throw new Error(`the load check needs the real model (KB_MODEL_DIR): ${loaded.reason}`);
  const embedder = seededEmbedder(loaded.embedder, options.realVectors);
  const kb = await KnowledgeBase.open(config, { embedder, log: options.log });
  try {
    const started = performance.now();
    await kb.write((writer) =>
      writer.embedMissing((done) => {
        if (done % 2560 === 0) options.log(`  vectors: ${embedder.real} real, ${embedder.seeded} seeded, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }),
    );
    const health = kb.health();
    const manifest: LoadKbManifest = {
      corpus: options.corpus,
      passages: health.passages,
      documents: health.documents,
      model: embedder.modelId,
      dimension: embedder.dimension,
      realVectors: embedder.real,
      seededVectors: embedder.seeded,
      vectors: '',
      builtAt: new Date().toISOString(),
    };
    manifest.vectors = describeVectors(manifest);
    fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    kb.close();
  }
}

/**
 * `npm run bench -- --load [--data DIR] [--passages 100000] [--real-vectors 2000] [--clients 50] [--seconds 60] [--no-hostile]`:
 * builds (or reuses) the load knowledge base, starts `server/main.ts` on it with the real model
 * (KB_MODEL_DIR), and runs bench/load.ts against it, hostile uploads included.
 */
export async function runLoadBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      load: { type: 'boolean' },
      data: { type: 'string', default: path.join(os.tmpdir(), 'policykb-load-100k') },
      corpus: { type: 'string', default: path.join(SHARED_CORPUS, 'laws') },
      passages: { type: 'string', default: '100000' },
      'real-vectors': { type: 'string', default: '2000' },
      clients: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '60' },
      'no-hostile': { type: 'boolean', default: false },
      'build-only': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const dataDir = path.resolve(values.data);
  const config = { ...loadConfig(), dataDir };
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const manifest = await buildLoadKb(config, {
    corpus: values.corpus,
    targetPassages: Number(values.passages),
    realVectors: Number(values['real-vectors']),
    log,
  });
  process.stdout.write(`load knowledge base ${dataDir}: ${manifest.vectors}\n`);
  if (values['build-only']) return;
  const loadBefore = os.loadavg();
  const token = crypto.randomBytes(12).toString('hex');
  const result = await runLoad({
    env: { KB_DATA_DIR: dataDir, KB_ADMIN_TOKEN: token, KB_MODEL_DOWNLOAD: '0', KB_LEXICAL_ONLY: '0' },
    clients: Number(values.clients),
    seconds: Number(values.seconds),
    hostile: !values['no-hostile'],
    adminToken: token,
  });
  const loadAfter = os.loadavg();
  process.stdout.write(
    `machine: ${os.cpus().length} cores, 1-minute load average ${loadBefore[0]!.toFixed(1)} before → ${loadAfter[0]!.toFixed(1)} after (5-minute ${loadAfter[1]!.toFixed(1)})\n` +
      `vectors: ${manifest.vectors}\n`,
  );
  process.exitCode = result.failed ? 1 : 0;
}
