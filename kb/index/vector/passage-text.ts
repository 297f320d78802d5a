/**
 * What a passage's vector is computed from: its document's title and heading path, then its text.
 *
 * A passage of a long report or policy rarely names what it is about ("全年新增…" under
 * 「三、…」 of the Beijing work report never says 北京); its title and headings do. Measured
 * 2026-11-29 with multilingual-e5-small (int8), dense retrieval alone, exact search over all 17,573
 * passages of the evaluation corpus (README, Evaluation), text alone → title · headings ⏎ text:
 * NCPQA (658) Recall@5 0.693 → 0.748, MRR@10 0.545 → 0.594; bench/scoped.jsonl (42) Recall@5
 * 0.738 → 0.810, MRR 0.575 → 0.641; bench/paraphrase.jsonl (42) Recall@5 0.667 → 0.690, Recall@10
 * 0.738 → 0.690 (two questions), MRR 0.528 → 0.517. Averaging both vectors scored a little higher
 * on every set but costs two model calls per passage; one contextual vector was chosen.
 *
 * Hybrid (what users get; `npm run eval -- … --mode all`, HNSW, fusion 5/1/1/100), R@5 / R@10 / MRR@10,
 * text alone → title · headings ⏎ text: NCPQA 0.872 / 0.912 / 0.704 → 0.878 / 0.910 / 0.730; scoped
 * 0.952 / 1.000 / 0.762 → 0.976 / 1.000 / 0.756; precedents 0.829 / 0.854 / 0.768 → 0.963 / 0.963 /
 * 0.878; paraphrase 0.667 / 0.786 / 0.476 → 0.619 / 0.690 / 0.480 (four Beijing-report questions:
 * with the report's title and 「一、2023年工作回顾」 in every one of its passages' vectors, the question
 * finds the report but not which of its passages holds the figure). The mean over the four sets of
 * (R@5 + MRR@10)/2 goes 0.754 → 0.785, so the contextual vector is the default. The precedent gain is
 * partly the benchmark's: a reply's title is the subject of the very message the set queries with.
 * Adding both vectors (text alone + contextual, two model calls per passage) kept paraphrase R@10 at
 * 0.786 with NCPQA 0.871 / 0.702 (exact search): no better overall for twice the embedding.
 *
 * The lexical side already scores title and headings as fields of their own (BM25F), so this is the
 * dense side's equivalent. Changing the form changes every vector: PASSAGE_TEXT_FORM is recorded
 * with the model profile in the store, and a store built with another form is re-embedded.
 *
 * **Text alone in long documents** (at least LONG_DOCUMENT_PASSAGES passages): there the shared title
 * and headings make the passages' vectors alike, so dense retrieval finds the document but not which
 * of its passages holds the figure. Measured 2026-11-29 on the evaluation corpus (22,390 passages, the
 * 3,199 passages of its 32 documents of ≥ 60 passages embedded as text alone; exact search, fused by
 * kb.search), hybrid R@5 / R@10 / MRR@10, one form → by length: paraphrase (42) 0.667 / 0.690 / 0.492 →
 * 0.714 / 0.833 / 0.563; bench/longdoc-heldout.jsonl (25, written before and never tuned on) 0.560 /
 * 0.640 / 0.415 → 0.560 / 0.760 / 0.441; held-out paraphrase (37) 0.622 / 0.676 / 0.474 → 0.622 / 0.676
 * / 0.463; NCPQA (658) 0.877 / 0.903 / 0.732 → 0.878 / 0.901 / 0.734; scoped (42) 0.952 / 1.000 / 0.742
 * → 0.929 / 1.000 / 0.741; held-out answerable (20) 0.800 / 0.850 / 0.699 → 0.800 / 0.850 / 0.659.
 * 60 is the one bound measured (chosen before measuring, not fitted). A store of the previous form
 * re-embeds only its long documents' passages (kb.ts).
 */
export const LONG_DOCUMENT_PASSAGES = 60;
export const PASSAGE_TEXT_FORM = `title · headings\\ntext; text alone in documents of ≥ ${LONG_DOCUMENT_PASSAGES} passages`;
/** The form before, whose vectors are all still right except those of long documents' passages. */
export const PREVIOUS_PASSAGE_TEXT_FORM = 'title · headings\\ntext';

/** `documentPassages`: how many passages the passage's document has (all of them, a record's message included). */
export function passageEmbeddingText(title: string, headingPath: readonly string[], text: string, documentPassages: number): string {
  if (documentPassages >= LONG_DOCUMENT_PASSAGES) return text;
  const context = [title, ...headingPath].map((part) => part.trim()).filter((part) => part.length > 0);
  return context.length > 0 ? `${context.join(' · ')}\n${text}` : text;
}
