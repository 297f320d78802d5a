/**
 * Issue 13: an upload's file moves into place, and a delete removes it, in the
 * same turn of the writer as the index change. The race is made to happen
 * deterministically: the knowledge base the app is given runs a second request
 * to completion right after the first request's write returns, which is the
 * moment a request that touches the file outside its write would lose.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KnowledgeBase } from '../../kb/kb.ts';
import { ADMIN_TOKEN, buildTestKb, serve, type RunningServer, type TestKb } from '../support/test-server.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const NAME = '竞争通知.txt';
const ID = `uploads/${NAME}`;
const version = (n: number) => `关于做好2025年高校毕业生就业工作的通知\n\n各区人民政府：\n\n现将第${n}版就业见习补贴有关事项通知如下。\n`;

describe('upload and delete of one name never interleave with each other', () => {
  let test: TestKb;
  let server: RunningServer;
  /** Runs once, right after the next write of the knowledge base returns and before its caller resumes. */
  let afterNextWrite: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    test = await buildTestKb({ shared: false });
    const kb = test.kb;
    const racing = new Proxy(kb, {
      get(target, property) {
        if (property === 'write') {
          return async <T>(work: Parameters<KnowledgeBase['write']>[0]) => {
            const result = (await target.write(work)) as T;
            const hook = afterNextWrite;
            afterNextWrite = undefined;
            await hook?.();
            return result;
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    server = await serve(racing, test.config);
  });
  afterAll(async () => {
    await server?.close();
    test?.close();
  });

  const upload = async (content: string) => {
    const form = new FormData();
    form.append('files', new Blob([content]), NAME);
    return (await fetch(`${server.url}/api/documents`, { method: 'POST', body: form, headers: auth })).status;
  };
  const remove = async () => (await fetch(`${server.url}/api/documents/${encodeURIComponent(ID)}`, { method: 'DELETE', headers: auth })).status;
  const storedFile = () => path.join(test.dataDir, 'uploads', NAME);
  const indexed = () => test.kb.summary(ID) !== undefined;

  it('a delete arriving as an upload is indexed removes the document and the file together', async () => {
    expect(await upload(version(1))).toBe(200);
    let deleteStatus = 0;
    afterNextWrite = async () => {
      deleteStatus = await remove();
    };
    expect(await upload(version(2))).toBe(200);
    expect(deleteStatus).toBe(200);
    expect(indexed()).toBe(false);
    expect(fs.existsSync(storedFile())).toBe(false);
  });

  it('an upload arriving as a delete runs keeps its new file with its document', async () => {
    expect(await upload(version(3))).toBe(200);
    let uploadStatus = 0;
    afterNextWrite = async () => {
      uploadStatus = await upload(version(4));
    };
    expect(await remove()).toBe(200);
    expect(uploadStatus).toBe(200);
    expect(indexed()).toBe(true);
    expect(fs.existsSync(storedFile())).toBe(true);
    expect(await (await fetch(`${server.url}/api/documents/${encodeURIComponent(ID)}/file`)).text()).toBe(version(4));
  });
});
