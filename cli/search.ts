/**
 * npm run search -- "<query>" [--k 10] [--mode MODE] [--json] [--data DIR]
 *                   [--kind K]… [--issuer X] [--from D] [--to D] [--prefix P]
 *
 * Prints ranked passages with their citations: title, heading path, pages,
 * and which retrievers found each passage at which rank.
 */
import { ConfigError, loadConfig, withDataDir } from '../kb/config.ts';
import { KnowledgeBase, KnowledgeBaseError } from '../kb/kb.ts';
import { DOCUMENT_KINDS, RETRIEVAL_MODES, type DocumentKind, type RetrievalMode, type SearchFilters, type SearchHit } from '../kb/types.ts';
import { parseCommandLine, runCli } from './run.ts';
import { search } from '../search/retrieve.ts';

const USAGE = `用法 usage: npm run search -- "<查询>" [--k 10] [--mode ${RETRIEVAL_MODES.join('|')}] [--json] [--data 目录]
       [--kind ${DOCUMENT_KINDS.join('|')}]… [--issuer 发文单位] [--from 日期] [--to 日期] [--prefix 路径前缀]`;

/** Marks highlight ranges with 【】 (or bold on a terminal). */
function highlighted(hit: SearchHit, tty: boolean): string {
  let out = '';
  let at = 0;
  for (const [start, end] of hit.highlights) {
    out += hit.text.slice(at, start);
    const term = hit.text.slice(start, end);
    out += tty ? `\x1b[1;33m${term}\x1b[0m` : `【${term}】`;
    at = end;
  }
  return (out + hit.text.slice(at)).replace(/\s*\n\s*/g, ' ');
}

function describeRanks(hit: SearchHit): string {
  const parts: string[] = [];
  if (hit.ranks.lexical !== undefined) parts.push(`lexical #${hit.ranks.lexical}`);
  if (hit.ranks.dense !== undefined) parts.push(`dense #${hit.ranks.dense}`);
  return parts.join(', ');
}

function fail(message: string): number {
  console.error(`${message}\n${USAGE}`);
  return 1;
}

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      k: { type: 'string' },
      mode: { type: 'string' },
      json: { type: 'boolean' },
      data: { type: 'string' },
      kind: { type: 'string', multiple: true },
      issuer: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      prefix: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (!args) return 1;
  const { values, positionals } = args;
  if (values.help) {
    console.error(USAGE);
    return 0;
  }
  const text = positionals.join(' ').trim();
  if (!text) return fail('缺少查询文本（missing query）');
  const k = values.k === undefined ? 10 : Number(values.k);
  if (!Number.isInteger(k) || k < 1) return fail(`--k ${values.k}: expected a positive integer`);
  const mode = (values.mode ?? 'hybrid') as RetrievalMode;
  if (!(RETRIEVAL_MODES as readonly string[]).includes(mode)) return fail(`--mode ${values.mode}: expected ${RETRIEVAL_MODES.join('|')}`);
  const kinds = values.kind ?? [];
  const badKind = kinds.find((kind) => !(DOCUMENT_KINDS as readonly string[]).includes(kind));
  if (badKind) return fail(`--kind ${badKind}: expected ${DOCUMENT_KINDS.join('|')}`);
  for (const [flag, value] of [['--from', values.from], ['--to', values.to]] as const) {
    if (value !== undefined && !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(value)) return fail(`${flag} ${value}: expected YYYY, YYYY-MM or YYYY-MM-DD`);
  }
  const filters: SearchFilters = {};
  if (kinds.length > 0) filters.kind = kinds as DocumentKind[];
  if (values.issuer) filters.issuer = values.issuer;
  if (values.from) filters.dateFrom = values.from;
  if (values.to) filters.dateTo = values.to;
  if (values.prefix) filters.pathPrefix = values.prefix;

  let kb: KnowledgeBase;
  try {
    const config = withDataDir(loadConfig(), values.data);
    // A lexical query needs no model: skip loading it (and say so only if dense was asked).
    kb = await KnowledgeBase.open(
      config,
      // Read-only: searching works beside a running server or ingest, which hold the writer lock.
      mode === 'lexical'
        ? { embedder: null, lexicalOnlyReason: '--mode lexical', log: () => {}, readOnly: true }
        : { log: (m) => console.error(m), readOnly: true },
    );
  } catch (error) {
    if (error instanceof KnowledgeBaseError || error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  try {
    const result = await search(kb, { text, k, mode, filters });
    if (values.json) {
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    if (result.notice) console.log(`注意 notice: ${result.notice}\n`);
    if (kb.health().documents === 0) console.log(`知识库 ${kb.config.dataDir} 是空的：先运行 npm run ingest（the knowledge base is empty）`);
    const tty = process.stdout.isTTY === true;
    result.hits.forEach((hit, i) => {
      const c = hit.citation;
      const where = [c.documentId];
      if (c.headingPath.length > 0) where.push(c.headingPath.join(' > '));
      if (c.pages) where.push(c.pages[0] === c.pages[1] ? `p. ${c.pages[0]}` : `pp. ${c.pages[0]}–${c.pages[1]}`);
      console.log(`${i + 1}. ${c.title}  (score ${hit.score.toFixed(4)}; ${describeRanks(hit)})`);
      console.log(`   ${where.join(' · ')}${hit.date ? ` · ${hit.date}` : ''}${hit.issuer ? ` · ${hit.issuer}` : ''}`);
      console.log(`   ${highlighted(hit, tty)}`);
      if (hit.alsoIn && hit.alsoIn.length > 0) console.log(`   (same passage also in: ${hit.alsoIn.join(', ')})`);
      console.log('');
    });
    console.log(`${result.hits.length} hits · mode ${result.mode}${result.notice ? ' (lexical-only)' : ''} · ${result.tookMs.toFixed(1)} ms`);
    return 0;
  } finally {
    kb.close();
  }
}

runCli('search', main);
