/**
 * One writer per data folder, across processes. The server and every CLI that
 * writes (ingest, remove, reembed) take `write.lock` in the data folder when
 * they open the knowledge base and give it back when they close it. A second
 * writer waits for it or is refused with a message naming the holder; it
 * never writes beside the first, whose in-memory indexes and HNSW file would
 * no longer match the store (issue 13.5: a batch ingest while the server ran
 * left dense search broken for good).
 *
 * The lock is a file created with O_EXCL holding the holder's pid, host,
 * command and start time. A lock whose process is gone (killed, crashed) is
 * stale and taken over; on Linux the process's start time from /proc tells a
 * reused pid from the holder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'write.lock';

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  /** ISO time the lock was taken. */
  since: string;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid from the holder. */
  startTicks?: string;
}

/** The writer lock is held by another live process. */
export class DataFolderLockedError extends Error {
  constructor(readonly holder: LockHolder | undefined, dataDir: string) {
    const who = holder
      ? `进程 ${holder.pid}（${holder.command}，主机 ${holder.host}，自 ${holder.since} 起）`
      : '另一个正在写入锁文件的进程';
    const whoEn = holder ? `process ${holder.pid} (${holder.command} on ${holder.host}, since ${holder.since})` : 'another process that is writing the lock file';
    super(
      `知识库 ${dataDir} 正由${who}写入，同一时间只能有一个写入者。请等它结束（npm run ingest 可加 --wait），或先停止它；服务运行时请通过页面或 API 上传。 ` +
        `The data folder ${dataDir} is being written by ${whoEn}; only one writer at a time. ` +
        `Wait for it (npm run ingest -- --wait), stop it, or upload through the running server.`,
    );
  }
}

function startTicks(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the parenthesised command name (which may hold spaces).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  if (holder.host !== os.hostname()) return true; // cannot tell from here: assume it is
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (holder.startTicks === undefined) return true;
  const now = startTicks(holder.pid);
  return now === undefined || now === holder.startTicks;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
    return Number.isInteger(holder.pid) && typeof holder.host === 'string' ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** A lock file that cannot be read this long after it was written was left half-written by a process that died. */
const UNREADABLE_GRACE_MS = 10_000;
const POLL_MS = 250;

export class DataFolderLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(readonly file: string, private readonly holder: LockHolder) {
    process.once('exit', this.onExit);
  }

  /**
   * Take the data folder's writer lock; with `waitMs` > 0, wait that long for
   * a live holder to let go. Throws DataFolderLockedError naming the holder.
   */
  static async acquire(
    dataDir: string,
    options: { waitMs?: number; command?: string; onWait?: (holder: LockHolder | undefined) => void } = {},
  ): Promise<DataFolderLock> {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, LOCK_FILE);
    const me: LockHolder = {
      pid: process.pid,
      host: os.hostname(),
      command: options.command ?? path.basename(process.argv[1] ?? process.argv0),
      since: new Date().toISOString(),
    };
    const ticks = startTicks(process.pid);
    if (ticks !== undefined) me.startTicks = ticks;
    const deadline = Date.now() + Math.max(0, options.waitMs ?? 0);
    for (let waiting = false; ; waiting = true) {
      const holder = tryTake(file, me);
      if (holder === 'taken') return new DataFolderLock(file, me);
      if (Date.now() >= deadline) throw new DataFolderLockedError(holder, dataDir);
      if (!waiting) options.onWait?.(holder);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Give the lock back (idempotent); only a lock file that is still ours is removed. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const current = readHolder(this.file);
    if (current && current.pid === this.holder.pid && current.since === this.holder.since) fs.rmSync(this.file, { force: true });
  }
}

/** 'taken', or the live holder (undefined: a holder still writing its lock file). */
function tryTake(file: string, me: LockHolder): 'taken' | LockHolder | undefined {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        fs.writeSync(fd, JSON.stringify(me));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      return 'taken';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder === undefined) {
      let age: number;
      try {
        age = Date.now() - fs.statSync(file).mtimeMs;
      } catch {
        continue; // gone meanwhile: try again
      }
      if (age < UNREADABLE_GRACE_MS) return undefined;
    } else if (isAlive(holder)) {
      return holder;
    }
    // The holder is dead (or left an unreadable file long ago): take the lock over.
    fs.rmSync(file, { force: true });
  }
  return readHolder(file);
}
