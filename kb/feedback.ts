/**
 * The export form of readers' verdicts: one JSON line each, oldest first,
 * shared by `npm run kb -- feedback` and GET /api/feedback. A 👍 line with a
 * citation also names its first cited document as `file` (a document id is
 * the corpus-relative path), so it can join an evaluation set as
 * {question, file, answer: citations[0].quote}.
 */
import type { StoredFeedback } from './types.ts';

export function feedbackLine(entry: StoredFeedback): string {
  const first = entry.citations[0];
  return JSON.stringify({
    id: `feedback-${entry.id}`,
    question: entry.question,
    answer: entry.answer,
    citations: entry.citations,
    verdict: entry.verdict,
    ...(entry.correction ? { correction: entry.correction } : {}),
    ...(entry.verdict === 'up' && first ? { file: first.documentId } : {}),
    time: entry.time,
    mode: entry.mode,
    ...(entry.model ? { model: entry.model } : {}),
  });
}
