/**
 * The pieces every route contract is made of: `defineRoute` (one route's
 * method, path, request and response schemas, examples), `component` (a
 * named, shared schema that OpenAPI lists under components/schemas), and
 * `parseRequest`, which turns the first zod issue into the 400
 * `{error: {field, message}}` clients have always received.
 *
 * Messages: a schema's own message may contain `{field}`, replaced by the
 * dotted path of the failing value (`filters.kind`). Issues without their own
 * message get the generic wording of `genericMessage`.
 */
import { z } from 'zod';
import { badRequest } from '../errors.ts';
import type { RequestWork } from '../scheduler.ts';

export type HttpMethod = 'get' | 'post' | 'delete';

/** A status a route can answer besides 200, with what it means there. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 413 | 415 | 422 | 429;

export interface RouteContract {
  method: HttpMethod;
  /** OpenAPI form, `{id}` for a path parameter. */
  path: string;
  summary: string;
  /** Path parameters. */
  params?: z.ZodType;
  /** Query-string parameters: an object schema (possibly behind a preprocess/transform). */
  query?: z.ZodType;
  /** A JSON request body. */
  body?: z.ZodType;
  /** A non-JSON request body (multipart upload), described as raw OpenAPI. */
  rawRequestBody?: Record<string, unknown>;
  /** The 200 JSON response; absent for routes that send a file. */
  response?: z.ZodType;
  responseDescription: string;
  /** Needs Authorization: Bearer KB_ADMIN_TOKEN. */
  admin?: boolean;
  /**
   * 'heavy': answering costs the event-loop thread tens to hundreds of ms at 100k passages (answer
   * extraction, precedents, similar documents, drafts); such requests let cheap ones go first and run a
   * few at a time (server/scheduler.ts). Default 'light'.
   */
  work?: RequestWork;
  errors: readonly ErrorStatus[];
  /**
   * Requests that succeed against the sample corpus (corpus/), in the order
   * given. They appear in /api/openapi.json, and tests/e2e/contract.test.ts
   * sends each one and checks the response against `response`.
   */
  examples: ReadonlyArray<RouteExample>;
}

export interface RouteExample {
  summary: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** Text files sent as multipart/form-data, each under its form field. */
  files?: ReadonlyArray<{ field: string; name: string; text: string }>;
}

export function defineRoute<const C extends RouteContract>(contract: C): C {
  return contract;
}

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler receives once the request validated. */
export interface RouteInput<C extends RouteContract> {
  params: Output<C['params']>;
  query: Output<C['query']>;
  body: Output<C['body']>;
}

/** The 200 body of a route, as the server sends it and clients read it. */
export type RouteResponse<C extends RouteContract> = Output<C['response']>;

/** Schemas named here are emitted once under components/schemas and referenced by $ref. */
export const components = new Map<string, z.ZodType>();

export function component<S extends z.ZodType>(id: string, schema: S): S {
  if (components.has(id)) throw new Error(`two contract components are named ${id}`);
  components.set(id, schema);
  return schema;
}

const FIELD = /\{field\}/g;

function genericMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return '缺少 {field}';
      if (issue.expected === 'string') return '{field} 必须是字符串';
      if (issue.expected === 'object') return '{field} 必须是对象';
      if (issue.expected === 'array') return '{field} 必须是数组';
      if (issue.expected === 'number' || issue.expected === 'int') return '{field} 必须是数字';
      return `{field} 的类型不对（应为 ${issue.expected}）`;
    case 'invalid_value':
      return `{field} 只能是 ${issue.values.map(String).join('、')} 之一，收到 "${String(issue.input).slice(0, 40)}"`;
    case 'too_big':
      return `{field} 不能超过 ${String(issue.maximum)}`;
    case 'too_small':
      return `{field} 不能小于 ${String(issue.minimum)}`;
    default:
      return '{field} 无效';
  }
}

/** `filters.kind.0` names the list, not its element: `filters.kind`. */
function fieldName(path: ReadonlyArray<PropertyKey>, whole: string): string {
  const names = path.filter((p): p is string => typeof p === 'string');
  return names.length > 0 ? names.join('.') : whole;
}

/**
 * Validate one part of a request (its query, body or path parameters).
 * `whole` names that part when the part itself is wrong (`body`: not a JSON object).
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, whole: string): z.output<S> {
  const result = schema.safeParse(value, { error: genericMessage });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = fieldName(issue.path, whole);
  throw badRequest(field, issue.message.replace(FIELD, field));
}
