import { spawn } from 'node:child_process';

export interface StartedServer {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** `npm start` (server/main.ts) in a child process, resolved once it says where it listens. */
export function npmStart(env: Record<string, string>): Promise<StartedServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env: { ...process.env, ...env, PORT: '0' } });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<StartedServer>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const listening = /已启动：(http:\/\/[^\s/]+:\d+)\//.exec(output);
      if (listening) {
        resolve({
          url: listening[1]!.replace('localhost', '127.0.0.1'),
          output: () => output,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`server/main.ts exited before listening:\n${output}`)));
  });
}
