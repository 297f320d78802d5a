/**
 * The server's request order (server/scheduler.ts): cheap requests before heavy ones queued earlier,
 * and no more heavy ones under way than the limit. That it starts one request per event-loop turn is
 * what tests/e2e/accept-under-load.test.ts measures over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { RequestScheduler } from '../../server/scheduler.ts';

describe('RequestScheduler', () => {
  it('starts waiting light requests before heavy ones that arrived earlier', async () => {
    const scheduler = new RequestScheduler(2);
    const started: string[] = [];
    const job = (name: string) => () => {
      started.push(name);
      return name;
    };
    const results = await Promise.all([
      scheduler.run('heavy', job('ask 1')),
      scheduler.run('light', job('search 1')),
      scheduler.run('heavy', job('ask 2')),
      scheduler.run('light', job('search 2')),
      scheduler.run('heavy', job('similar')),
    ]);
    expect(started).toEqual(['search 1', 'search 2', 'ask 1', 'ask 2', 'similar']);
    expect(results).toEqual(['ask 1', 'search 1', 'ask 2', 'search 2', 'similar']);
  });

  it('keeps at most the limit of heavy requests under way, and starts the next when one ends', async () => {
    const scheduler = new RequestScheduler(2);
    const finish: Array<() => void> = [];
    let underWay = 0;
    let most = 0;
    const heavy = () =>
      scheduler.run('heavy', async () => {
        most = Math.max(most, ++underWay);
        await new Promise<void>((resolve) => finish.push(resolve));
        underWay--;
      });
    const all = Promise.all([heavy(), heavy(), heavy(), heavy()]);
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    while (finish.length < 2) await turn();
    for (let i = 0; i < 5; i++) await turn();
    expect(finish).toHaveLength(2);
    expect(scheduler.queued).toEqual({ light: 0, heavy: 2 });
    // A light request is not held back by the heavy ones waiting for their slot.
    await expect(scheduler.run('light', () => 'searched')).resolves.toBe('searched');
    while (finish.length > 0) {
      finish.shift()!();
      while (finish.length === 0 && scheduler.queued.heavy > 0) await turn();
    }
    await all;
    expect(most).toBe(2);
  });

  it('passes a failing request’s error to its caller and goes on with the next', async () => {
    const scheduler = new RequestScheduler(1);
    const failed = scheduler.run('heavy', () => {
      throw new Error('retrieval failed');
    });
    const next = scheduler.run('heavy', () => 'answered');
    await expect(failed).rejects.toThrow('retrieval failed');
    await expect(next).resolves.toBe('answered');
  });
});
