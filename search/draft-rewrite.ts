/**
 * The optional smoothing of a draft by an OpenAI-compatible model (KB_LLM_*):
 * per section, the model sees the suggestion and its numbered precedent
 * paragraphs and writes one paragraph in the unit's voice, citing [n] after
 * every sentence. Sentences without a valid marker are flagged, and the
 * precedent paragraphs stay in the draft below the rewrite, so every claim
 * can still be checked against its source. Without KB_LLM_URL the draft is
 * purely extractive.
 */
import type { Draft, DraftSection } from './draft.ts';
import { chat, citedSentences, type ChatMessage, type LlmSettings } from './generate.ts';

export function rewriteMessages(section: DraftSection): ChatMessage[] {
  const sources = section.quotes.map((q, i) => `[${i + 1}] （${q.source}）\n${q.text}`).join('\n\n');
  return [
    {
      role: 'system',
      content:
        '你是政府部门答复建议提案的起草助手。根据用户给出的编号先例段落，写一段答复本条建议的文字：以“我们”的口吻，先说已做的工作，再说下一步打算；' +
        '只能使用先例中的事实和数字，不得编造；每一句末尾都必须用 [编号] 标注依据的先例，例如 [1] 或 [1][2]。只输出这一段文字。',
    },
    { role: 'user', content: `建议：${section.suggestion.text}\n\n先例段落：\n\n${sources}` },
  ];
}

/** Rewrite each section that has precedents; a section the model fails on keeps only its quotes, with the error. */
export async function rewriteDraft(settings: LlmSettings, draft: Draft, fetchImpl: typeof fetch = fetch): Promise<Draft> {
  const sections: DraftSection[] = [];
  // Sequential: one model endpoint, shared with every other request.
  for (const section of draft.sections) {
    if (section.quotes.length === 0) {
      sections.push(section);
      continue;
    }
    const reply = await chat(settings, rewriteMessages(section), fetchImpl);
    if ('error' in reply) {
      sections.push({ ...section, rewriteError: reply.error });
      continue;
    }
    const { sentences, invalid } = citedSentences(reply.content, section.quotes.length);
    sections.push({ ...section, rewrite: { model: settings.model, sentences, invalidCitations: [...invalid].sort((a, b) => a - b) } });
  }
  return { ...draft, sections };
}
