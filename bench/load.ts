/**
 * Load check (not a test): N concurrent clients for T seconds against
 * /api/search, /api/ask and /api/documents/:id/similar on loopback, each
 * client one request at a time. Reports requests per second, errors,
 * timeouts and p50/p95/p99 latency per endpoint. With --hostile, one more
 * client uploads the hostile files of issue 13 (zip bomb, 2^31-page PDF,
 * nested HTML and DOCX, 5M-line text) over and over meanwhile (needs
 * KB_ADMIN_TOKEN), so the numbers show queries served while they are parsed.
 *
 *   npx tsx bench/load.ts [--url http://127.0.0.1:3000] [--clients 50] [--seconds 30] [--hostile]
 *
 * Without --url it starts `server/main.ts` itself on a free port, with the
 * environment as given (KB_DATA_DIR picks the knowledge base), and stops it after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { percentile } from './metrics.ts';
import { docxBomb, docxNestedRuns, htmlNestedDivs, manyLinesText, pdfRepeatedKids, pdfRepeatedObjects } from './hostile-files.ts';
import { peakRssMb } from './bench-report.ts';

/** A request still unanswered after this counts as a timeout (the probe's clients gave up at 20 s). */
const TIMEOUT_MS = 20_000;

function hostileFiles(): Array<[string, Buffer]> {
  return [
    ['炸弹.docx', docxBomb(80)],
    ['页树.pdf', pdfRepeatedKids(31)],
    ['嵌套.html', htmlNestedDivs(100_000)],
    ['嵌套.docx', docxNestedRuns(200_000)],
    ['行.txt', manyLinesText(5_000_000)],
    ['重复.pdf', pdfRepeatedObjects(3000)],
  ];
}

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
  endpoint: 'search' | 'ask' | 'similar' | 'upload';
  /** When the request was sent, ms since the load began (a cluster of timeouts says when the server stalled). */
  sentAt: number;
  ms: number;
  ok: boolean;
  error?: string;
  /** The file an upload sent. */
  file?: string;
}

async function startServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env, PORT: '0' },
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

/** performance.now() when the load began. */
let loadStarted = 0;

interface Reply {
  status: number;
  text(): Promise<string>;
}

/**
 * One request on a client's own keep-alive connection. Each simulated user has its own connection, as
 * a browser does: through one shared fetch pool, the clients' first POSTs (the asks) reached the server
 * only after 20 s of the load while the GETs sent with them were answered in under one (the server's
 * own log of when each request arrived), so every timeout was sent at 0, 20 or 40 s.
 */
function request(agent: http.Agent, url: string, options: { method?: string; headers?: Record<string, string>; body?: string; signal: AbortSignal }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method: options.method ?? 'GET', headers: options.headers, signal: options.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: () => Promise.resolve(Buffer.concat(chunks).toString('utf8')) }));
      res.on('error', reject);
    });
    req.on('error', (error) => reject(options.signal.aborted ? new Error('The operation was aborted due to timeout') : error));
    req.end(options.body);
  });
}

async function timed(endpoint: Sample['endpoint'], run: () => Promise<Reply>): Promise<Sample> {
  const started = performance.now();
  const sentAt = started - loadStarted;
  try {
    const response = await run();
    const body = await response.text();
    const ms = performance.now() - started;
    if (response.status !== 200) return { endpoint, sentAt, ms, ok: false, error: `HTTP ${response.status}: ${body.slice(0, 120)}` };
    return { endpoint, sentAt, ms, ok: true };
  } catch (err) {
    return { endpoint, sentAt, ms: performance.now() - started, ok: false, error: (err as Error).message };
  }
}

export interface LoadOptions {
  /** A running server; without it one is started with `env` added to this process's environment. */
  url?: string;
  env?: Record<string, string>;
  clients: number;
  seconds: number;
  hostile: boolean;
  /** The admin token the hostile uploads send (default: KB_ADMIN_TOKEN of this process). */
  adminToken?: string;
}

