/**
 * The order in which the server does its requests' work: one request started per turn of the event
 * loop, cheap ones (search, a document page) before heavy ones (ask, similar, precedents, drafts), and
 * at most `heavyLimit` heavy requests under way at once.
 *
 * Why one per turn: Node 20's libuv accepts one new connection per turn of the loop (libuv#3696, "don't
 * accept() connections in a loop"), and a turn used to do the work of every request whose bytes had
 * arrived. Under the load check (50 clients, 100k passages) a turn lasted ~1.8 s, so a connection
 * waiting behind 25 others waited ~45 s to be accepted: a third of the clients timed out at 20 s from
 * the start, again after each reconnect (issue 13; `ss` showed ~29 in the accept queue). Started one
 * per turn, a waiting connection is accepted within a request's work of the previous one.
 * Why cheap first: all work shares the event-loop thread; a search should wait for at most the heavy
 * request under way, not for every ask and similar queued before it.
 */
export type RequestWork = 'light' | 'heavy';

interface Waiting {
  work: RequestWork;
  start: () => void;
}

export class RequestScheduler {
  private readonly waiting: Record<RequestWork, Waiting[]> = { light: [], heavy: [] };
  private heavyUnderWay = 0;
  private turnPending = false;

  constructor(private readonly heavyLimit: number) {}

  /** Runs `job` once its turn comes; resolves or rejects with it. */
  async run<T>(work: RequestWork, job: () => Promise<T> | T): Promise<T> {
    await new Promise<void>((start) => {
      this.waiting[work].push({ work, start });
      this.scheduleTurn();
    });
    try {
      return await job();
    } finally {
      if (work === 'heavy') {
        this.heavyUnderWay--;
        this.scheduleTurn();
      }
    }
  }

  /** Requests waiting for their turn, by kind. */
  get queued(): Record<RequestWork, number> {
    return { light: this.waiting.light.length, heavy: this.waiting.heavy.length };
  }

  private next(): Waiting | undefined {
    if (this.waiting.light.length > 0) return this.waiting.light.shift();
    if (this.heavyUnderWay < this.heavyLimit) return this.waiting.heavy.shift();
    return undefined;
  }

  private startable(): boolean {
    return this.waiting.light.length > 0 || (this.waiting.heavy.length > 0 && this.heavyUnderWay < this.heavyLimit);
  }

  /** setImmediate: the loop polls (accepts, reads requests) before it runs, so each turn starts one request. */
  private scheduleTurn(): void {
    if (this.turnPending || !this.startable()) return;
    this.turnPending = true;
    setImmediate(() => {
      this.turnPending = false;
      const chosen = this.next();
      if (chosen?.work === 'heavy') this.heavyUnderWay++;
      chosen?.start();
      this.scheduleTurn();
    });
  }
}
