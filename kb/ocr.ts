/**
 * When OCR'd text is too uncertain to quote without a warning. PP-OCRv4's
 * mean character probability is 0.98–1.00 on clean lines of the scanned seed
 * reply; lines under GB/T 15834's red seal, where it misreads characters,
 * fall below 0.9.
 */
export const LOW_OCR_CONFIDENCE = 0.9;

export function isLowConfidence(confidence: number | undefined): boolean {
  return confidence !== undefined && confidence < LOW_OCR_CONFIDENCE;
}
