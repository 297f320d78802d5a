/**
 * Chinese analysis for the lexical index: jieba search-mode words (with the
 * project's policy-term dictionary and a site's user dictionary on top) and
 * character bigrams. Bigrams need no dictionary, so they keep recall on words
 * jieba cuts differently in a question and in a document (吉人回乡 vs 回吉林);
 * words keep precision on multi-character terms. Both go to the index as
 * separate fields (see kb/index/lexical/lexical.ts).
 *
 * jieba runs here only at ingest and on queries: `analyze` returns a storable
 * string that the knowledge base keeps beside each passage, so reopening a
 * knowledge base rebuilds the index without cutting a word.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Jieba } from '@node-rs/jieba';
import { dict as jiebaDict } from '@node-rs/jieba/dict.js';
import { QUESTION_WORDS, foldText, stripWhitespace } from '../../text/text.ts';

/** The project's policy-term dictionary (kept in the repository beside this file). */
export const POLICY_TERMS_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'policy-terms.txt');

/** The name of a site's own dictionary inside the data folder. */
export const USER_DICT_FILE = 'user-dict.txt';

/**
 * Bumped whenever `analyze` output changes meaning; a store holding analysed
 * passages of another version must re-analyse them.
 */
export const ANALYSIS_VERSION = 'a1';

const QUERY_CACHE_SIZE = 16;

/** Separates the fields of an analysed passage (ASCII unit separator never occurs in text). */
const FIELD_SEP = '\u001f';

/** What `analyze` needs from a passage. */
export interface AnalysisFields {
  text: string;
  title?: string;
  headingPath?: string[];
  /**
   * The document the passage belongs to. Passages of one document are also
   * scored as a whole (a question names the city or the notice in words only
   * the document's first passage holds); without it the title groups them.
   */
  documentId?: string;
}

/** A query, analysed. */
export interface QueryTerms {
  /** Distinct words, question words and stop words removed. */
  words: string[];
  /** Distinct character bigrams of the query with question words removed. */
  bigrams: string[];
  /** Quoted phrases ("…", “…”, 「…」), folded and without whitespace: a hit must contain each. */
  phrases: string[];
}

// Function words that occur in nearly every passage; dropping them from the
// words field costs nothing and shortens postings. Bigrams keep them (their
// idf is tiny anyway) so phrase candidates stay intact.
const STOP_WORDS = new Set([
  '的', '了', '和', '是', '在', '对', '与', '及', '等', '或', '并', '将', '把', '被', '于', '以', '为', '之', '其', '中',
  '也', '就', '都', '而', '又', '从', '向', '给', '由', '按', '该', '这', '那', '此', '各', '有', '要', '我', '你', '他',
  '们', '个', '上', '下', '年', '月', '日', '号', '第', '一', '不', '到', '会', '可', '能', '所', '已', '还', '但', '如',
  '及其', '以及', '或者', '并且', '进行', '有关', '相关', '关于', '根据', '按照', '对于', '通过', '一些', '这些', '那些',
  '我们', '你们', '他们', '其中', '以上', '以下', '之一',
]);

function isCjk(c: number): boolean {
  return (c >= 0x3400 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xd800 && c <= 0xdbff);
}
function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x3000 || c === 0xa0;
}

// CJK bigrams inside the main ideograph blocks are numbered instead of
// spelled: building and hashing 300 two-character strings per passage is
// most of the cost of loading a large index. The numbers stay below 2^30 so
// V8 keeps them as small integers.
const CODE_BASE = 0x3400;
const CODE_SPAN = 0xa000 - CODE_BASE;

/** The number of a two-ideograph bigram, or -1 when it has to be spelled out. */
export function bigramCode(bigram: string): number {
  if (bigram.length !== 2) return -1;
  const a = bigram.charCodeAt(0) - CODE_BASE;
  const b = bigram.charCodeAt(1) - CODE_BASE;
  return a >= 0 && a < CODE_SPAN && b >= 0 && b < CODE_SPAN ? a * CODE_SPAN + b : -1;
}

function codeToBigram(code: number): string {
  return String.fromCharCode(Math.floor(code / CODE_SPAN) + CODE_BASE, (code % CODE_SPAN) + CODE_BASE);
}

/**
 * Character bigrams of folded text, each given to `visit` as a number (two
 * ideographs, see bigramCode) or as text (anything else). A unit is one CJK
 * character or one run of ASCII letters and digits (2020, covid); whitespace
 * is skipped without breaking the run (PDF line breaks fall mid-word),
 * punctuation breaks it. A run of a single unit yields that unit, so 疫 alone
 * is still findable.
 */
