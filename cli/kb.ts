/**
 * npm run kb -- remove <document id>… | reembed | stats | list [--kind K] [--prefix P] [--offset N] [--limit N]
 *               | feedback [--out FILE] [--data DIR] [--json]
 *
 * `reembed` drops every stored vector and embeds every passage again with the
 * configured model: the fix when the store was built with another model, and
 * the way to give vectors to passages ingested while no model was available.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { feedbackLine } from '../kb/feedback.ts';
import { ConfigError, loadConfig, withDataDir, type Config } from '../kb/config.ts';
import { KnowledgeBase, KnowledgeBaseError, type KnowledgeBaseOptions } from '../kb/kb.ts';
import { DOCUMENT_KINDS, type DocumentKind, type DocumentSummary, type SearchFilters } from '../kb/types.ts';
import { parseCommandLine, runCli } from './run.ts';

const USAGE = `用法 usage: npm run kb -- <command> [--data 目录]
  remove <文档 id>…       remove documents from the store and both indexes
  reembed                 re-embed every passage with the configured model (KB_MODEL)
  stats                   counts, model, index state, size on disk
  list [--kind K] [--prefix P] [--offset N] [--limit N] [--json]
  feedback [--out 文件]    readers' 👍/👎 and corrections as JSONL (stdout, or the file)`;

async function open(config: Config, options: KnowledgeBaseOptions): Promise<KnowledgeBase | number> {
  try {
    return await KnowledgeBase.open(config, options);
  } catch (error) {
    if (error instanceof KnowledgeBaseError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      data: { type: 'string' },
      json: { type: 'boolean' },
      kind: { type: 'string', multiple: true },
      prefix: { type: 'string' },
      offset: { type: 'string' },
      limit: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (!args) return 1;
  const { values, positionals } = args;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.error(USAGE);
    return values.help ? 0 : 1;
  }
  let config: Config;
  try {
    config = withDataDir(loadConfig(), values.data);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  const log = (m: string) => console.error(m);
  // Maintenance commands need no model: the stored vectors are kept in step without one.
  const noModel: KnowledgeBaseOptions = { embedder: null, lexicalOnlyReason: 'not needed for this command', log };
  // stats and list only read: they work beside a running server (which holds the writer lock).
  const reading: KnowledgeBaseOptions = { ...noModel, readOnly: true };

  switch (command) {
    case 'remove': {
      if (rest.length === 0) {
        console.error(`remove: 缺少文档 id（missing document id）\n${USAGE}`);
        return 1;
      }
      const kb = await open(config, noModel);
      if (typeof kb === 'number') return kb;
      try {
        const missing = await kb.write((writer) => {
          let notFound = 0;
          for (const id of rest) {
            if (writer.remove(id)) console.log(`removed ${id}`);
            else {
              console.error(`没有这个文档 no such document: ${id}`);
              notFound++;
            }
          }
          return notFound;
        });
        return missing > 0 ? 2 : 0;
      } finally {
        kb.close();
      }
    }
    case 'reembed': {
      const kb = await open(config, { log, allowModelChange: true });
      if (typeof kb === 'number') return kb;
      try {
        if (!kb.embedder) {
          console.error(`无法重新嵌入 cannot re-embed: ${kb.health().lexicalOnlyReason}`);
          return 1;
        }
        const started = performance.now();
        const total = kb.health().passages;
        let lastPrint = 0;
        const done = await kb.write((writer) =>
          writer.reembed((n) => {
            if (Date.now() - lastPrint > 5000) {
              lastPrint = Date.now();
              console.error(`progress: ${n}/${total} passages embedded`);
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        console.log(`re-embedded ${done} passages with ${kb.embedder.modelId} (${kb.embedder.dimension} dims) in ${seconds.toFixed(1)} s`);
        return 0;
      } finally {
        kb.close();
      }
    }
    case 'stats': {
      const kb = await open(config, reading);
      if (typeof kb === 'number') return kb;
      try {
        const stats = kb.stats();
        const health = kb.health();
        const perPassage = stats.passages > 0 ? Math.round(stats.bytesOnDisk / stats.passages) : 0;
        const report = { dataDir: config.dataDir, ...stats, kinds: health.kinds, bytesPerPassage: perPassage, model: health.model ?? null, index: health.index };
        if (values.json) console.log(JSON.stringify(report, null, 2));
        else {
          console.log(`data folder     ${config.dataDir}`);
          console.log(`documents       ${stats.documents}`);
          console.log(`kinds           ${Object.entries(health.kinds).map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
          console.log(`passages        ${stats.passages} (${stats.embedded} with vectors, ${stats.passages - stats.embedded} without)`);
          console.log(`model           ${health.model ? `${health.model.id} (${health.model.dimension} dims)` : 'none (no vectors stored)'}`);
          console.log(`HNSW vectors    ${stats.vectors} (${health.index.state})`);
          console.log(`size on disk    ${(stats.bytesOnDisk / 1024 / 1024).toFixed(1)} MiB (${perPassage} bytes per passage)`);
        }
        return 0;
      } finally {
        kb.close();
      }
    }
    case 'list': {
      const kinds = values.kind ?? [];
      const badKind = kinds.find((kind) => !(DOCUMENT_KINDS as readonly string[]).includes(kind));
      if (badKind) {
        console.error(`--kind ${badKind}: expected ${DOCUMENT_KINDS.join('|')}`);
        return 1;
      }
      const offset = Number(values.offset ?? 0);
      const limit = Number(values.limit ?? 100);
      if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1) {
        console.error('--offset/--limit: expected non-negative integers');
        return 1;
      }
      const filters: SearchFilters = {};
      if (kinds.length > 0) filters.kind = kinds as DocumentKind[];
      if (values.prefix) filters.pathPrefix = values.prefix;
      const kb = await open(config, reading);
      if (typeof kb === 'number') return kb;
      try {
        const page = kb.listDocuments({ filters, offset, limit });
        // Failed files have no kind or path filter to match; they are listed with the first page of an unfiltered list.
        const failures = offset === 0 && kinds.length === 0 && !values.prefix ? kb.failures() : [];
        if (values.json) console.log(JSON.stringify({ ...page, failures }, null, 2));
        else {
          for (const doc of page.documents) {
            console.log(`${doc.id}\t${doc.kind}\t${doc.passageCount} passages\t${documentState(doc, config.ocr)}\t${doc.title}`);
          }
          for (const failure of failures) console.log(`${failure.id}\t-\t0 passages\tfailed: ${failure.error}`);
          console.log(`${page.documents.length} of ${page.total} documents (offset ${offset})${failures.length > 0 ? `, ${failures.length} failed` : ''}`);
        }
        return 0;
      } finally {
        kb.close();
      }
    }
    case 'feedback': {
      const kb = await open(config, reading);
      if (typeof kb === 'number') return kb;
      try {
        // Opened here so a bad path is a clear error now, not an unhandled stream event later.
        const out = values.out ? fs.createWriteStream(values.out, { fd: fs.openSync(values.out, 'w') }) : process.stdout;
        let count = 0;
        for (const entry of kb.feedback()) {
          // Respect back-pressure: an export of 100,000 verdicts must not sit in memory.
          if (!out.write(`${feedbackLine(entry)}\n`)) await once(out, 'drain');
          count++;
        }
        if (values.out) await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
        console.error(`${count} 条评价 verdicts exported${values.out ? ` to ${values.out}` : ''}`);
        return 0;
      } finally {
        kb.close();
      }
    }
    default:
      console.error(`unknown command ${command}\n${USAGE}`);
      return 1;
  }
}

/** What `list` says about a document: indexed, OCR'd (pages, mean confidence), or waiting for OCR and why. */
function documentState(doc: DocumentSummary, ocrOn: boolean): string {
  if (doc.needsOcr) return ocrOn ? 'needs OCR (OCR failed; see warnings)' : 'needs OCR (OCR off: KB_OCR=0)';
  if (doc.ocr) return `OCR'd (${doc.ocr.pages} pages, mean confidence ${doc.ocr.confidence.toFixed(2)})`;
  return 'indexed';
}

runCli('kb', main);
