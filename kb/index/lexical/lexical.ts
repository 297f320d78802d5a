/**
 * In-memory BM25 over analysed passages (see kb/index/lexical/tokenizer.ts), kept as a
 * library of our own rather than SQLite FTS5 or MiniSearch: FTS5 cannot score
 * two token streams of one passage with their own weights and length norms,
 * and MiniSearch on jieba tokens measured 96 ms p95 and lower recall on the
 * NCPQA evaluation; postings in typed arrays answer in about a millisecond at
 * 100k passages.
 *
 * Four fields are scored, each with its own BM25 length normalisation, and
 * summed with weights (BM25F-like): jieba words and character bigrams of the
 * passage text, and words and bigrams of its context (document title and
 * heading path), plus the same words and bigrams over the passage's whole
 * document. Postings live in compressed-row typed arrays (a main segment and
 * a small recent one, fed by an append-only buffer of additions); removals
 * mark a slot deleted and the segments are compacted when a fifth is dead.
 */
import { foldText, stripWhitespace } from '../../text/text.ts';
import {
  PolicyTokenizer,
  bigramsOf,
  bigramCode,
  forEachBigram,
  splitAnalysed,
  type QueryTerms,
} from './tokenizer.ts';

export {
  PolicyTokenizer,
  ANALYSIS_VERSION,
  USER_DICT_FILE,
  POLICY_TERMS_PATH,
  isCurrentAnalysis,
  type AnalysisFields,
  type QueryTerms,
  type PolicyTokenizerOptions,
} from './tokenizer.ts';
export { foldText, stripWhitespace } from '../../text/text.ts';

const FIELD_WORDS = 0;
const FIELD_BIGRAMS = 1;
const FIELD_CONTEXT_WORDS = 2;
const FIELD_CONTEXT_BIGRAMS = 3;
const FIELD_COUNT = 4;
/** The passage-text fields (words, bigrams: ids 0 and 1) are also scored over the passage's whole document. */
const DOCUMENT_FIELD_COUNT = 2;

export interface FieldParams {
  weight: number;
  k1: number;
  b: number;
}

/** Weights and BM25 parameters per field: tuned on the NCPQA evaluation (bench/eval.ts). */
export interface LexicalParams {
  words: FieldParams;
  bigrams: FieldParams;
  contextWords: FieldParams;
  contextBigrams: FieldParams;
  /** The passage's whole document as one bag of words / bigrams, added to each of its passages. */
  documentWords: FieldParams;
  documentBigrams: FieldParams;
  /** Terms in more than this share of passages are not scored (their idf is near zero, their postings the longest). */
  maxDocumentFrequency: number;
  /** A document longer than this many times the average is length-normalised as if it were that long. */
  documentLengthCap: number;
}

/**
 * Measured on NCPQA over the whole evaluation corpus (658 questions, ~3,700
 * documents, throwaway 300-character passages): bigrams alone reach Recall@5
 * 0.754; adding jieba words and the title/heading context 0.760; scoring the
 * passage's whole document as well (questions name the city or the notice,
 * which only the document's first lines say) 0.804 at weight 1; with words at
 * half weight, lighter length normalisation and saturating document tf
 * 0.815. Weights from 0.8 to 2 for the document fields all land within
 * ±0.01 of that, so these values are not fitted to the last question.
 * Skipping terms found in more than 5% of passages keeps 0.816 and cuts the
 * CPU per query at 104k passages from 4.2 ms to 1.4 ms (at 3%: 0.799).
 *
 * Those document-field values (weight 1.2, k1 0.8, b 0.75, uncapped) were
 * NCPQA's: short notices of a few passages. Over long documents (a 76-passage
 * work report, a standard, a provincial plan) BM25's length norm divided the
 * report's document score by ~10, so any short notice sharing two words with
 * the question outranked the report's passage that answers it; a question
 * that does not name the place (今年新增多少个…) had nothing else to lift it.
 * Now a document longer than 6× the average is normalised as if it were that
 * long (a short notice's normalisation is unchanged) and the document tf
 * saturates a little sooner (k1 0.5). Held against plain character-bigram
 * BM25 (bench/bigram-reference.ts) with `npm run tune-lexical` on the
 * 22,392-passage evaluation store, R@5 / MRR@10 lexical old → these
 * (reference): long-document questions without the place
 * (bench/longdoc-noplace-*.jsonl) 0.48 / 0.40 → 0.60 / 0.49 (0.60 / 0.51)
 * tuning, 0.46 / 0.35 → 0.60 / 0.44 (0.50 / 0.38) held out;
 * bench/longdoc-tuning 0.68 / 0.51 → 0.72 / 0.57 (0.64 / 0.53); never tuned
 * on, longdoc-heldout2 0.60 / 0.51 → 0.76 / 0.60 (0.56 / 0.46),
 * longdoc-heldout 0.56 / 0.35 → 0.60 / 0.39 (0.44 / 0.31); NCPQA 0.857 /
 * 0.718 → 0.860 / 0.722 (0.796 / 0.681); precedents R@10 one message lower
 * (1.000 → 0.988, the reference's); no other set lower (README, "Measured
 * here: lexical retrieval"). Points measured beside it (all sets
 * at once): caps 3 and 4 (within a question of it on each set); k1 0.3 with
 * weight 0.9 and cap 4 (long-document sets a question or two better, NCPQA
 * 0.865, but the issue-9 example in tests/unit/scope.test.ts ranks a
 * Shandong passage above Beijing's: a document that says 北京 a hundred times
 * must count for more than one that says it once); no length norm at all
 * (b 0: long documents +0.04 more, NCPQA MRR −0.006, held-out answerable
 * below the reference); lighter document weights alone (0.3–0.6: NCPQA R@10
 * −0.01); standard BM25 on the passage bigrams (k1 1.2, b 0.75: every set
 * lower); no context field; no pruning.
 */
