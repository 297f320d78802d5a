/**
 * Typed calls to a running server, through the route contracts: a test names
 * the route and gets its response typed and checked against the contract's
 * schema (strict: a field the contract lacks fails), or the error body typed
 * as the contract's Error. No `any` on fetched JSON.
 */
import { errorBody, type ErrorBody } from '../../server/contract/components.ts';
import type { RouteContract, RouteExample, RouteResponse } from '../../server/contract/define.ts';

export interface RouteRequest extends Omit<RouteExample, 'summary'> {
  headers?: Record<string, string>;
  /** A multipart body (uploads). */
  form?: FormData;
}

export function routeUrl(contract: RouteContract, request: RouteRequest = {}): string {
  const path = contract.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = request.params?.[name];
    if (value === undefined) throw new Error(`${contract.path}: no value for path parameter ${name}`);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams(request.query ?? {}).toString();
  return query ? `${path}?${query}` : path;
}

export async function send(baseUrl: string, contract: RouteContract, request: RouteRequest = {}): Promise<Response> {
  const headers: Record<string, string> = { ...request.headers };
  let body: RequestInit['body'];
  if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body);
  } else if (request.form) {
    body = request.form;
  }
  return fetch(`${baseUrl}${routeUrl(contract, request)}`, { method: contract.method.toUpperCase(), headers, ...(body !== undefined ? { body } : {}) });
}

/** The route's 200 response, checked against its schema; anything else throws with the status and body. */
export async function callOk<C extends RouteContract>(baseUrl: string, contract: C, request: RouteRequest = {}): Promise<RouteResponse<C>> {
  const response = await send(baseUrl, contract, request);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${contract.method.toUpperCase()} ${contract.path}: ${response.status} ${text.slice(0, 500)}`);
  if (!contract.response) throw new Error(`${contract.path} has no JSON response; use send()`);
  const checked = contract.response.safeParse(JSON.parse(text));
  if (!checked.success) throw new Error(`${contract.path}: the response breaks the contract: ${checked.error.message}`);
  return checked.data as RouteResponse<C>;
}

export interface ErrorReply {
  status: number;
  headers: Headers;
  text: string;
  /** The error body, checked against the contract's Error schema; undefined when the body is not JSON. */
  body: ErrorBody | undefined;
}

/** Any response read as an error: for requests that are meant to fail. */
export async function readError(response: Response): Promise<ErrorReply> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: response.status, headers: response.headers, text, body: undefined };
  }
  // Some error bodies carry more than the error (an upload's per-file results).
  const checked = errorBody.loose().safeParse(json);
  return { status: response.status, headers: response.headers, text, body: checked.success ? checked.data : undefined };
}
