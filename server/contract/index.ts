/**
 * The HTTP API's one contract. Each route is declared once, in a module per
 * route group, with `defineRoute` (define.ts): method, path, the zod schemas
 * of its path parameters, query, JSON body and 200 response, its error
 * statuses and request examples that work on the sample corpus. From that
 * declaration come the request validation (400 naming the field), the
 * TypeScript types of the handler's input and of its response (`RouteInput`,
 * `RouteResponse`, used by the server and the tests), and /api/openapi.json.
 *
 * To add a route:
 *   1. declare it in server/contract/<group>.ts (reuse fields.ts for k, mode,
 *      filters, text limits; components.ts for shared response shapes; name a
 *      schema with `component` to list it once under components/schemas);
 *   2. add the group's list to ROUTES below;
 *   3. serve it in the app with `handle(contract, handler)` (server/handle.ts),
 *      registered at `expressPath(contract)`.
 * tests/e2e/contract.test.ts then checks that the app serves exactly these
 * routes and sends every example, checking each response against its schema.
 */
import type { RouteContract } from './define.ts';
import { documentRoutes } from './documents.ts';
import { feedbackRoutes } from './feedback.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { precedentRoutes } from './precedents.ts';
import { searchRoutes } from './search.ts';
import { systemRoutes } from './system.ts';

export const ROUTES: readonly RouteContract[] = [...systemRoutes, ...searchRoutes, ...precedentRoutes, ...documentRoutes, ...feedbackRoutes];

export const openApiDocument = buildOpenApiDocument(ROUTES);

export { LIMITS } from './fields.ts';
export type { RouteContract, RouteInput, RouteResponse } from './define.ts';
