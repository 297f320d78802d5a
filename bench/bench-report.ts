/**
 * The benchmark's measurements and their presentation: latency summaries, a
 * plain-text table for the terminal and the sizes of data folders.
 */
import fs from 'node:fs';
import path from 'node:path';
import { percentile } from './metrics.ts';

export interface Latency {
  n: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function latencyOf(samplesMs: readonly number[]): Latency {
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  const mean = samplesMs.length ? samplesMs.reduce((a, b) => a + b, 0) / samplesMs.length : 0;
  return {
    n: samplesMs.length,
    meanMs: round(mean),
    p50Ms: round(percentile(samplesMs, 50)),
    p95Ms: round(percentile(samplesMs, 95)),
    p99Ms: round(percentile(samplesMs, 99)),
    maxMs: round(samplesMs.length ? Math.max(...samplesMs) : 0),
  };
}

/** Run `work` once per item, sequentially (one user at a time), and time each call. */
export async function timeEach<T>(items: readonly T[], work: (item: T) => unknown): Promise<Latency> {
  const samples: number[] = [];
  for (const item of items) {
    const started = performance.now();
    await work(item);
    samples.push(performance.now() - started);
  }
  return latencyOf(samples);
}

/** Bytes of every file under `dir`. */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${fmt(bytes / 1024 / 1024 / 1024, 2)} GiB`;
  if (bytes >= 1024 * 1024) return `${fmt(bytes / 1024 / 1024, 1)} MiB`;
  if (bytes >= 1024) return `${fmt(bytes / 1024, 1)} KiB`;
  return `${bytes} B`;
}

export function fmtLatency(latency: Latency): string {
  return `p50 ${fmt(latency.p50Ms, 2)}  p95 ${fmt(latency.p95Ms, 2)}  p99 ${fmt(latency.p99Ms, 2)} ms`;
}

/** A section of the terminal table: rows of (what, value, note). */
export interface TableSection {
  title: string;
  rows: Array<[string, string, string?]>;
}

/** Display width: CJK and full-width characters take two columns. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

function pad(text: string, to: number): string {
  return text + ' '.repeat(Math.max(0, to - width(text)));
}

export function renderTable(sections: readonly TableSection[]): string {
  const rows = sections.flatMap((s) => s.rows);
  const first = Math.max(...rows.map((r) => width(r[0])), 10);
  const second = Math.max(...rows.map((r) => width(r[1])), 10);
  const lines: string[] = [];
  for (const section of sections) {
    lines.push('', `== ${section.title}`);
    for (const [what, value, note] of section.rows) {
      lines.push(`  ${pad(what, first)}  ${pad(value, second)}${note ? `  ${note}` : ''}`.trimEnd());
    }
  }
  return lines.join('\n');
}

/** The most memory a process has held resident so far (VmHWM, MiB); undefined when it is gone or off Linux. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds of this process's reaped children (and theirs), from /proc/self/stat; undefined off Linux. */
export function childrenCpuSeconds(): number | undefined {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, USER_HZ
  } catch {
    return undefined;
  }
}
