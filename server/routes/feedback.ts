/**
 * Readers' verdicts on answers: anyone may post one (bounded by the
 * contract's size caps, a per-address rate and a total the store keeps), an
 * operator exports them all as JSONL. Verdicts live in their own store table:
 * nothing posted here reaches the documents or the indexes. Contracts in
 * server/contract/feedback.ts.
 */
import express, { type RequestHandler } from 'express';
import type { Config } from '../../kb/config.ts';
import type { KnowledgeBase } from '../../kb/kb.ts';
import { feedbackLine } from '../../kb/feedback.ts';
import type { RouteContract } from '../contract/define.ts';
import { feedbackExportRoute, feedbackRoute } from '../contract/feedback.ts';
import { badRequest, HttpError, noSuchDocument } from '../errors.ts';
import { expressPath, handle, type RouteHandler } from '../handle.ts';
import type { RequestScheduler } from '../scheduler.ts';

export type FeedbackSource = Pick<KnowledgeBase, 'recordFeedback' | 'feedback' | 'documentText' | 'health'>;

const MINUTE_MS = 60_000;
/** Addresses tracked at once; past it the oldest are forgotten (a flood of spoofed-looking addresses must not grow memory). */
const TRACKED_ADDRESSES = 10_000;

/** At most `perMinute` posts per client address in any sliding minute. */
export function rateLimiter(perMinute: number, now: () => number = Date.now): (address: string) => boolean {
  const recent = new Map<string, number[]>();
  return (address) => {
    const t = now();
    const times = (recent.get(address) ?? []).filter((at) => t - at < MINUTE_MS);
    recent.delete(address);
    if (times.length >= perMinute) {
      recent.set(address, times);
      return false;
    }
    times.push(t);
    recent.set(address, times);
    if (recent.size > TRACKED_ADDRESSES) recent.delete(recent.keys().next().value!);
    return true;
  };
}

export function feedbackRoutes(kb: FeedbackSource, config: Config, requireAdmin: RequestHandler, scheduler: RequestScheduler): express.Router {
  const router = express.Router();
  const serve = <C extends RouteContract>(contract: C, handler: RouteHandler<C>) => {
    router[contract.method](expressPath(contract), ...(contract.admin ? [requireAdmin] : []), handle(contract, handler, scheduler));
  };
  const allow = rateLimiter(config.feedbackPerMinute);

  serve(feedbackRoute, ({ body }, req) => {
    if (!allow(req.ip ?? req.socket.remoteAddress ?? '')) {
      throw new HttpError(429, `提交过于频繁：每个地址每分钟最多 ${config.feedbackPerMinute} 条评价，请稍后再试`);
    }
    // Only quotes the knowledge base really holds: the export feeds the evaluation, so a made-up quote must not get in.
    // Each quote's own range is read, never the whole of a long document.
    body.citations.forEach((c, i) => {
      const text = kb.documentText(c.documentId, c);
      if (text === undefined) throw badRequest(`citations.${i}.documentId`, noSuchDocument(c.documentId).message);
      if (c.end < c.start || text !== c.quote) throw badRequest(`citations.${i}.quote`, '引文与原文 [start, end) 不一致');
    });
    const model = kb.health().model?.id;
    const stored = kb.recordFeedback({ ...body, ...(body.mode !== 'lexical' && model ? { model } : {}) });
    if (!stored) throw new HttpError(429, `评价已达存储上限（KB_FEEDBACK_MAX = ${config.feedbackMax}）：请管理员导出（npm run kb -- feedback）后再收集`);
    return { id: stored.id, time: stored.time };
  });

  serve(feedbackExportRoute, (_input, _req, res) => {
    res.type('application/x-ndjson; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="feedback.jsonl"`);
    for (const entry of kb.feedback()) res.write(`${feedbackLine(entry)}\n`);
    res.end();
  });

  return router;
}
