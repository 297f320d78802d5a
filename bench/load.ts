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
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { percentile } from './metrics.ts';
import { docxBomb, docxNestedRuns, htmlNestedDivs, manyLinesText, pdfRepeatedKids, pdfRepeatedObjects } from './hostile-files.ts';

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
      hostile: { type: 'boolean', default: false },
    },
  });
  const clients = Math.max(1, Number(values.clients));
  const seconds = Math.max(1, Number(values.seconds));
  const server = values.url ? undefined : await startServer();
  const base = (values.url ?? server!.url).replace(/\/+$/, '');

  const health = (await (await fetch(`${base}/api/health`)).json()) as { documents: number; passages: number; mode: string };
  console.log(`target ${base}: ${health.documents} documents, ${health.passages} passages, ${health.mode}; ${clients} clients for ${seconds} s`);

  const samples: Sample[] = [];
  let deadline = Infinity;
  const listed = (await (await fetch(`${base}/api/documents?limit=50`)).json()) as { documents: Array<{ id: string }> };
  const documentIds = listed.documents.map((d) => d.id);
  const client = async (id: number) => {
    for (let i = id; performance.now() < deadline; i++) {
      const q = QUESTIONS[i % QUESTIONS.length]!;
      const signal = AbortSignal.timeout(TIMEOUT_MS);
      if (i % 5 === 4 && documentIds.length > 0) {
        const doc = documentIds[i % documentIds.length]!;
        samples.push(await timed('similar', () => fetch(`${base}/api/documents/${encodeURIComponent(doc)}/similar?k=10`, { signal })));
      } else if (i % 2 === 0) {
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
  // Generated before the clock starts: deflating the zip bomb takes this process seconds.
  const files = values.hostile ? hostileFiles() : [];
  const hostileUploads = async () => {
    for (let i = 0; performance.now() < deadline; i++) {
      const [name, bytes] = files[i % files.length]!;
      const form = new FormData();
      form.append('files', new Blob([bytes]), name);
      const sample = await timed('upload', () =>
        fetch(`${base}/api/documents`, { method: 'POST', body: form, headers: { authorization: `Bearer ${process.env.KB_ADMIN_TOKEN ?? ''}` } }));
      // Each of these must be refused (422) with its limit named: that is the expected answer, not an error.
      samples.push(sample.error?.startsWith('HTTP 422') ? { ...sample, ok: true } : sample);
    }
  };
  const started = performance.now();
  deadline = started + seconds * 1000;
  await Promise.all([...Array.from({ length: clients }, (_, id) => client(id)), ...(values.hostile ? [hostileUploads()] : [])]);
  const elapsed = (performance.now() - started) / 1000;

  let failed = false;
  for (const endpoint of ['search', 'ask', 'similar', 'upload'] as const) {
    const mine = samples.filter((s) => s.endpoint === endpoint);
    if (mine.length === 0) continue;
    const errors = mine.filter((s) => !s.ok);
    const timeouts = errors.filter((s) => /timeout|aborted/i.test(s.error ?? ''));
    const ms = mine.map((s) => s.ms);
    console.log(
      `${endpoint.padEnd(7)} ${mine.length} requests (${(mine.length / elapsed).toFixed(1)}/s), ${errors.length - timeouts.length} errors, ${timeouts.length} timeouts (${TIMEOUT_MS / 1000} s), ` +
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
