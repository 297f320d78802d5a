/**
 * Retrieval metrics over ranked relevance lists. Every evaluated query is one
 * list of booleans, best first: `true` where the retrieved item is relevant.
 *
 * Recall@k here is the share of queries with at least one relevant item in
 * the top k (hit rate, "success@k"): NCPQA and precedent questions each have
 * one answer, and several passages may hold it (overlapping or repeated
 * text), so counting each query once is what a user experiences. MRR@k is the
 * mean of 1/rank of the first relevant item, 0 when none is in the top k.
 */

export interface RankedOutcome {
  id: string;
  /** Optional grouping (a question's `kind`) for the per-kind breakdown. */
  kind?: string;
  /** Relevance of the retrieved items, best first. */
  relevance: boolean[];
}

export interface MetricSummary {
  n: number;
  /** Recall@k for each k asked for. */
  recall: Record<number, number>;
  /** MRR at `mrrK`. */
  mrr: number;
  mrrK: number;
}

/** 1-based rank of the first relevant item, or 0 when none was retrieved. */
export function firstRelevantRank(relevance: readonly boolean[]): number {
  const index = relevance.indexOf(true);
  return index < 0 ? 0 : index + 1;
}

export function recallAt(k: number, outcomes: readonly RankedOutcome[]): number {
  if (outcomes.length === 0) return 0;
  let hits = 0;
  for (const outcome of outcomes) {
    const rank = firstRelevantRank(outcome.relevance);
    if (rank > 0 && rank <= k) hits++;
  }
  return hits / outcomes.length;
}

export function mrrAt(k: number, outcomes: readonly RankedOutcome[]): number {
  if (outcomes.length === 0) return 0;
  let sum = 0;
  for (const outcome of outcomes) {
    const rank = firstRelevantRank(outcome.relevance);
    if (rank > 0 && rank <= k) sum += 1 / rank;
  }
  return sum / outcomes.length;
}

export function summarize(outcomes: readonly RankedOutcome[], ks: readonly number[] = [1, 5, 10], mrrK = 10): MetricSummary {
  const recall: Record<number, number> = {};
  for (const k of ks) recall[k] = recallAt(k, outcomes);
  return { n: outcomes.length, recall, mrr: mrrAt(mrrK, outcomes), mrrK };
}

/** One summary per kind, in order of first appearance; outcomes without a kind are left out. */
export function summarizeByKind(
  outcomes: readonly RankedOutcome[],
  ks: readonly number[] = [1, 5, 10],
  mrrK = 10,
): Map<string, MetricSummary> {
  const groups = new Map<string, RankedOutcome[]>();
  for (const outcome of outcomes) {
    if (outcome.kind === undefined) continue;
    let group = groups.get(outcome.kind);
    if (!group) groups.set(outcome.kind, (group = []));
    group.push(outcome);
  }
  const out = new Map<string, MetricSummary>();
  for (const [kind, group] of groups) out.set(kind, summarize(group, ks, mrrK));
  return out;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The evaluation's closing line, exactly: `recall@1=0.xxx recall@5=0.xxx recall@10=0.xxx mrr@10=0.xxx n=N mode=MODE`. */
export function formatSummaryLine(summary: MetricSummary, mode: string): string {
  const r = (k: number) => (summary.recall[k] ?? 0).toFixed(3);
  return `recall@1=${r(1)} recall@5=${r(5)} recall@10=${r(10)} mrr@${summary.mrrK}=${summary.mrr.toFixed(3)} n=${summary.n} mode=${mode}`;
}
