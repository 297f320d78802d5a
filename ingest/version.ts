/**
 * Bump when a change to extract/clean/structure/metadata/passages would parse
 * an unchanged file differently: the knowledge base keys "unchanged" on the
 * file's hash and this version, so the next ingest re-parses every file
 * instead of keeping what an older parser made of it.
 */
export const PARSER_VERSION = 5;
