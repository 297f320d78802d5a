// The parse worker process starts with plain node (its own heap limit in
// execArgv, no inherited loader), so it registers tsx before importing its
// TypeScript entry; the same holds under vitest and under `npm start`.
import { register } from 'tsx/esm/api';

register();
await import('./parse-worker.ts');
