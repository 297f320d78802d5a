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
import { IngestError } from './errors.ts';

export interface JsonlFieldNames {
  textField: string;
  titleField?: string;
  /** Without it, the 1-based line number is the record id. */
  idField?: string;
}

export interface JsonlRecord {
  /** The id part after `#`. */
  recordId: string;
  text: string;
  title?: string;
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
  const fieldKey = `${fields.textField}|${fields.titleField ?? ''}|${fields.idField ?? ''}`;
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
    const hash = createHash('sha256').update(fieldKey).update('\n').update(line).digest('hex');
    records.push({ recordId, text, line: index + 1, hash, ...(title ? { title } : {}) });
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
