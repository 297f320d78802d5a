/**
 * How telling a question word is, judged against general Chinese rather than
 * the few passages retrieved for it: jieba's own IDF table (news and web
 * text) and its dictionary's place and organisation tags. A candidate pool of
 * eight passages about graduate retention cannot say that 吉林 matters more
 * than 情况; general usage can.
 */
import fs from 'node:fs';
import { dict as jiebaDict, idf as jiebaIdf } from '@node-rs/jieba/dict.js';
import { POLICY_TERMS_PATH, parseDictionary } from './tokenizer.ts';

/** Tags of jieba's dictionary for places (ns) and organisations (nt). */
const NAME_TAGS = new Set(['ns', 'nt']);
/** jieba tags of words that name no subject: idiom, numeral, pronoun, measure word, conjunction, particle, modal, interjection, onomatopoeia, locative, time. */
const FUNCTION_TAGS = new Set(['i', 'm', 'r', 'q', 'c', 'u', 'y', 'e', 'o', 'f', 't']);
/**
 * Place words so general that a text about one province or city may well not
 * spell them (全国, 中国) or says them in every passage; they name no subject.
 */
const GENERAL_PLACES = new Set([
  // jieba tags 东西 (things) as a place, the 东西 of 东西方向.
  '东西',
  '中国', '中华人民共和国', '全国', '我国', '国家', '国内', '国外', '全省', '全市', '本省', '本市', '我省', '我市', '各地', '地方', '中央']);

export class TermRarity {
  private constructor(
    private readonly idfByWord: Map<string, number>,
    private readonly names: Set<string>,
    private readonly domainTerms: Set<string>,
    private readonly verbs: Set<string>,
    private readonly functionWords: Set<string>,
    private readonly nouns: Set<string>,
    readonly medianIdf: number,
  ) {}

  /**
   * Parses jieba's `idf.txt` ("word idf" lines), `dict.txt` ("word freq tag"
   * lines) and the project's policy-term list (a word a line, jieba format).
   */
  static fromTables(idfTable: string, dictTable: string, policyTerms = ''): TermRarity {
    const idfByWord = new Map<string, number>();
    const values: number[] = [];
    for (const line of idfTable.split('\n')) {
      const space = line.indexOf(' ');
      if (space <= 0) continue;
      const value = Number(line.slice(space + 1));
      if (!Number.isFinite(value)) continue;
      idfByWord.set(line.slice(0, space), value);
      values.push(value);
    }
    values.sort((a, b) => a - b);
    const names = new Set<string>();
    const verbs = new Set<string>();
    const functionWords = new Set<string>();
    const nouns = new Set<string>();
    for (const line of dictTable.split('\n')) {
      const [word, , tag] = line.trim().split(/\s+/);
      if (word && tag && NAME_TAGS.has(tag) && !GENERAL_PLACES.has(word)) names.add(word);
      else if (word && (tag === 'v' || tag === 'vd' || tag === 'p' || tag === 'd')) verbs.add(word);
      else if (word && tag && FUNCTION_TAGS.has(tag)) functionWords.add(word);
      if (word && (tag === 'n' || tag === 'nz')) nouns.add(word);
    }
    const domainTerms = new Set<string>();
    for (const line of parseDictionary(policyTerms).split('\n')) {
      const word = line.split(' ')[0];
      // A policy term general text also uses (养老保险) is common knowledge, not a narrow subject.
      if (word && !idfByWord.has(word)) domainTerms.add(word);
    }
    return new TermRarity(idfByWord, names, domainTerms, verbs, functionWords, nouns, values[Math.floor(values.length / 2)] ?? 10);
  }

  private static sharedInstance: TermRarity | undefined;

  /** jieba's tables, parsed once per process (about 0.3 s); read-only afterwards. */
  static shared(): TermRarity {
    TermRarity.sharedInstance ??= TermRarity.fromTables(
      Buffer.from(jiebaIdf).toString('utf8'),
      Buffer.from(jiebaDict).toString('utf8'),
      fs.readFileSync(POLICY_TERMS_PATH, 'utf8'),
    );
    return TermRarity.sharedInstance;
  }

  /** General-usage IDF of `word`, undefined for a word general text does not use (留吉率, 普惠性). */
  idf(word: string): number | undefined {
    return this.idfByWord.get(word);
  }

  /**
   * A verb, adverb or preposition in jieba's dictionary (购买, 申请, 对于): it
   * frames what a question asks and names no subject a document must hold.
   */
  isVerb(word: string): boolean {
    return this.verbs.has(word);
  }

  /**
   * A verb or a word of no subject at all in jieba's dictionary: an idiom, numeral, pronoun, measure word,
   * conjunction, particle, locative or time word (头一回, 几家, 哪些, 上面, 目前).
   */
  namesNoSubject(word: string): boolean {
    return this.verbs.has(word) || this.functionWords.has(word);
  }

  /** A common noun of jieba's dictionary (汽车, 新能源), not a verbal noun (服务) nor a name. */
  isNoun(word: string): boolean {
    return this.nouns.has(word);
  }

  /** A place or organisation name the dictionary knows (吉林省, 国务院), general ones (全国, 我省) excepted. */
  isName(word: string): boolean {
    return this.names.has(word);
  }

  /**
   * A coined policy term of the project's list that general text never uses
   * (留吉率, 普惠性). Words jieba's HMM forms from a question (部到, 率为) are
   * unknown to general text too, but they are no subject, hence the list.
   */
  isDomainTerm(word: string): boolean {
    return this.domainTerms.has(word);
  }

  /** A subject a question names: a place, an organisation or a coined policy term. */
  isDistinctive(word: string): boolean {
    return this.isName(word) || this.isDomainTerm(word);
  }
}
