import { createHash } from 'node:crypto';
import type { Config } from '../kb/config.ts';

/**
 * Bump when a change to extract/clean/structure/metadata/passages would parse
 * an unchanged file differently: the knowledge base keys "unchanged" on the
 * file's hash and this version, so the next ingest re-parses every file
 * instead of keeping what an older parser made of it.
 */
export const PARSER_VERSION = 13;

/** Hash of a file's bytes plus what shapes its passages: a different passage bound or parser version re-parses everything. */
export function contentHash(bytes: Uint8Array | string, config: Pick<Config, 'passageMaxChars'>): string {
  return `${createHash('sha256').update(bytes).digest('hex')}:p${config.passageMaxChars}:v${PARSER_VERSION}`;
}