export const DEFAULT_LEXICAL_PARAMS: LexicalParams = {
  words: { weight: 0.5, k1: 0.9, b: 0.4 },
  bigrams: { weight: 1, k1: 0.9, b: 0.4 },
  contextWords: { weight: 0.3, k1: 1.2, b: 0.75 },
  contextBigrams: { weight: 0.3, k1: 1.2, b: 0.75 },
  documentWords: { weight: 1.2, k1: 0.5, b: 0.75 },
  documentBigrams: { weight: 1.2, k1: 0.5, b: 0.75 },
  maxDocumentFrequency: 0.05,
  documentLengthCap: 6,
};

/** A query's rarest terms are scored whatever their document frequency. */
const ALWAYS_SCORED_TERMS = 4;
/** Below this many passages every posting list is short: all terms are scored. */
const PRUNE_FROM_PASSAGES = 5000;

export interface LexicalHit {
  key: number;
  score: number;
}

/** Postings in compressed-row form: term t's are docs/tfs[offsets[t] .. offsets[t + 1]). */
interface Segment {
  offsets: Int32Array;
  docs: Int32Array;
  tfs: Uint16Array;
  termCount: number;
}

const EMPTY_SEGMENT: Segment = { offsets: new Int32Array(1), docs: new Int32Array(0), tfs: new Uint16Array(0), termCount: 0 };

/**
 * Non-negative integer → non-negative integer, open addressing with linear
 * probing. Several times faster than a Map on the millions of bigram lookups
 * of loading an index.
 */
class IntMap {
  private keys = new Int32Array(1 << 12).fill(-1);
  private values = new Int32Array(1 << 12);
  private count = 0;

  get(key: number): number {
    const mask = this.keys.length - 1;
    let i = Math.imul(key, 0x9e3779b1) >>> 0 & mask;
    for (;;) {
      const k = this.keys[i]!;
      if (k === key) return this.values[i]!;
      if (k === -1) return -1;
      i = (i + 1) & mask;
    }
  }

  set(key: number, value: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let i = Math.imul(key, 0x9e3779b1) >>> 0 & mask;
    for (;;) {
      const k = this.keys[i]!;
      if (k === key) {
        this.values[i] = value;
        return;
      }
      if (k === -1) {
        this.keys[i] = key;
        this.values[i] = value;
        this.count++;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    this.keys = new Int32Array(keys.length * 2).fill(-1);
    this.values = new Int32Array(keys.length * 2);
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i]! !== -1) this.set(keys[i]!, values[i]!);
  }
}