export interface EndpointLoad {
  endpoint: Sample['endpoint'];
  requests: number;
  perSecond: number;
  errors: number;
  timeouts: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** CPU seconds of a process so far: its main (event-loop) thread and all its other threads (onnxruntime, libuv, GC). */
export function processCpu(pid: number): { mainSeconds: number; otherSeconds: number } | undefined {
  const ticksPerSecond = 100; // USER_HZ on Linux
  try {
    let mainSeconds = 0;
    let otherSeconds = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      if (Number(tid) === pid) mainSeconds += seconds;
      else otherSeconds += seconds;
    }
    return { mainSeconds, otherSeconds };
  } catch {
    return undefined;
  }
}

/** Runs the load and prints one line per endpoint; the figures are returned too. */
export interface LoadResult {
  endpoints: EndpointLoad[];
  failed: boolean;
  target: string;
  serverCpu?: { wallSeconds: number; mainThreadSeconds: number; otherThreadsSeconds: number };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const server = options.url ? undefined : await startServer(options.env ?? {});
  const base = (options.url ?? server!.url).replace(/\/+$/, '');
  try {
    const cpuBefore = server?.child.pid ? processCpu(server.child.pid) : undefined;
    const started = performance.now();
    const result = await drive(base, options.clients, options.seconds, options.hostile, options.adminToken ?? process.env.KB_ADMIN_TOKEN ?? '');
    const cpuAfter = server?.child.pid ? processCpu(server.child.pid) : undefined;
    if (cpuBefore && cpuAfter) {
      const wall = (performance.now() - started) / 1000;
      const main = cpuAfter.mainSeconds - cpuBefore.mainSeconds;
      const other = cpuAfter.otherSeconds - cpuBefore.otherSeconds;
      const requests = result.endpoints.reduce((n, e) => n + e.requests, 0);
      // The main thread's share says whether the event loop or the cores are the limit (what worker threads would change).
      console.log(
        `server CPU over ${wall.toFixed(1)} s: main (event-loop) thread ${main.toFixed(1)} s (${((100 * main) / wall).toFixed(0)}% of one core), ` +
          `other threads ${other.toFixed(1)} s (${((100 * other) / wall).toFixed(0)}%); ${((1000 * (main + other)) / Math.max(1, requests)).toFixed(0)} CPU-ms per request`,
      );
      result.serverCpu = { wallSeconds: wall, mainThreadSeconds: main, otherThreadsSeconds: other };
    }
    const peak = server?.child.pid ? peakRssMb(server.child.pid) : undefined;
    if (peak !== undefined) console.log(`server peak resident memory ${peak.toFixed(0)} MB`);
    return result;
  } finally {
    if (server) server.child.kill('SIGTERM');
  }
}

