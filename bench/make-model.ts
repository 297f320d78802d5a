/**
 * `tsx bench/make-model.ts <models dir> [model id]` — writes a random-weight
 * model of bge-small-zh-v1.5's exact shape (4 layers, hidden 512, 8 heads,
 * FFN 2048, vocabulary 21128, 512 positions) under `<models dir>/<model id>`
 * (default id: random/bge-small-zh-shape), with a float32 and a real int8
 * (dynamically quantized MatMul) ONNX file.
 *
 * Its vectors mean nothing: it exists so benchmarks can measure what
 * embedding costs on a machine without the real model (no network). Use it
 * with KB_MODEL_DIR=<models dir> KB_MODEL=random/bge-small-zh-shape.
 */
import path from 'node:path';
import { BGE_SMALL_ZH_SHAPE, writeRandomBert } from './random-bert.ts';

export const BGE_SHAPE_MODEL_ID = 'random/bge-small-zh-shape';

/** Generate the model under `modelDir`; returns the model id to configure. */
export async function makeBgeShapeModel(modelDir: string, modelId = BGE_SHAPE_MODEL_ID): Promise<string> {
  await writeRandomBert(path.join(modelDir, ...modelId.split('/')), BGE_SMALL_ZH_SHAPE);
  return modelId;
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (invokedDirectly) {
  const [dir, modelId] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: tsx bench/make-model.ts <models dir> [model id]');
    process.exit(1);
  }
  const started = performance.now();
  const id = await makeBgeShapeModel(path.resolve(dir), modelId);
  console.log(
    `wrote ${path.join(path.resolve(dir), id)} in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(random weights, bge-small-zh-v1.5 shape: measures cost only). Use KB_MODEL_DIR=${path.resolve(dir)} KB_MODEL=${id}`,
  );
}
