/**
 * npm run ingest -- <files or folders…> [--exclude PATH]… [--prune] [--data DIR]
 *                   [--jsonl-text F --jsonl-title F --jsonl-id F --jsonl-message F] [--root DIR] [--progress-every SECONDS] [--wait]
 *
 * Only one process writes a data folder at a time (kb/lock.ts): while the
 * server or another ingest holds it, this refuses, naming the holder; with
 * --wait it waits for the holder to finish.
 *
 * Exit status: 0 when every file succeeded, 2 when some failed (each listed
 * with its cause), 1 when the knowledge base could not be opened at all.
 */
import { loadConfig, withDataDir, ConfigError } from '../kb/config.ts';
import { KnowledgeBase, KnowledgeBaseError } from '../kb/kb.ts';
import type { IngestProgress } from '../kb/types.ts';
import { ingestPaths } from '../ingest/ingest.ts';
import { JSONL_OPTIONS, JSONL_USAGE, jsonlFieldsFromOptions } from '../ingest/jsonl.ts';
import { parseCommandLine, runCli } from './run.ts';
import { failureLine } from '../ingest/errors.ts';

const USAGE = `用法 usage: npm run ingest -- <文件或目录…> [--exclude 路径或通配]… [--prune] [--data 目录]
       ${JSONL_USAGE} [--root 目录] [--progress-every 秒] [--wait]`;

/** Plain progress lines when stderr is not a terminal: one every few seconds, not one per file (--progress-every changes it). */
const PLAIN_PROGRESS_EVERY_SECONDS = 5;

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function progressText(p: IngestProgress): { bar: string; stats: string } {
  const fraction = p.filesTotal > 0 ? p.filesDone / p.filesTotal : 1;
  const width = 24;
  const filled = Math.round(fraction * width);
  const rate = p.elapsedSeconds > 0 ? p.passages / p.elapsedSeconds : 0;
  const eta = p.filesDone > 0 ? (p.elapsedSeconds / p.filesDone) * (p.filesTotal - p.filesDone) : NaN;
  return {
    bar: `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`,
    stats: `${p.filesDone}/${p.filesTotal} files${p.pagesDone > 0 ? ` · ${p.pagesDone} pages` : ''} · ${p.passages} passages · ${rate.toFixed(1)} passages/s · ETA ${formatDuration(eta)}`,
  };
}

function makeProgressReporter(everyMs: number): { report: (p: IngestProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let lastPlain = 0;
  let drawn = false;
  let printedFinish = false;
  return {
    report(p) {
      const { bar, stats } = progressText(p);
      if (tty) {
        const columns = process.stderr.columns || 100;
        const line = `${bar} ${stats}${p.currentFile ? ` · ${p.currentFile}` : ''}`;
        process.stderr.write(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`);
        drawn = true;
      } else {
        const now = Date.now();
        const finished = p.filesDone === p.filesTotal;
        if ((now - lastPlain >= everyMs && !finished) || (finished && !printedFinish)) {
          lastPlain = now;
          printedFinish = finished;
          console.error(`progress: ${stats}`);
        }
      }
    },
    done() {
      if (drawn) process.stderr.write('\n');
    },
  };
}

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      exclude: { type: 'string', multiple: true },
      prune: { type: 'boolean' },
      data: { type: 'string' },
      root: { type: 'string' },
      ...JSONL_OPTIONS,
      'progress-every': { type: 'string' },
      wait: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (!args) return 1;
  const { values, positionals } = args;
  if (values.help || positionals.length === 0) {
    console.error(USAGE);
    return values.help ? 0 : 1;
  }
  const { fields: jsonl, error: jsonlError } = jsonlFieldsFromOptions(values);
  if (jsonlError) {
    console.error(`${jsonlError}\n${USAGE}`);
    return 1;
  }

  let kb: KnowledgeBase;
  try {
    const config = withDataDir(loadConfig(), values.data);
    kb = await KnowledgeBase.open(config, { log: (m) => console.error(m), ...(values.wait ? { lockWaitMs: Infinity } : {}) });
  } catch (error) {
    if (error instanceof KnowledgeBaseError || error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  const health = kb.health();
  console.error(
    health.mode === 'lexical-only'
      ? `模式 mode: 纯关键词 LEXICAL-ONLY (reason above) — passages are stored without vectors and embedded once a model loads`
      : `模式 mode: hybrid — model ${kb.embedder?.modelId} (${kb.embedder?.dimension} dims)`,
  );

  const progressEvery = Number(values['progress-every'] ?? PLAIN_PROGRESS_EVERY_SECONDS);
  if (!Number.isFinite(progressEvery) || progressEvery < 0) {
    console.error(`--progress-every ${values['progress-every']}: expected seconds ≥ 0`);
    kb.close();
    return 1;
  }
  const progress = makeProgressReporter(progressEvery * 1000);
  try {
    const report = await ingestPaths(kb, positionals, {
      ...(values.root ? { root: values.root } : {}),
      exclude: values.exclude ?? [],
      prune: values.prune === true,
      ...(jsonl ? { jsonl } : {}),
      onProgress: progress.report,
    });
    progress.done();
    const stats = kb.stats();
    if (report.warnings.length > 0) {
      // A scanned PDF warns once per page: one line per file keeps the summary readable.
      const byFile = new Map<string, string[]>();
      for (const w of report.warnings) {
        const warnings = byFile.get(w.file);
        if (warnings) warnings.push(w.warning);
        else byFile.set(w.file, [w.warning]);
      }
      console.log(`警告 warnings (${report.warnings.length} in ${byFile.size} files):`);
      let shown = 0;
      for (const [file, warnings] of byFile) {
        if (shown++ >= 40) {
          console.log(`  … and ${byFile.size - 40} more files`);
          break;
        }
        console.log(`  ${file}: ${warnings[0]}${warnings.length > 1 ? `（另有 ${warnings.length - 1} 条 and ${warnings.length - 1} more）` : ''}`);
      }
    }
    if (report.failed.length > 0) {
      console.log(`失败 failed (${report.failed.length}):`);
      for (const f of report.failed) console.log(`  ${failureLine(f.file, f.error)}`);
    }
    const rate = report.seconds > 0 ? (report.passages / report.seconds).toFixed(1) : '0';
    console.log(
      `summary: added ${report.added}, updated ${report.updated}, unchanged ${report.unchanged}, removed ${report.removed}, ` +
        `failed ${report.failed.length}, passages ${report.passages}, ${report.seconds.toFixed(1)} s (${rate} passages/s)`,
    );
    console.log(
      `knowledge base ${kb.config.dataDir}: ${stats.documents} documents, ${stats.passages} passages, ${stats.vectors} vectors` +
        (health.mode === 'lexical-only' ? ' (lexical-only)' : ''),
    );
    return report.failed.length > 0 ? 2 : 0;
  } finally {
    kb.close();
  }
}

runCli('ingest', main);
