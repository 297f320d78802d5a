/** Contracts of the routes about the service itself: health and this API's description. */
import { z } from 'zod';
import { knowledgeBaseHealth } from './components.ts';
import { component, defineRoute } from './define.ts';

export const healthRoute = defineRoute({
  method: 'get',
  path: '/api/health',
  summary: '知识库状态：文档与段落数、模型、检索模式（hybrid 或 lexical-only）、索引状态',
  response: component(
    'Health',
    z.strictObject({
      status: z.literal('ok'),
      ...knowledgeBaseHealth,
      llm: z.strictObject({ configured: z.boolean(), model: z.string().optional() }),
      uploads: z.strictObject({ enabled: z.boolean(), maxBytes: z.number().int(), types: z.array(z.string()) }),
    }),
  ),
  responseDescription: '状态',
  errors: [],
  examples: [{ summary: '状态' }],
});

export const openApiRoute = defineRoute({
  method: 'get',
  path: '/api/openapi.json',
  summary: '本文档',
  response: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }),
  responseDescription: 'OpenAPI 3.1 文档',
  errors: [],
  examples: [{ summary: '本文档' }],
});

export const systemRoutes = [healthRoute, openApiRoute];
