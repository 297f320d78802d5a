// word-extractor ships no types; this is the part of its API the legacy Word reader uses.
declare module 'word-extractor' {
  interface TextOptions {
    /** true (the default) turns curly quotes into ASCII ones — never wanted for Chinese text. */
    filterUnicode?: boolean;
  }
  class WordDocument {
    getBody(options?: TextOptions): string;
  }
  export default class WordExtractor {
    extract(source: string | Buffer): Promise<WordDocument>;
  }
}
