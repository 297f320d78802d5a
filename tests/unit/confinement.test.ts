/**
 * Issue 13, items 7 and 11: ingest never leaves its root (a symlink to
 * /etc/shadow was indexed and served), reads a folder once however many links
 * lead to it (a loop turned 7 files into 203 documents), and a `#` in a file
 * name does not make its id a JSONL record id.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordDocumentId, recordFileOf, sourceFileOf } from '../../kb/document-id.ts';
import { walkInputs } from '../../ingest/batch.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-confine-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('symlinks', () => {
  const root = path.join(tmp, 'corpus');
  const outside = path.join(tmp, 'secret.txt');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(outside, 'root:$6$hash:19000:0:99999:7:::\n');
  for (let i = 0; i < 7; i++) fs.writeFileSync(path.join(root, i < 4 ? '' : 'sub', `${i}.txt`), `第${i}号文件。\n`);
  fs.symlinkSync(outside, path.join(root, 'shadow.txt'));
  fs.symlinkSync(tmp, path.join(root, 'sub', 'up'));
  fs.symlinkSync(root, path.join(root, 'sub', 'loop'));
  fs.symlinkSync(path.join(root, 'sub', 'loop'), path.join(root, 'loop2'));
  fs.symlinkSync(path.join(root, '0.txt'), path.join(root, 'sub', 'same-as-0.txt'));

  const walk = walkInputs([root], {});

  it('refuses a link that points outside the root, naming it', () => {
    expect(walk.files.map((f) => f.id)).not.toContain('shadow.txt');
    expect(walk.failures).toContainEqual({ file: 'shadow.txt', error: 'shadow.txt：符号链接指向根目录之外，已拒绝（symlink outside the root）' });
    expect(walk.failures.some((f) => f.file === 'sub/up')).toBe(true);
  });

  it('reads a folder once, however many links lead back to it', () => {
    expect(walk.files.map((f) => f.id).sort()).toEqual(['0.txt', '1.txt', '2.txt', '3.txt', 'sub/4.txt', 'sub/5.txt', 'sub/6.txt', 'sub/same-as-0.txt']);
    expect(walk.failures.filter((f) => /symlink loop/.test(f.error)).map((f) => f.file).sort()).toEqual(['loop2', 'sub/loop']);
  });

  it('refuses a file given on the command line that links outside the root', () => {
    const given = walkInputs([path.join(root, 'shadow.txt'), path.join(root, '0.txt')], { root });
    expect(given.files.map((f) => f.id)).toEqual(['0.txt']);
    expect(given.failures[0]!.error).toMatch(/outside the root/);
  });
});

describe('document ids with #', () => {
  it('a record id is a .jsonl path, #, the record id; a # elsewhere is part of a file name', () => {
    expect(recordDocumentId('replies/m.jsonl', '2549')).toBe('replies/m.jsonl#2549');
    expect(recordFileOf('replies/m.jsonl#2549')).toBe('replies/m.jsonl');
    expect(recordFileOf('replies/m.jsonl#a#b')).toBe('replies/m.jsonl');
    expect(recordFileOf('通知/第1号#附件.txt')).toBeUndefined();
    expect(sourceFileOf('通知/第1号#附件.txt')).toBe('通知/第1号#附件.txt');
  });
});
