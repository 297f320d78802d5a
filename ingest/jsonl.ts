/**
 * JSONL collections (citizens' messages with replies, service Q&A): each
 * record becomes one document whose id is `<file>#<record id>`. Which fields
 * hold the text, the title and the id is the operator's choice
 * (--jsonl-text/--jsonl-title/--jsonl-id), because every collection names
 * them differently.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { JsonlFields } from '../kb/types.ts';
import { IngestError } from './errors.ts';

/** Which fields of a record make the document (kb/types.ts JsonlFields). */
export type JsonlFieldNames = JsonlFields;

export interface JsonlRecord {
  /** The id part after `#`. */
  recordId: string;
  text: string;
  title?: string;
  message?: string;
  /** 1-based line in the file. */
  line: number;
  /** Hash of the record's line and the field choice: an unchanged record is skipped without parsing. */
  hash: string;
}

export interface JsonlRead {
  records: JsonlRecord[];
  /** Problems that skipped single lines or records (not the whole file). */
  warnings: string[];
  /** Set when the whole file is skipped (no record has the text field): a warning, not a failure. */
  skipReason?: string;
}

function fieldText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Reads a JSONL file; throws IngestError only when the file cannot be read at all. */
export function readJsonlRecords(filePath: string, fields: JsonlFieldNames): JsonlRead {
  let content: string;
  try {
    content = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new IngestError(filePath, `无法读取文件（cannot read file: ${(error as Error).message}）`, error);
  }
  const name = path.basename(filePath);
  const records: JsonlRecord[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  let malformed = 0;
  let withoutText = 0;
  let emptyText = 0;
  let objects = 0;
  const fieldKey = `${fields.textField}|${fields.titleField ?? ''}|${fields.idField ?? ''}${fields.messageField ? `|${fields.messageField}` : ''}`;
  const lines = content.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      malformed++;
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      malformed++;
      return;
    }
    objects++;
    const record = value as Record<string, unknown>;
    const text = fieldText(record[fields.textField]);
    if (text === undefined) {
      withoutText++;
      return;
    }
    if (!text.trim()) {
      emptyText++;
      return;
    }
    const recordId = fields.idField ? fieldText(record[fields.idField])?.trim() : String(index + 1);
    if (!recordId) {
      warnings.push(`${name} 第${index + 1}行缺少 id 字段 ${fields.idField}，已跳过（record without id field）`);
      return;
    }
    if (seen.has(recordId)) {
      warnings.push(`${name} 第${index + 1}行的 id ${recordId} 重复，已跳过（duplicate record id）`);
      return;
    }
    seen.add(recordId);
    const title = fields.titleField ? fieldText(record[fields.titleField])?.trim() : undefined;
    const message = fields.messageField ? fieldText(record[fields.messageField])?.trim() : undefined;
    const hash = createHash('sha256').update(fieldKey).update('\n').update(line).digest('hex');
    records.push({ recordId, text, line: index + 1, hash, ...(title ? { title } : {}), ...(message ? { message } : {}) });
  });
  if (records.length === 0 && objects > 0 && withoutText + emptyText === objects) {
    return {
      records: [],
      warnings,
      skipReason: `${name}：记录中没有文本字段 "${fields.textField}"，整个文件已跳过（records lack the text field; file skipped）`,
    };
  }
  if (malformed > 0) warnings.push(`${name}：${malformed} 行不是 JSON 对象，已跳过（malformed lines skipped）`);
  if (withoutText > 0) warnings.push(`${name}：${withoutText} 条记录没有字段 "${fields.textField}"，已跳过（records without the text field）`);
  if (emptyText > 0) warnings.push(`${name}：${emptyText} 条记录的文本为空，已跳过（records with empty text）`);
  if (records.length === 0 && objects === 0) {
    return { records: [], warnings, skipReason: `${name}：文件中没有 JSON 记录，已跳过（no JSON records; file skipped）` };
  }
  return { records, warnings };
}

/** The command-line options naming a JSONL collection's fields (cli/ingest.ts and bench/eval.ts take the same). */
export const JSONL_OPTIONS = {
  'jsonl-text': { type: 'string' },
  'jsonl-title': { type: 'string' },
  'jsonl-id': { type: 'string' },
  'jsonl-message': { type: 'string' },
} as const;
export const JSONL_USAGE = '[--jsonl-text F [--jsonl-title F] [--jsonl-id F] [--jsonl-message F]]';

type JsonlOptionValues = { [name in keyof typeof JSONL_OPTIONS]?: string | undefined };

/** The field names the options give (undefined without --jsonl-text), or the error naming the option that needs --jsonl-text. */
export function jsonlFieldsFromOptions(values: JsonlOptionValues): { fields?: JsonlFields; error?: string } {
  const text = values['jsonl-text'];
  if (!text) {
    const orphan = (['jsonl-title', 'jsonl-id', 'jsonl-message'] as const).find((name) => values[name]);
    return orphan ? { error: `--${orphan} 需要同时给出 --jsonl-text（the text field）` } : {};
  }
  return {
    fields: {
      textField: text,
      ...(values['jsonl-title'] ? { titleField: values['jsonl-title'] } : {}),
      ...(values['jsonl-id'] ? { idField: values['jsonl-id'] } : {}),
      ...(values['jsonl-message'] ? { messageField: values['jsonl-message'] } : {}),
    },
  };
}
