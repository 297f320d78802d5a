/**
 * The API contract against the running app: the app serves exactly the
 * contract's routes, /api/openapi.json is generated from them, and every
 * route answers each of its documented examples with a response its schema
 * accepts.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { openApiDocument, ROUTES } from '../../server/contract/index.ts';
import type { RouteContract, RouteExample } from '../../server/contract/define.ts';
import { openApiRoute } from '../../server/contract/system.ts';
import { callOk, send, type RouteRequest } from '../support/api-client.ts';
import { ADMIN_TOKEN, servedTestKb } from '../support/test-server.ts';

const live = servedTestKb();

function requestFor(route: RouteContract, example: RouteExample): RouteRequest {
  const { summary: _summary, files, ...request } = example;
  const headers = route.admin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : undefined;
  if (files) {
    const form = new FormData();
    for (const file of files) form.append(file.field, new Blob([file.text]), file.name);
    return { ...request, form, ...(headers ? { headers } : {}) };
  }
  return { ...request, ...(headers ? { headers } : {}) };
}

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
/** Every route the app registers, feature routers (server/routes/) included. */
const servedRoutes = (stack: Layer[]): string[] =>
  stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods).map((m) => `${m} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`)
      : Array.isArray(layer.handle?.stack)
        ? servedRoutes(layer.handle.stack)
        : [],
  );

describe('the contract', () => {
  it('is what the app serves: the same routes, and the same OpenAPI document', async () => {
    const app = createApp(live.t.kb, live.t.config);
    const served = servedRoutes(app.router.stack as Layer[]);
    const declared = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(served)).toEqual(new Set(declared));
    expect(served).toHaveLength(declared.length);
    const document = await callOk(live.srv.url, openApiRoute);
    expect(document).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
    expect(document.openapi).toBe('3.1.0');
  });

  it('gives every route at least one example, and every component a name that is referenced', () => {
    for (const route of ROUTES) expect(route.examples.length, route.path).toBeGreaterThan(0);
    const text = JSON.stringify(openApiDocument.paths) + JSON.stringify(openApiDocument.components.schemas);
    for (const name of Object.keys(openApiDocument.components.schemas)) expect(text, name).toContain(`#/components/schemas/${name}"`);
  });

  // In ROUTES order: the upload example adds the document the delete example removes.
  for (const route of ROUTES) {
    for (const example of route.examples) {
      it(`${route.method.toUpperCase()} ${route.path}: ${example.summary}`, async () => {
        const request = requestFor(route, example);
        if (!route.response) {
          const response = await send(live.srv.url, route, request);
          expect(response.status).toBe(200);
          expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
          return;
        }
        const body = await callOk(live.srv.url, route, request);
        expect(body).toBeTruthy();
      });
    }
  }

  it('examples in the served document are the ones the test sent', async () => {
    const response = await send(live.srv.url, openApiRoute);
    const document = (await response.json()) as typeof openApiDocument;
    for (const route of ROUTES) {
      const operation = (document.paths[route.path] as Record<string, { 'x-examples': RouteExample[] }>)[route.method]!;
      expect(operation['x-examples']).toEqual(JSON.parse(JSON.stringify(route.examples)));
    }
  });
});
