import { loadConfig } from '../../kb/config.ts';
import { loadEmbedder } from '../../kb/index/vector/embedder.ts';
import type { Embedder } from '../../kb/types.ts';
import { makeTinyModelDir } from '../../bench/random-bert.ts';

/** The generated tiny model: the environment that configures it (for child processes too) and its loaded embedder. */
export async function tinyModel(): Promise<{ env: Record<string, string>; embedder: Embedder }> {
  const { modelDir, modelId } = await makeTinyModelDir();
  const env = { KB_MODEL_DIR: modelDir, KB_MODEL: modelId, KB_MODEL_DOWNLOAD: '0' };
  const load = await loadEmbedder(loadConfig(env));
  if (!load.embedder) throw new Error(`the tiny model did not load: ${load.reason}`);
  return { env, embedder: load.embedder };
}