export function forEachBigram(folded: string, visit: (code: number, text: string) => void): void {
  let prevText = '';
  let prevCode = -1;
  let runLength = 0;
  let i = 0;
  const length = folded.length;
  while (i < length) {
    const c = folded.charCodeAt(i);
    let unitCode = -1;
    let unitText = '';
    if (c >= 0x3400 && c < 0xa000) {
      unitCode = c - CODE_BASE;
      i++;
    } else if (isAlnum(c)) {
      let j = i + 1;
      while (j < length && isAlnum(folded.charCodeAt(j))) j++;
      unitText = folded.slice(i, j);
      i = j;
    } else if (isCjk(c)) {
      const width = c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      unitText = folded.slice(i, i + width);
      i += width;
    } else {
      i++;
      if (isSpace(c)) continue;
      if (runLength === 1) visit(-1, prevCode >= 0 ? String.fromCharCode(prevCode + CODE_BASE) : prevText);
      runLength = 0;
      continue;
    }
    if (runLength > 0) {
      if (prevCode >= 0 && unitCode >= 0) visit(prevCode * CODE_SPAN + unitCode, '');
      else {
        const left = prevCode >= 0 ? String.fromCharCode(prevCode + CODE_BASE) : prevText;
        const right = unitCode >= 0 ? String.fromCharCode(unitCode + CODE_BASE) : unitText;
        visit(-1, left + right);
      }
    }
    prevCode = unitCode;
    prevText = unitText;
    runLength++;
  }
  if (runLength === 1) visit(-1, prevCode >= 0 ? String.fromCharCode(prevCode + CODE_BASE) : prevText);
}

/** Character bigrams of folded text, spelled out (see forEachBigram). */
export function bigramsOf(folded: string, out: string[] = []): string[] {
  forEachBigram(folded, (code, text) => out.push(code >= 0 ? codeToBigram(code) : text));
  return out;
}

/** Whitespace next to a non-ASCII character: a PDF line break inside a Chinese word, which jieba would cut at. */
const INNER_SPACE = /(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])/g;

function keepWord(word: string): boolean {
  if (STOP_WORDS.has(word)) return false;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (isCjk(c) || isAlnum(c)) return true;
  }
  return false;
}

function dedup(items: string[]): string[] {
  return [...new Set(items)];
}

/** Parses a jieba dictionary file leniently: comments and blank lines skipped, missing frequencies filled in. */
export function parseDictionary(content: string, defaultFrequency = 100000): string {
  const lines: string[] = [];
  for (const raw of content.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [word, second, third] = line.split(/\s+/);
    if (!word) continue;
    const frequency = second !== undefined && /^\d+$/.test(second) ? second : String(defaultFrequency);
    const tag = second !== undefined && !/^\d+$/.test(second) ? second : third;
    lines.push(tag ? `${word} ${frequency} ${tag}` : `${word} ${frequency}`);
  }
  return lines.join('\n');
}

export interface PolicyTokenizerOptions {
  /** A site's dictionary (normally `<data dir>/user-dict.txt`); read when present, re-read when its mtime or size changes. */
  userDictPath?: string;
  /** Override of the project's policy-term dictionary (tests). */
  policyTermsPath?: string;
  /** How often, at most, the user dictionary's mtime is checked. Default 1000 ms. */
  userDictCheckMs?: number;
}

/**
 * jieba with its dictionaries loaded, by dictionary content. Loading takes
 * ~0.15 CPU-s (measured: 130–250 ms per tokenizer on the 2-core machine) and
 * every knowledge base that opens builds a tokenizer (the server's, each
 * test's, each reopen): those with the same dictionaries share one instance,
 * which is never changed after loading.
 */
const loadedJiebas = new Map<string, Jieba>();
/** The last few dictionary sets stay loaded: a process rarely holds more than one knowledge base. */
const LOADED_JIEBAS_KEPT = 2;

function loadedJieba(policyTerms: string, user: string): Jieba {
  const key = `${policyTerms}\u0000${user}`;
  let jieba = loadedJiebas.get(key);
  if (!jieba) {
    jieba = Jieba.withDict(jiebaDict);
    jieba.loadDict(Buffer.from(policyTerms));
    if (user) jieba.loadDict(Buffer.from(user));
  }
  loadedJiebas.delete(key);
  loadedJiebas.set(key, jieba);
  while (loadedJiebas.size > LOADED_JIEBAS_KEPT) loadedJiebas.delete(loadedJiebas.keys().next().value!);
  return jieba;
}

let policyTermsDictionary: string | undefined;

/**
 * Where jieba (its dictionary and the policy terms, no user words) puts word boundaries in `text`: the
 * offsets at which a word starts, and the text's end. A place name is only a place where it is words of
 * its own (保定 is none inside 确保定点, kb/places.ts).
 */
export function wordBoundaries(text: string): Set<number> {
  policyTermsDictionary ??= parseDictionary(fs.readFileSync(POLICY_TERMS_PATH, 'utf8'));
  const words = loadedJieba(policyTermsDictionary, '').cut(text, true);
  const bounds = new Set<number>([0]);
  let at = 0;
  for (const word of words) bounds.add((at += word.length));
  return bounds;
}

export class PolicyTokenizer {
  readonly analysisVersion = ANALYSIS_VERSION;
  private jieba: Jieba;
  private readonly userDictPath: string | undefined;
  private readonly policyTerms: string;
  private readonly checkMs: number;
  private userDictStamp = '';
  private lastCheck = 0;
  private readonly queryCache = new Map<string, QueryTerms>();

