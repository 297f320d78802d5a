/**
 * Load check (not a test): N concurrent clients for T seconds against
 * /api/search and /api/ask on loopback, each client one request at a time.
 * Reports requests, errors and p50/p95/p99 latency per endpoint.
 *
 *   npx tsx bench/load.ts [--url http://127.0.0.1:3000] [--clients 50] [--seconds 30]
 *
 * Without --url it starts `server/main.ts` itself on a free port, with the
 * environment as given (KB_DATA_DIR picks the knowledge base), and stops it after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { percentile } from './metrics.ts';

const QUESTIONS = [
  '吉林省高校毕业生留吉率是多少？',
  '高校毕业生留在本省就业有哪些支持政策？',
  '城区内涝治理采取了哪些措施？',
  '普惠性民办幼儿园如何认定？',
  '灵活就业人员医保缴费有什么补贴？',
  '农村公路养护资金从哪里来？',
  '既有住宅加装电梯有什么补贴？',
  '社区居家养老服务中心建设',
  '职称评聘结合改革',
  '人才政策3.0版',
  '疫情期间小微企业房租减免',
  '创新创业人才队伍建设',
];

interface Sample {
  endpoint: 'search' | 'ask';
  ms: number;
  ok: boolean;
  error?: string;
}

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server/main.ts')], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('server did not start within 10 minutes')), 600_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      process.stderr.write(text);
      buffered += text;
      const m = /已启动：http:\/\/[^\s/]+:(\d+)\//.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with code ${code} before listening`)));
  });
  child.stdout!.resume();
  return { url, child };
}

async function timed(endpoint: Sample['endpoint'], run: () => Promise<Response>): Promise<Sample> {
  const started = performance.now();
  try {
    const response = await run();
    const body = await response.text();
    const ms = performance.now() - started;
    if (response.status !== 200) return { endpoint, ms, ok: false, error: `HTTP ${response.status}: ${body.slice(0, 120)}` };
    return { endpoint, ms, ok: true };
  } catch (err) {
    return { endpoint, ms: performance.now() - started, ok: false, error: (err as Error).message };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      clients: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '30' },
    },
  });
  const clients = Math.max(1, Number(values.clients));
  const seconds = Math.max(1, Number(values.seconds));
  const server = values.url ? undefined : await startServer();
  const base = (values.url ?? server!.url).replace(/\/+$/, '');

  const health = (await (await fetch(`${base}/api/health`)).json()) as { documents: number; passages: number; mode: string };
  console.log(`target ${base}: ${health.documents} documents, ${health.passages} passages, ${health.mode}; ${clients} clients for ${seconds} s`);

  const samples: Sample[] = [];
  const deadline = performance.now() + seconds * 1000;
  const client = async (id: number) => {
    for (let i = id; performance.now() < deadline; i++) {
      const q = QUESTIONS[i % QUESTIONS.length]!;
      const signal = AbortSignal.timeout(30_000);
      if (i % 2 === 0) {
        samples.push(await timed('search', () => fetch(`${base}/api/search?q=${encodeURIComponent(q)}&k=10`, { signal })));
      } else {
        samples.push(
          await timed('ask', () =>
            fetch(`${base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: q }), signal }),
          ),
        );
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
  const elapsed = (performance.now() - started) / 1000;

  let failed = false;
  for (const endpoint of ['search', 'ask'] as const) {
    const mine = samples.filter((s) => s.endpoint === endpoint);
    const errors = mine.filter((s) => !s.ok);
    const ms = mine.map((s) => s.ms);
    console.log(
      `${endpoint.padEnd(6)} ${mine.length} requests (${(mine.length / elapsed).toFixed(1)}/s), ${errors.length} errors, ` +
        `p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${percentile(ms, 95).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`,
    );
    for (const e of errors.slice(0, 5)) console.log(`  error: ${e.error}`);
    if (errors.length > 0) failed = true;
  }
  console.log(`total ${samples.length} requests in ${elapsed.toFixed(1)} s, ${samples.filter((s) => !s.ok).length} errors`);
  if (server) server.child.kill('SIGTERM');
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(`load check failed: ${(err as Error).message}`);
  process.exit(1);
});
