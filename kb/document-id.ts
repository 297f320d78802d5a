/**
 * Document ids: a file's path relative to its root (`policies/第1号#附件.txt`),
 * or, for one record of a JSONL file, `<file>#<record id>`
 * (`replies/m.jsonl#2549`). A `#` alone does not make a record id — file
 * names contain it — only a `#` right after a `.jsonl` path does.
 */
const RECORD_ID = /^(.+?\.jsonl)#/i;

export function recordDocumentId(jsonlFile: string, recordId: string): string {
  return `${jsonlFile}#${recordId}`;
}

/** The JSONL file a record id belongs to, or undefined for a file's own id. */
export function recordFileOf(documentId: string): string | undefined {
  return RECORD_ID.exec(documentId)?.[1];
}

/** The path of the file a document came from: the id itself, or its JSONL file. */
export function sourceFileOf(documentId: string): string {
  return recordFileOf(documentId) ?? documentId;
}