  constructor(options: PolicyTokenizerOptions = {}) {
    this.userDictPath = options.userDictPath;
    this.checkMs = options.userDictCheckMs ?? 1000;
    this.policyTerms = parseDictionary(fs.readFileSync(options.policyTermsPath ?? POLICY_TERMS_PATH, 'utf8'));
    this.userDictStamp = this.readUserDictStamp();
    this.jieba = this.buildJieba();
    this.lastCheck = Date.now();
  }

  private readUserDictStamp(): string {
    if (!this.userDictPath) return '';
    try {
      const stat = fs.statSync(this.userDictPath);
      return `${stat.mtimeMs}:${stat.size}`;
    } catch {
      return '';
    }
  }

  private buildJieba(): Jieba {
    let user = '';
    if (this.userDictPath && this.userDictStamp) {
      try {
        user = parseDictionary(fs.readFileSync(this.userDictPath, 'utf8'));
      } catch (error) {
        // A broken user file must not take search down; the policy terms still apply.
        console.warn(`用户词典 ${this.userDictPath} 无法读取，已忽略：${(error as Error).message}`);
      }
    }
    return loadedJieba(this.policyTerms, user);
  }

  /** Re-reads the user dictionary when it changed; a stat at most every `userDictCheckMs`. */
  refreshUserDictionary(force = false): boolean {
    if (!this.userDictPath) return false;
    const now = Date.now();
    if (!force && now - this.lastCheck < this.checkMs) return false;
    this.lastCheck = now;
    const stamp = this.readUserDictStamp();
    if (stamp === this.userDictStamp) return false;
    this.userDictStamp = stamp;
    this.jieba = this.buildJieba();
    this.queryCache.clear();
    return true;
  }

  /** jieba search-mode words of text, folded, stop words and punctuation removed (duplicates kept: they are term frequency). */
  words(text: string): string[] {
    this.refreshUserDictionary();
    const folded = foldText(text).replace(INNER_SPACE, '');
    return this.jieba.cutForSearch(folded, true).filter(keepWord);
  }

  /** The storable analysed form of a passage; `LexicalIndex.add` takes it back. */
  analyze(fields: AnalysisFields): string {
    const context = [fields.title ?? '', ...(fields.headingPath ?? [])].filter(Boolean).join('\n');
    const group = fields.documentId ?? fields.title ?? '';
    return [
      ANALYSIS_VERSION,
      this.words(fields.text).join(' '),
      this.words(context).join(' '),
      foldText(context),
      group.replaceAll(FIELD_SEP, ' '),
    ].join(FIELD_SEP);
  }

  /**
   * Splits a query into quoted phrases, words and bigrams. The last few
   * results are remembered: a search asks once to rank and once more per hit
   * to highlight. The result is shared: callers must not modify it.
   */
  queryTerms(query: string): QueryTerms {
    this.refreshUserDictionary();
    const cached = this.queryCache.get(query);
    if (cached) return cached;
    const terms = this.analyseQuery(query);
    if (this.queryCache.size >= QUERY_CACHE_SIZE) this.queryCache.delete(this.queryCache.keys().next().value!);
    this.queryCache.set(query, terms);
    return terms;
  }

  private analyseQuery(query: string): QueryTerms {
    const phrases: string[] = [];
    const quoted = /"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』/g;
    for (const match of query.matchAll(quoted)) {
      const phrase = stripWhitespace(foldText(match[1] ?? match[2] ?? match[3] ?? match[4] ?? ''));
      if (phrase) phrases.push(phrase);
    }
    let cleaned = foldText(query);
    // A break in place of each question word, so its characters form no bigrams with their neighbours.
    for (const word of QUESTION_WORDS) cleaned = cleaned.split(word).join('，');
    const words = dedup(this.words(cleaned));
    const bigrams = bigramsOf(cleaned);
    // A phrase's own bigrams always score, even where a question word sat inside it.
    for (const phrase of phrases) bigramsOf(phrase, bigrams);
    return { words, bigrams: dedup(bigrams), phrases: dedup(phrases) };
  }
}

/** The stored parts of `PolicyTokenizer.analyze` output. */
export interface AnalysedParts {
  /** Space-separated words of the passage text. */
  words: string;
  /** Space-separated words of title and headings. */
  contextWords: string;
  /** Title and headings, folded, one per line (their bigrams are computed when indexing). */
  context: string;
  /** What groups passages into a document ('' when unknown). */
  group: string;
}

export function splitAnalysed(analysed: string): AnalysedParts {
  const [version, words = '', contextWords = '', context = '', group = ''] = analysed.split(FIELD_SEP);
  if (version !== ANALYSIS_VERSION) {
    throw new Error(`analysed passage has version ${version ?? '(none)'}, expected ${ANALYSIS_VERSION}: re-analyse it`);
  }
  return { words, contextWords, context, group };
}

/** True when an analysed string was made by this version of `analyze`. */
export function isCurrentAnalysis(analysed: string): boolean {
  return analysed.startsWith(ANALYSIS_VERSION + FIELD_SEP);
}