async function drive(
  base: string,
  clients: number,
  seconds: number,
  hostile: boolean,
  adminToken: string,
): Promise<LoadResult> {
  const health = (await (await fetch(`${base}/api/health`)).json()) as { documents: number; passages: number; mode: string };
  console.log(`target ${base}: ${health.documents} documents, ${health.passages} passages, ${health.mode}; ${clients} clients for ${seconds} s`);

  const samples: Sample[] = [];
  let deadline = Infinity;
  const listed = (await (await fetch(`${base}/api/documents?limit=50`)).json()) as { documents: Array<{ id: string }> };
  const documentIds = listed.documents.map((d) => d.id);
  const client = async (id: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = id; performance.now() < deadline; i++) {
      const q = QUESTIONS[i % QUESTIONS.length]!;
      const signal = AbortSignal.timeout(TIMEOUT_MS);
      if (i % 5 === 4 && documentIds.length > 0) {
        const doc = documentIds[i % documentIds.length]!;
        samples.push(await timed('similar', () => request(agent, `${base}/api/documents/${encodeURIComponent(doc)}/similar?k=10`, { signal })));
      } else if (i % 2 === 0) {
        samples.push(await timed('search', () => request(agent, `${base}/api/search?q=${encodeURIComponent(q)}&k=10`, { signal })));
      } else {
        samples.push(
          await timed('ask', () =>
            request(agent, `${base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: q }), signal }),
          ),
        );
      }
    }
    agent.destroy();
  };
  // Generated before the clock starts: deflating the zip bomb takes this process seconds.
  const files = hostile ? hostileFiles() : [];
  const hostileUploads = async () => {
    for (let i = 0; performance.now() < deadline; i++) {
      const [name, bytes] = files[i % files.length]!;
      const form = new FormData();
      form.append('files', new Blob([bytes]), name);
      const sample = await timed('upload', () =>
        fetch(`${base}/api/documents`, { method: 'POST', body: form, headers: { authorization: `Bearer ${adminToken}` } }));
      // Each of these must be refused (422) with its limit named: that is the expected answer, not an error.
      samples.push({ ...(sample.error?.startsWith('HTTP 422') ? { ...sample, ok: true } : sample), file: name });
    }
  };
  const started = performance.now();
  loadStarted = started;
  deadline = started + seconds * 1000;
  await Promise.all([...Array.from({ length: clients }, (_, id) => client(id)), ...(hostile ? [hostileUploads()] : [])]);
  const elapsed = (performance.now() - started) / 1000;

  let failed = false;
  const endpoints: EndpointLoad[] = [];
  for (const endpoint of ['search', 'ask', 'similar', 'upload'] as const) {
    const mine = samples.filter((s) => s.endpoint === endpoint);
    if (mine.length === 0) continue;
    const errors = mine.filter((s) => !s.ok);
    const timeouts = errors.filter((s) => /timeout|aborted/i.test(s.error ?? ''));
    const ms = mine.map((s) => s.ms);
    const line: EndpointLoad = {
      endpoint,
      requests: mine.length,
      perSecond: mine.length / elapsed,
      errors: errors.length - timeouts.length,
      timeouts: timeouts.length,
      p50Ms: percentile(ms, 50),
      p95Ms: percentile(ms, 95),
      p99Ms: percentile(ms, 99),
    };
    endpoints.push(line);
    console.log(
      `${endpoint.padEnd(7)} ${line.requests} requests (${line.perSecond.toFixed(1)}/s), ${line.errors} errors, ${line.timeouts} timeouts (${TIMEOUT_MS / 1000} s), ` +
        `p50 ${line.p50Ms.toFixed(1)} ms, p95 ${line.p95Ms.toFixed(1)} ms, p99 ${line.p99Ms.toFixed(1)} ms`,
    );
    for (const e of errors.slice(0, 3)) console.log(`  error: ${e.error}`);
    if (timeouts.length > 0) {
      const sent = timeouts.map((t) => t.sentAt / 1000).sort((a, b) => a - b);
      console.log(`  timed-out requests were sent ${sent[0]!.toFixed(1)}–${sent.at(-1)!.toFixed(1)} s into the load (median ${sent[Math.floor(sent.length / 2)]!.toFixed(1)} s)`);
    }
    if (endpoint === 'upload') {
      const slowest = [...mine].sort((a, b) => b.ms - a.ms).slice(0, 3);
      console.log(`  slowest uploads: ${slowest.map((u) => `${u.file} ${(u.ms / 1000).toFixed(1)} s (sent at ${(u.sentAt / 1000).toFixed(0)} s)`).join(', ')}`);
    }
    if (errors.length > 0) failed = true;
  }
  console.log(`total ${samples.length} requests in ${elapsed.toFixed(1)} s, ${samples.filter((s) => !s.ok).length} errors`);
  return { endpoints, failed, target: `${health.documents} documents, ${health.passages} passages, ${health.mode}` };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      clients: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '30' },
      hostile: { type: 'boolean', default: false },
    },
  });
  const result = await runLoad({
    ...(values.url ? { url: values.url } : {}),
    clients: Math.max(1, Number(values.clients)),
    seconds: Math.max(1, Number(values.seconds)),
    hostile: Boolean(values.hostile),
  });
  process.exitCode = result.failed ? 1 : 0;
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) main().catch((err: unknown) => {
  console.error(`load check failed: ${(err as Error).message}`);
  process.exit(1);
});
