/**
 * Binds a route contract (server/contract/) to its Express handler: the
 * request is validated against the contract's schemas before the handler
 * runs, and the handler's return value, typed by the contract's response,
 * is sent as JSON. A handler that answers by itself (a file, a non-200
 * status) returns nothing. The handler runs when the scheduler gives the
 * request its turn (server/scheduler.ts).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { parseRequest, type RouteContract, type RouteInput, type RouteResponse } from './contract/define.ts';
import type { RequestScheduler } from './scheduler.ts';

export type RouteHandler<C extends RouteContract> = (
  input: RouteInput<C>,
  req: Request,
  res: Response,
) => Promise<RouteResponse<C> | void> | RouteResponse<C> | void;

/** `/api/documents/{id}` → `/api/documents/:id`. */
export const expressPath = (contract: RouteContract) => contract.path.replace(/\{(\w+)\}/g, ':$1');

export function handle<C extends RouteContract>(contract: C, handler: RouteHandler<C>, scheduler: RequestScheduler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // Express 5 forwards rejected promises to the error middleware; this keeps sync throws on the same path.
    Promise.resolve()
      .then(async () => {
        const input = {
          params: contract.params ? parseRequest(contract.params, req.params, 'params') : undefined,
          query: contract.query ? parseRequest(contract.query, req.query, 'query') : undefined,
          body: contract.body ? parseRequest(contract.body, req.body, 'body') : undefined,
        } as RouteInput<C>;
        await scheduler.run(contract.work ?? 'light', async () => {
          // A client that gave up (a timeout) costs nothing more; uploads and deletes always finish their write.
          if (!contract.admin && req.socket.destroyed) return;
          const result = await handler(input, req, res);
          if (result !== undefined && !res.headersSent) res.json(result);
        });
      })
      .catch(next);
  };
}
