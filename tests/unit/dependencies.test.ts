/**
 * The layers, checked on every run: dependencies go one way
 * (ingest → kb ← search ← server/cli; bench and tests on top), and no module
 * imports itself through others. Reads the sources' import statements
 * (static, re-exports and dynamic import()), type-only ones included: a
 * type that crosses a layer the wrong way is a dependency all the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAYERS = ['kb', 'ingest', 'search', 'server', 'cli', 'bench', 'tests'] as const;
type Layer = (typeof LAYERS)[number];

/** What each layer may import besides itself. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  kb: [],
  ingest: ['kb'],
  search: ['kb'],
  server: ['kb', 'ingest', 'search'],
  cli: ['kb', 'ingest', 'search'],
  bench: ['kb', 'ingest', 'search', 'server', 'cli'],
  tests: ['kb', 'ingest', 'search', 'server', 'cli', 'bench'],
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:type\s)?[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Project modules each module imports (relative specifiers resolved to files). */
export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec || !spec.startsWith('.')) continue;
      targets.push(path.resolve(path.dirname(file), spec));
    }
    graph.set(file, targets);
  }
  return graph;
}

const layerOf = (file: string): Layer | undefined => LAYERS.find((layer) => path.relative(ROOT, file).split(path.sep)[0] === layer);
const rel = (file: string) => path.relative(ROOT, file);

/** Strongly connected components of more than one module, or a module importing itself: the cycles. */
export function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.map(rel).sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const graph = importGraph(LAYERS.flatMap((layer) => sources(path.join(ROOT, layer))));

describe('dependencies', () => {
  it('every import resolves to a file of the project', () => {
    const missing = [...graph].flatMap(([file, targets]) => targets.filter((t) => !fs.existsSync(t)).map((t) => `${rel(file)} → ${rel(t)}`));
    expect(missing).toEqual([]);
  });

  it('run one way between the layers: ingest → kb ← search ← server/cli', () => {
    const against: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      if (!from) continue;
      for (const target of targets) {
        const to = layerOf(target);
        if (to && to !== from && !ALLOWED[from].includes(to)) against.push(`${rel(file)} → ${rel(target)} (${from} may not import ${to})`);
      }
    }
    expect(against).toEqual([]);
  });

  it('form no cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('the check itself sees a cycle and a wrong-way import', () => {
    const a = path.join(ROOT, 'kb', 'a.ts');
    const b = path.join(ROOT, 'kb', 'b.ts');
    expect(cycles(new Map([[a, [b]], [b, [a]]]))).toEqual([['kb/a.ts', 'kb/b.ts']]);
    expect(ALLOWED.kb.includes('search')).toBe(false);
    expect([...'import type { X } from "../search/retrieve.ts";'.matchAll(IMPORT)].map((m) => m[1])).toEqual(['../search/retrieve.ts']);
    expect([...'const m = await import(\'../server/app.ts\');'.matchAll(IMPORT)].map((m) => m[3])).toEqual(['../server/app.ts']);
  });
});