/** Min-heap on score (ties: the larger slot is "smaller", so earlier slots win). */
class TopK {
  readonly slots: Int32Array;
  readonly scores: Float64Array;
  size = 0;
  constructor(readonly k: number) {
    this.slots = new Int32Array(k);
    this.scores = new Float64Array(k);
  }
  private less(i: number, j: number): boolean {
    const a = this.scores[i]!;
    const b = this.scores[j]!;
    return a < b || (a === b && this.slots[i]! > this.slots[j]!);
  }
  private swap(i: number, j: number): void {
    const s = this.slots[i]!;
    this.slots[i] = this.slots[j]!;
    this.slots[j] = s;
    const c = this.scores[i]!;
    this.scores[i] = this.scores[j]!;
    this.scores[j] = c;
  }
  /** Would a document with this score enter the heap? */
  admits(score: number, slot: number): boolean {
    if (this.size < this.k) return true;
    const min = this.scores[0]!;
    return score > min || (score === min && slot < this.slots[0]!);
  }
  push(slot: number, score: number): void {
    let i: number;
    if (this.size < this.k) {
      i = this.size++;
      this.slots[i] = slot;
      this.scores[i] = score;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.less(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return;
    }
    this.slots[0] = slot;
    this.scores[0] = score;
    i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.less(l, m)) m = l;
      if (r < this.size && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
  /** Best first. */
  sorted(): Array<{ slot: number; score: number }> {
    const out: Array<{ slot: number; score: number }> = [];
    for (let i = 0; i < this.size; i++) out.push({ slot: this.slots[i]!, score: this.scores[i]! });
    return out.sort((a, b) => b.score - a.score || a.slot - b.slot);
  }
}

export class LexicalIndex {
  private params: LexicalParams = DEFAULT_LEXICAL_PARAMS;

  // Term ids per field: spelled terms by text, two-ideograph bigrams by their number (see bigramCode).
  private readonly textIds = Array.from({ length: FIELD_COUNT }, () => new Map<string, number>());
  private readonly codeIds = Array.from({ length: FIELD_COUNT }, () => new IntMap());
  // Scratch for counting one passage's terms.
  private termCounts = new Int32Array(1024);
  private countedTerms: number[] = [];
  // Passages of one document share title and headings: their context terms are counted once.
  private lastContext = '';
  private lastContextTerms: number[] = [];
  private lastContextLengths = [0, 0];
  private termField: number[] = [];

  private main: Segment = EMPTY_SEGMENT;
  private recent: Segment = EMPTY_SEGMENT;
  // Postings added since the last search, as (term, slot, tf) triples: appending to three typed arrays
  // is what makes loading 100k passages cheap; a search folds them into `recent` (or `main`).
  private pendingTerms = new Int32Array(1 << 16);
  private pendingSlots = new Int32Array(1 << 16);
  private pendingTfs = new Uint16Array(1 << 16);
  private pendingCount = 0;
  // Document frequency per term. Removed passages still count until the next
  // compaction (at most a fifth of all): the idf drift is small, and keeping
  // no per-passage term list saves ~3 KB a passage.
  private df: number[] = [];

  private slotKey: number[] = [];
  private slotText: string[] = [];
  private fieldLength: Float32Array[] = [];
  private deleted: Uint8Array = new Uint8Array(0);
  private readonly keySlot = new Map<number, number>();
  private liveCount = 0;
  private deadCount = 0;
  private lengthSum = new Float64Array(FIELD_COUNT);

  // Documents (groups of passages): id by key, live passages and summed field lengths.
  private readonly groupIds = new Map<string, number>();
  private slotGroup = new Int32Array(0);
  private groupPassages: number[] = [];
  private groupLength: number[][] = Array.from({ length: DOCUMENT_FIELD_COUNT }, () => []);
  private liveGroups = 0;
  private groupLengthSum = new Array<number>(DOCUMENT_FIELD_COUNT).fill(0);
  private groupTf = new Float64Array(0);
  private groupScore = new Float64Array(0);

  private scoreBuffer = new Float64Array(0);
  private phraseBuffer = new Uint16Array(0);

  constructor(
    readonly tokenizer: PolicyTokenizer,
    params: Partial<LexicalParams> = {},
  ) {
    this.setParams(params);
  }

  /** Field weights and BM25 parameters apply at query time: changing them needs no rebuild. */
  setParams(params: Partial<LexicalParams>): void {
    this.params = { ...DEFAULT_LEXICAL_PARAMS, ...params };
  }

  /** Live passages. */
  get size(): number {
    return this.liveCount;
  }

  has(key: number): boolean {
    return this.keySlot.has(key);
  }

  /**
   * How many passages hold `word` (folded) among their jieba words; 0 for a
   * word no passage ever held. Removed passages count until the next compaction.
   */
  wordFrequency(word: string): number {
    const id = this.textIds[FIELD_WORDS]!.get(word);
    return id === undefined ? 0 : (this.df[id] ?? 0);
  }

  /** Share of the passages that hold `word` (0..1): how common a word is here. */
  wordShare(word: string): number {
    return this.liveCount > 0 ? Math.min(1, this.wordFrequency(word) / this.liveCount) : 0;
  }

  /** How many passages hold the two characters `bigram` side by side in their text; 0 for a pair no passage held. */
  bigramFrequency(bigram: string): number {
    const id = this.termId(FIELD_BIGRAMS, bigram, false);
    return id < 0 ? 0 : (this.df[id] ?? 0);
  }

  private newTerm(field: number): number {
    const id = this.termField.length;
    this.termField.push(field);
    this.df.push(0);
    if (id >= this.termCounts.length) {
      const counts = new Int32Array(this.termCounts.length * 2);
      counts.set(this.termCounts);
      this.termCounts = counts;
    }
    return id;
  }

  /** The id of a term (a word, or a bigram spelled out) in a field; -1 when unknown and not created. */
  private termId(field: number, term: string, create: boolean): number {
    if (field === FIELD_BIGRAMS || field === FIELD_CONTEXT_BIGRAMS) {
      const code = bigramCode(term);
      if (code >= 0) return this.codeTermId(field, code, create);
    }
    const ids = this.textIds[field]!;
    let id = ids.get(term);
    if (id === undefined && create) ids.set(term, (id = this.newTerm(field)));
    return id ?? -1;
  }

  private codeTermId(field: number, code: number, create: boolean): number {
    const ids = this.codeIds[field]!;
    let id = ids.get(code);
    if (id < 0 && create) ids.set(code, (id = this.newTerm(field)));
    return id;
  }

  private count(id: number): void {
    if (this.termCounts[id] === 0) this.countedTerms.push(id);
    this.termCounts[id] = this.termCounts[id]! + 1;
  }

  /** Counts a space-separated word list into a field; returns how many words. */
  private countWords(field: number, words: string): number {
    if (!words) return 0;
    let n = 0;
    for (const word of words.split(' ')) {
      if (!word) continue;
      this.count(this.termId(field, word, true));
      n++;
    }
    return n;
  }

  /** Counts the bigrams of folded text into a field; returns how many. */
  private countBigrams(field: number, folded: string): number {
    let n = 0;
    forEachBigram(folded, (code, text) => {
      this.count(code >= 0 ? this.codeTermId(field, code, true) : this.termId(field, text, true));
      n++;
    });
    return n;
  }

  private ensureSlotCapacity(slot: number): void {
    if (slot < this.deleted.length) return;
    const capacity = Math.max(1024, this.deleted.length * 2, slot + 1);
    const grow = <T extends Uint8Array | Float32Array>(array: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(array);
      return next;
    };
    this.deleted = grow(this.deleted, (n) => new Uint8Array(n));
    const groups = new Int32Array(capacity).fill(-1);
    groups.set(this.slotGroup);
    this.slotGroup = groups;
    for (let f = 0; f < FIELD_COUNT; f++) {
      this.fieldLength[f] = grow(this.fieldLength[f] ?? new Float32Array(0), (n) => new Float32Array(n));
    }
  }

  /**
   * Adds (or replaces) a passage. `analysed` is `PolicyTokenizer.analyze` output
   * stored with the passage; `text` is the passage text (bigrams and quoted
   * phrases are matched on it).
   */
  add(key: number, analysed: string, text: string): void {
    if (this.keySlot.has(key)) this.remove(key);
    const parts = splitAnalysed(analysed);
    const slot = this.slotKey.length;
    this.ensureSlotCapacity(slot);
    this.slotKey.push(key);
    this.slotText.push(text);
    this.keySlot.set(key, slot);
    this.liveCount++;

    const lengths = [0, 0, 0, 0];
    lengths[FIELD_WORDS] = this.countWords(FIELD_WORDS, parts.words);
    lengths[FIELD_BIGRAMS] = this.countBigrams(FIELD_BIGRAMS, foldText(text));
    const contextKey = `${parts.contextWords}\u001f${parts.context}`;
    if (contextKey !== this.lastContext) {
      const before = this.countedTerms.length;
      this.lastContextLengths = [
        this.countWords(FIELD_CONTEXT_WORDS, parts.contextWords),
        this.countBigrams(FIELD_CONTEXT_BIGRAMS, parts.context),
      ];
      // Context fields have their own term ids, so every id counted from here on is the context's.
      this.lastContextTerms = [];
      for (let i = before; i < this.countedTerms.length; i++) {
        const id = this.countedTerms[i]!;
        this.lastContextTerms.push(id, this.termCounts[id]!);
      }
      this.lastContext = contextKey;
    } else {
      const terms = this.lastContextTerms;
      for (let i = 0; i < terms.length; i += 2) {
        const id = terms[i]!;
        if (this.termCounts[id] === 0) this.countedTerms.push(id);
        this.termCounts[id] = this.termCounts[id]! + terms[i + 1]!;
      }
    }
    lengths[FIELD_CONTEXT_WORDS] = this.lastContextLengths[0]!;
    lengths[FIELD_CONTEXT_BIGRAMS] = this.lastContextLengths[1]!;

    for (let f = 0; f < FIELD_COUNT; f++) {
      this.fieldLength[f]![slot] = lengths[f]!;
      this.lengthSum[f] = this.lengthSum[f]! + lengths[f]!;
    }
    if (parts.group) {
      let group = this.groupIds.get(parts.group);
      if (group === undefined) {
        group = this.groupPassages.length;
        this.groupIds.set(parts.group, group);
        this.groupPassages.push(0);
        for (const lengths of this.groupLength) lengths.push(0);
      }
      this.slotGroup[slot] = group;
      if (this.groupPassages[group]! === 0) this.liveGroups++;
      this.groupPassages[group]! += 1;
      for (let f = 0; f < DOCUMENT_FIELD_COUNT; f++) {
        this.groupLength[f]![group]! += lengths[f]!;
        this.groupLengthSum[f]! += lengths[f]!;
      }
    }

    const counted = this.countedTerms;
    for (let n = 0; n < counted.length; n++) {
      const id = counted[n]!;
      const tf = this.termCounts[id]!;
      this.termCounts[id] = 0;
      this.addPending(id, slot, tf);
      this.df[id] = this.df[id]! + 1;
    }
    counted.length = 0;
  }

  /** Removes a passage; unknown keys are ignored. */
  remove(key: number): boolean {
    const slot = this.keySlot.get(key);
    if (slot === undefined) return false;
    this.keySlot.delete(key);
    this.deleted[slot] = 1;
    this.liveCount--;
    this.deadCount++;
    for (let f = 0; f < FIELD_COUNT; f++) this.lengthSum[f] = this.lengthSum[f]! - this.fieldLength[f]![slot]!;
    const group = this.slotGroup[slot]!;
    if (group >= 0) {
      this.groupPassages[group]! -= 1;
      if (this.groupPassages[group] === 0) this.liveGroups--;
      for (let f = 0; f < DOCUMENT_FIELD_COUNT; f++) {
        this.groupLength[f]![group]! -= this.fieldLength[f]![slot]!;
        this.groupLengthSum[f]! -= this.fieldLength[f]![slot]!;
      }
    }
    this.slotText[slot] = '';
    return true;
  }

  private addPending(term: number, slot: number, tf: number): void {
    if (this.pendingCount === this.pendingTerms.length) {
      const size = this.pendingTerms.length * 2;
      const terms = new Int32Array(size);
      terms.set(this.pendingTerms);
      this.pendingTerms = terms;
      const slots = new Int32Array(size);
      slots.set(this.pendingSlots);
      this.pendingSlots = slots;
      const tfs = new Uint16Array(size);
      tfs.set(this.pendingTfs);
      this.pendingTfs = tfs;
    }
    this.pendingTerms[this.pendingCount] = term;
    this.pendingSlots[this.pendingCount] = slot;
    this.pendingTfs[this.pendingCount] = Math.min(tf, 65535);
    this.pendingCount++;
  }

  /**
   * Before a search: drops deleted slots once they are a fifth of all, and
   * folds pending postings into the small `recent` segment, or into `main`
   * once `recent` would pass an eighth of it, so a trickle of additions
   * between searches costs little and a bulk load is built once.
   */
  private maintain(): void {
    if (this.deadCount >= 32 && this.deadCount * 5 > this.slotKey.length) {
      this.compact();
      return;
    }
    if (this.pendingCount === 0) return;
    const termCount = this.termField.length;
    const recentSize = this.recent.docs.length + this.pendingCount;
    if (recentSize > Math.max(100_000, this.main.docs.length / 8)) {
      this.main = this.buildSegment(termCount, [this.main, this.recent]);
      this.recent = EMPTY_SEGMENT;
    } else {
      this.recent = this.buildSegment(termCount, [this.recent]);
    }
    this.pendingCount = 0;
  }

  /** One segment from segments and the pending postings; with `remap`, slots are renumbered and those mapped to -1 dropped. */
  private buildSegment(termCount: number, parts: Segment[], remap?: Int32Array): Segment {
    const offsets = new Int32Array(termCount + 1);
    for (const part of parts) {
      for (let t = 0; t < part.termCount; t++) {
        if (!remap) offsets[t + 1] = offsets[t + 1]! + part.offsets[t + 1]! - part.offsets[t]!;
        else for (let i = part.offsets[t]!; i < part.offsets[t + 1]!; i++) if (remap[part.docs[i]!]! >= 0) offsets[t + 1]!++;
      }
    }
    const pendingTerms = this.pendingTerms;
    const pendingSlots = this.pendingSlots;
    for (let i = 0; i < this.pendingCount; i++) if (!remap || remap[pendingSlots[i]!]! >= 0) offsets[pendingTerms[i]! + 1]!++;
    for (let t = 0; t < termCount; t++) offsets[t + 1] = offsets[t + 1]! + offsets[t]!;
    const total = offsets[termCount]!;
    const docs = new Int32Array(total);
    const tfs = new Uint16Array(total);
    const at = offsets.slice(0, termCount);
    for (const part of parts) {
      for (let t = 0; t < part.termCount; t++) {
        for (let i = part.offsets[t]!; i < part.offsets[t + 1]!; i++) {
          const slot = remap ? remap[part.docs[i]!]! : part.docs[i]!;
          if (slot < 0) continue;
          const to = at[t]!++;
          docs[to] = slot;
          tfs[to] = part.tfs[i]!;
        }
      }
    }
    for (let i = 0; i < this.pendingCount; i++) {
      const slot = remap ? remap[pendingSlots[i]!]! : pendingSlots[i]!;
      if (slot < 0) continue;
      const t = pendingTerms[i]!;
      const to = at[t]!++;
      docs[to] = slot;
      tfs[to] = this.pendingTfs[i]!;
    }
    return { offsets, docs, tfs, termCount };
  }

  /** Renumbers live slots densely, rebuilds one segment without the dead, and recounts document frequencies. */
  private compact(): void {
    const oldToNew = new Int32Array(this.slotKey.length).fill(-1);
    const slotKey: number[] = [];
    const slotText: string[] = [];
    const fieldLength = Array.from({ length: FIELD_COUNT }, () => new Float32Array(Math.max(1024, this.liveCount)));
    const slotGroup = new Int32Array(fieldLength[0]!.length).fill(-1);
    for (let slot = 0; slot < this.slotKey.length; slot++) {
      if (this.deleted[slot]) continue;
      const next = slotKey.length;
      oldToNew[slot] = next;
      slotKey.push(this.slotKey[slot]!);
      slotText.push(this.slotText[slot]!);
      for (let f = 0; f < FIELD_COUNT; f++) fieldLength[f]![next] = this.fieldLength[f]![slot]!;
      slotGroup[next] = this.slotGroup[slot]!;
      this.keySlot.set(this.slotKey[slot]!, next);
    }
    const termCount = this.termField.length;
    this.main = this.buildSegment(termCount, [this.main, this.recent], oldToNew);
    this.recent = EMPTY_SEGMENT;
    this.pendingCount = 0;
    for (let t = 0; t < termCount; t++) this.df[t] = this.main.offsets[t + 1]! - this.main.offsets[t]!;
    this.slotKey = slotKey;
    this.slotText = slotText;
    this.fieldLength = fieldLength;
    this.slotGroup = slotGroup;
    this.deleted = new Uint8Array(fieldLength[0]!.length);
    this.deadCount = 0;
  }

  private forEachPosting(term: number, visit: (slot: number, tf: number) => void): void {
    for (const segment of [this.main, this.recent]) {
      if (term >= segment.termCount) continue;
      const to = segment.offsets[term + 1]!;
      for (let i = segment.offsets[term]!; i < to; i++) visit(segment.docs[i]!, segment.tfs[i]!);
    }
  }

  /** Term ids (per field) a query scores with, and the ids whose postings must all be present for each phrase. */
  private queryTermIds(terms: QueryTerms, maxDocumentFrequency: number): number[] {
    const ids: number[] = [];
    const push = (field: number, term: string) => {
      const id = this.termId(field, term, false);
      if (id >= 0 && this.df[id]! > 0) ids.push(id);
    };
    for (const word of terms.words) {
      push(FIELD_WORDS, word);
      push(FIELD_CONTEXT_WORDS, word);
    }
    for (const bigram of terms.bigrams) {
      push(FIELD_BIGRAMS, bigram);
      push(FIELD_CONTEXT_BIGRAMS, bigram);
    }
    // Terms in more than maxDocumentFrequency of the passages (疫情 in an epidemic corpus) cost the
    // longest postings and add almost nothing to the ranking; they are skipped, except a query's
    // rarest few (so a query of common words still ranks) and the bigrams of quoted phrases.
    // Small indexes score everything: there, the postings are short and every term's weight matters.
    if (this.liveCount < PRUNE_FROM_PASSAGES) return ids;
    const cutoff = this.liveCount * maxDocumentFrequency;
    if (ids.every((id) => this.df[id]! <= cutoff)) return ids;
    const protectedIds = new Set([...ids].sort((a, b) => this.df[a]! - this.df[b]!).slice(0, ALWAYS_SCORED_TERMS));
    for (const phrase of terms.phrases) {
      for (const bigram of bigramsOf(phrase)) {
        const id = this.termId(FIELD_BIGRAMS, bigram, false);
        if (id >= 0) protectedIds.add(id);
      }
    }
    return ids.filter((id) => this.df[id]! <= cutoff || protectedIds.has(id));
  }

  /**
   * Builds the postings of everything added since the last search. Searching
   * does this by itself; a caller that just loaded many passages calls it so
   * the first query does not pay for it.
   */
  prepare(): void {
    this.maintain();
  }

  /**
   * Ranks passages for a query. `accept` filters keys (metadata filters); it is
   * asked only about passages that would enter the top k. Quoted phrases must
   * occur in the passage text (whitespace-insensitive).
   */
  search(query: string, k: number, accept?: (key: number) => boolean): LexicalHit[] {
    return this.searchTerms(this.tokenizer.queryTerms(query), k, accept);
  }

  /** `params` replaces the index's own for this query only (the evaluation's reference scorer, tuning). */
  searchTerms(terms: QueryTerms, k: number, accept?: (key: number) => boolean, params = this.params): LexicalHit[] {
    if (k <= 0 || this.liveCount === 0) return [];
    // In field-id order; the document level exists for the words and bigrams fields only.
    const fieldParams = [params.words, params.bigrams, params.contextWords, params.contextBigrams];
    const groupParams = [params.documentWords, params.documentBigrams];
    const maxDocumentFrequency = params.maxDocumentFrequency;
    this.maintain();
    const slotCount = this.slotKey.length;
    if (this.scoreBuffer.length < slotCount) this.scoreBuffer = new Float64Array(Math.max(slotCount, this.scoreBuffer.length * 2));
    const scores = this.scoreBuffer;
    const touched: number[] = [];

    const n = this.liveCount;
    const avg = Array.from(this.lengthSum, (sum) => (n > 0 ? Math.max(sum / n, 1) : 1));
    const groupCount = this.groupPassages.length;
    if (this.groupTf.length < groupCount) {
      this.groupTf = new Float64Array(Math.max(groupCount, this.groupTf.length * 2));
      this.groupScore = new Float64Array(this.groupTf.length);
    }
    const groupTf = this.groupTf;
    const groupScore = this.groupScore;
    const slotGroup = this.slotGroup;
    const touchedGroups: number[] = [];
    const termGroups: number[] = [];

    for (const id of this.queryTermIds(terms, maxDocumentFrequency)) {
      const field = this.termField[id]!;
      const { weight, k1, b } = fieldParams[field]!;
      const group = field < DOCUMENT_FIELD_COUNT ? groupParams[field] : undefined;
      const withGroups = group !== undefined && group.weight > 0 && this.liveGroups > 0;
      if (weight === 0 && !withGroups) continue;
      const df = Math.min(this.df[id]!, n);
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const lengths = this.fieldLength[field]!;
      const norm = k1 * (1 - b);
      const perLength = (k1 * b) / avg[field]!;
      const scale = weight * idf * (k1 + 1);
      for (const segment of [this.main, this.recent]) {
        if (id >= segment.termCount) continue;
        this.accumulate(segment.docs, segment.tfs, segment.offsets[id]!, segment.offsets[id + 1]!, scale, norm, perLength, lengths, touched, withGroups, termGroups);
      }

      if (withGroups) {
        // Document frequency and length at document level: counted here, on the fly, so removals need no upkeep.
        const G = this.liveGroups;
        const gdf = termGroups.length;
        const gidf = Math.log(1 + (G - gdf + 0.5) / (gdf + 0.5));
        const gLengths = this.groupLength[field]!;
        const gAvg = Math.max(this.groupLengthSum[field]! / G, 1);
        const gk1 = group.k1;
        const gNorm = gk1 * (1 - group.b);
        const gPerLength = (gk1 * group.b) / gAvg;
        const gLengthCap = gAvg * params.documentLengthCap;
        const gScale = group.weight * gidf * (gk1 + 1);
        for (const g of termGroups) {
          const tf = groupTf[g]!;
          groupTf[g] = 0;
          if (groupScore[g] === 0) touchedGroups.push(g);
          groupScore[g] = groupScore[g]! + (gScale * tf) / (tf + gNorm + gPerLength * Math.min(gLengths[g]!, gLengthCap));
        }
        termGroups.length = 0;
      }
    }
    if (touchedGroups.length > 0) {
      for (const slot of touched) {
        const g = slotGroup[slot]!;
        if (g >= 0) scores[slot] = scores[slot]! + groupScore[g]!;
      }
      for (const g of touchedGroups) groupScore[g] = 0;
    }

    let required: ((slot: number) => boolean) | undefined;
    if (terms.phrases.length > 0) required = this.phraseFilter(terms.phrases, touched);

    const heap = new TopK(k);
    for (const slot of touched) {
      const score = scores[slot]!;
      scores[slot] = 0;
      if (this.deleted[slot] || !heap.admits(score, slot)) continue;
      if (required && !required(slot)) continue;
      if (accept && !accept(this.slotKey[slot]!)) continue;
      heap.push(slot, score);
    }
    return heap.sorted().map(({ slot, score }) => ({ key: this.slotKey[slot]!, score }));
  }

  /** The inner loop of scoring: one term's postings in one segment. */
  private accumulate(
    docs: Int32Array,
    tfs: Uint16Array,
    from: number,
    to: number,
    scale: number,
    norm: number,
    perLength: number,
    lengths: Float32Array,
    touched: number[],
    withGroups: boolean,
    termGroups: number[],
  ): void {
    const scores = this.scoreBuffer;
    const slotGroup = this.slotGroup;
    const deleted = this.deleted;
    const groupTf = this.groupTf;
    for (let i = from; i < to; i++) {
      const slot = docs[i]!;
      const tf = tfs[i]!;
      const current = scores[slot]!;
      if (current === 0) touched.push(slot);
      scores[slot] = current + (scale * tf) / (tf + norm + perLength * lengths[slot]!);
      if (withGroups) {
        const g = slotGroup[slot]!;
        if (g >= 0 && deleted[slot] === 0) {
          if (groupTf[g] === 0) termGroups.push(g);
          groupTf[g] = groupTf[g]! + tf;
        }
      }
    }
  }

  /**
   * Candidates for quoted phrases: a passage must hold every bigram of every
   * phrase (counted through the postings, no text scanned), then the phrase
   * itself in its whitespace-free folded text.
   */
  private phraseFilter(phrases: string[], touched: number[]): (slot: number) => boolean {
    const needed = new Set<number>();
    let missing = false;
    for (const phrase of phrases) {
      for (const bigram of bigramsOf(phrase)) {
        const id = this.termId(FIELD_BIGRAMS, bigram, false);
        if (id < 0 || this.df[id] === 0) missing = true;
        else needed.add(id);
      }
    }
    if (missing) return () => false;
    const slotCount = this.slotKey.length;
    if (this.phraseBuffer.length < slotCount) this.phraseBuffer = new Uint16Array(Math.max(slotCount, this.phraseBuffer.length * 2));
    const counts = this.phraseBuffer;
    for (const id of needed) this.forEachPosting(id, (slot) => (counts[slot] = counts[slot]! + 1));
    const full = needed.size;
    const verified = new Set<number>();
    for (const slot of touched) {
      if (counts[slot] !== full) continue;
      const text = stripWhitespace(foldText(this.slotText[slot]!));
      if (phrases.every((phrase) => text.includes(phrase))) verified.add(slot);
    }
    for (const id of needed) this.forEachPosting(id, (slot) => (counts[slot] = 0));
    return (slot) => verified.has(slot);
  }
}

const WHITESPACE = /\s/;

/**
 * [start, end) ranges of `text` where the query's words (two characters or
 * more, or any Latin/digit run) and quoted phrases occur; overlaps merged.
 * Matching ignores case, width and whitespace inside a phrase.
 */
export function highlightRanges(query: string, text: string, tokenizer: PolicyTokenizer): Array<[number, number]> {
  const terms = tokenizer.queryTerms(query);
  const folded = foldText(text);
  const ranges: Array<[number, number]> = [];
  const needles = terms.words.filter((w) => w.length >= 2 || /[0-9a-z]/.test(w));
  for (const needle of needles) {
    for (let at = folded.indexOf(needle); at >= 0; at = folded.indexOf(needle, at + needle.length)) {
      ranges.push([at, at + needle.length]);
    }
  }
  if (terms.phrases.length > 0) {
    // Phrases may span whitespace (PDF line breaks): match on the stripped text and map back.
    const positions: number[] = [];
    let stripped = '';
    for (let i = 0; i < folded.length; i++) {
      if (WHITESPACE.test(folded[i]!)) continue;
      positions.push(i);
      stripped += folded[i];
    }
    for (const phrase of terms.phrases) {
      for (let at = stripped.indexOf(phrase); at >= 0; at = stripped.indexOf(phrase, at + phrase.length)) {
        ranges.push([positions[at]!, positions[at + phrase.length - 1]! + 1]);
      }
    }
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}
