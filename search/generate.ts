/**
 * Optional generated answers from an OpenAI-compatible /chat/completions
 * endpoint. The model sees only the retrieved passages, numbered, and must
 * cite them as [n]. Its reply is then checked: markers pointing outside the
 * retrieved list are reported, sentences without any marker are flagged —
 * a generated sentence without evidence must look different on the page.
 */
import type { AnswerCitation, SearchHit } from '../kb/types.ts';
import type { DocumentSource } from './answer.ts';
import { splitSentences } from '../kb/text/sentences.ts';

export interface LlmSettings {
  url: string;
  model: string;
  key?: string;
  timeoutMs?: number;
}

export interface GeneratedSentence {
  text: string;
  citations: number[];
  /** No valid [n] marker: nothing retrieved backs this sentence. */
  uncited: boolean;
}

export type GeneratedAnswer =
  | {
      model: string;
      text: string;
      sentences: GeneratedSentence[];
      /** The passages the answer cites, numbered as given to the model; quotes are the stored passage text. */
      citations: AnswerCitation[];
      /** Markers that name no retrieved passage. */
      invalidCitations: number[];
      uncitedSentences: number;
    }
  | { model: string; error: string };

export function llmSettings(config: { llmUrl?: string; llmModel?: string; llmKey?: string }): LlmSettings | undefined {
  if (!config.llmUrl || !config.llmModel) return undefined;
  return { url: config.llmUrl, model: config.llmModel, ...(config.llmKey ? { key: config.llmKey } : {}) };
}

function endpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/chat/completions') ? trimmed : `${trimmed}/chat/completions`;
}

export function buildMessages(question: string, hits: SearchHit[]): ChatMessage[] {
  const passages = hits
    .map((h, i) => {
      const where = [h.citation.title, ...h.citation.headingPath].join(' › ');
      return `[${i + 1}] （${where}）\n${h.text}`;
    })
    .join('\n\n');
  return [
    {
      role: 'system',
      content:
        '你是政策文件与建议提案答复的检索助手。只能依据用户给出的编号资料作答，不得使用资料以外的知识。' +
        '每一句话末尾都必须用 [编号] 标注所依据的资料，例如 [1] 或 [2][3]。资料中没有答案时，直接回答“资料中没有找到答案”。用简体中文简洁作答。',
    },
    { role: 'user', content: `资料：\n\n${passages}\n\n问题：${question}` },
  ];
}

const MARKER = /\[(\d{1,3})\]/g;

/**
 * A model's text cut into sentences, each with the source numbers its [n]
 * markers name (1..sourceCount); markers naming no source are returned apart.
 */
export function citedSentences(text: string, sourceCount: number): { sentences: GeneratedSentence[]; used: Set<number>; invalid: Set<number> } {
  const invalid = new Set<number>();
  const used = new Set<number>();
  // A marker after the sentence end ("…新高。[1]") belongs to the sentence before it: move it inside.
  const spans = splitSentences(text.replace(/([。！？!?]+)((?:\s*\[\d{1,3}\])+)/g, (_m, end: string, markers: string) => `${markers.replace(/\s+/g, '')}${end}`));
  const sentences: GeneratedSentence[] = [];
  for (const span of spans) {
    const markersOnly = span.text.replace(MARKER, '').trim() === '';
    const numbers = [...span.text.matchAll(MARKER)].map((m) => Number(m[1]));
    const valid = numbers.filter((n) => {
      const ok = n >= 1 && n <= sourceCount;
      if (!ok) invalid.add(n);
      else used.add(n);
      return ok;
    });
    if (markersOnly && sentences.length > 0) {
      const prev = sentences[sentences.length - 1]!;
      prev.citations = [...new Set([...prev.citations, ...valid])];
      prev.uncited = prev.citations.length === 0;
      continue;
    }
    sentences.push({ text: span.text, citations: [...new Set(valid)], uncited: valid.length === 0 });
  }
  return { sentences, used, invalid };
}

/** Check a model's reply against the passages it was given. */
export function checkGenerated(
  model: string,
  text: string,
  hits: SearchHit[],
  docs: DocumentSource,
): Extract<GeneratedAnswer, { text: string }> {
  const { sentences, used, invalid } = citedSentences(text, hits.length);
  const citations: AnswerCitation[] = [];
  for (const n of [...used].sort((a, b) => a - b)) {
    const c = hits[n - 1]!.citation;
    const quote = docs.documentText(c.documentId, c);
    if (quote === undefined) continue;
    citations.push({ ...c, n, quote });
  }
  return {
    model,
    text,
    sentences,
    citations,
    invalidCitations: [...invalid].sort((a, b) => a - b),
    uncitedSentences: sentences.filter((s) => s.uncited).length,
  };
}

export type ChatMessage = { role: 'system' | 'user'; content: string };

/** One /chat/completions call: the reply's text, or `{error}` in words a user reads. */
export async function chat(
  settings: LlmSettings,
  messages: ChatMessage[],
  fetchImpl: typeof fetch = fetch,
): Promise<{ content: string } | { error: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), settings.timeoutMs ?? 60_000);
  try {
    const response = await fetchImpl(endpoint(settings.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(settings.key ? { authorization: `Bearer ${settings.key}` } : {}),
      },
      body: JSON.stringify({ model: settings.model, messages, temperature: 0 }),
      signal: controller.signal,
    });
    if (!response.ok) return { error: `大模型接口返回 HTTP ${response.status}` };
    const data = (await response.json()) as { choices?: Array<{ message?: { content?: unknown } }> };
    const content = data.choices?.[0]?.message?.content;
    if (typeof content !== 'string' || !content.trim()) return { error: '大模型接口的回复中没有文本' };
    return { content: content.trim() };
  } catch (err) {
    const reason = controller.signal.aborted ? '请求超时' : (err as Error).message;
    return { error: `调用大模型失败：${reason}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Ask the configured model; failures come back as `{error}` so the extractive answer still reaches the user. */
export async function generateAnswer(
  settings: LlmSettings,
  question: string,
  hits: SearchHit[],
  docs: DocumentSource,
  fetchImpl: typeof fetch = fetch,
): Promise<GeneratedAnswer> {
  if (hits.length === 0) return { model: settings.model, error: '没有检索到资料，未调用大模型' };
  const reply = await chat(settings, buildMessages(question, hits), fetchImpl);
  if ('error' in reply) return { model: settings.model, error: reply.error };
  return checkGenerated(settings.model, reply.content, hits, docs);
}
