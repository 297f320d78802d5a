// Worker threads start without the TypeScript loader the main thread has (tsx, or vitest's);
// registering tsx here lets the worker import ./worker.ts the same way everywhere.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
