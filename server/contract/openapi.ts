/**
 * /api/openapi.json, generated from the route contracts: zod's own JSON Schema
 * output (draft 2020-12, which OpenAPI 3.1 uses as is). Requests are described
 * as a client may send them (io 'input'), responses as the server sends them.
 */
import { z } from 'zod';
import { components, type ErrorStatus, type RouteContract } from './define.ts';

const ERROR_TEXT: Record<ErrorStatus, string> = {
  400: '请求参数错误（error.field 指出字段）',
  401: '缺少或错误的管理员令牌',
  403: '服务器未设置 KB_ADMIN_TOKEN',
  404: '没有这个文档',
  413: '文件或请求体过大',
  415: '不支持的文件类型',
  422: '文件无法入库',
  429: '提交过于频繁，或存储的反馈已达上限',
};

type JsonSchema = Record<string, unknown>;
const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });

/** Every schema of every route, converted in one pass per direction so shared components become $refs. */
function convert(routes: readonly RouteContract[], io: 'input' | 'output', pick: (r: RouteContract) => Array<z.ZodType | undefined>) {
  const registry = z.registry<{ id: string }>();
  const idOf = new Map<z.ZodType, string>();
  for (const [id, schema] of components) {
    registry.add(schema, { id });
    idOf.set(schema, id);
  }
  routes.forEach((route, i) =>
    pick(route).forEach((schema, j) => {
      if (schema && !idOf.has(schema)) {
        const id = `route-${i}-${j}`;
        registry.add(schema, { id });
        idOf.set(schema, id);
      }
    }),
  );
  const { schemas } = z.toJSONSchema(registry, {
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
    // zod states a default only for the output; a client wants to know it when leaving the field out.
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      if (io === 'input' && def.type === 'default') jsonSchema.default = (def as z.core.$ZodDefaultDef).defaultValue;
      // z.number().int() states the safe-integer range, which says nothing to a reader.
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  }) as {
    schemas: Record<string, JsonSchema>;
  };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  /** A route's schema: a $ref when it is a component, else inline. */
  const of = (schema: z.ZodType): JsonSchema => {
    const id = idOf.get(schema)!;
    return components.has(id) ? ref(id) : schemas[id]!;
  };
  const named = Object.fromEntries(Object.entries(schemas).filter(([id]) => components.has(id)));
  return { of, named };
}

function parameters(where: 'path' | 'query', schema: JsonSchema | undefined, example: Record<string, string> | undefined) {
  if (!schema) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    // Lists in a query string are comma-separated (kind=policy,other).
    const list = rest.type === 'array' ? { style: 'form', explode: false } : {};
    return {
      name,
      in: where,
      ...(where === 'path' || required.has(name) ? { required: true } : {}),
      ...(description ? { description } : {}),
      ...list,
      schema: rest,
      ...(example?.[name] !== undefined ? { example: example[name] } : {}),
    };
  });
}

export function buildOpenApiDocument(routes: readonly RouteContract[]) {
  const requests = convert(routes, 'input', (r) => [r.params, r.query, r.body]);
  const responses = convert(routes, 'output', (r) => [r.response]);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const first = route.examples[0];
    const operation = {
      summary: route.summary,
      ...(route.admin ? { security: [{ bearer: [] }] } : {}),
      parameters: [
        ...parameters('path', route.params && requests.of(route.params), first?.params),
        ...parameters('query', route.query && requests.of(route.query), first?.query),
      ],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: requests.of(route.body),
                  examples: Object.fromEntries(
                    route.examples.filter((e) => e.body !== undefined).map((e, i) => [`example${i + 1}`, { summary: e.summary, value: e.body }]),
                  ),
                },
              },
            },
          }
        : {}),
      ...(route.rawRequestBody ? { requestBody: route.rawRequestBody } : {}),
      responses: {
        '200': { description: route.responseDescription, ...(route.response ? { content: json(responses.of(route.response)) } : {}) },
        ...Object.fromEntries(route.errors.map((status) => [String(status), { description: ERROR_TEXT[status], content: json(ref('Error')) }])),
      },
      'x-examples': route.examples,
    };
    (paths[route.path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'PolicyKB API',
      version: '0.1.0',
      description:
        '政策文件与建议提案答复知识库：检索、带引文的抽取式问答、先例答复查找、文档浏览与上传。所有错误均为 `{error: {field?, message}}`。',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { ...requests.named, ...responses.named },
    },
  };
}
