/**
 * The OCR worker thread: loads the recogniser once and answers one page at a
 * time. Recognition is seconds of CPU per page; in a worker it never holds up
 * the thread that serves queries.
 */
import { parentPort } from 'node:worker_threads';
import { PaddleOcr, type RasterImage } from './paddle.ts';

export type OcrRequest = { id: number; image: RasterImage };
export type OcrResponse =
  | { id: number; boxes: import('./paddle.ts').OcrBox[]; error?: undefined; working?: undefined }
  | { id: number; error: string; working?: undefined }
  /** Still on it: the models are loaded, the page's lines found, a batch of them read. */
  | { id: number; working: true; error?: undefined };

if (!parentPort) throw new Error('ocr/worker.ts runs as a worker thread');
const port = parentPort;
// Two cores are shared with the embedder and the server; one intra-op thread per worker keeps OCR from starving them.
let engine: Promise<PaddleOcr> | undefined;

async function answer(request: OcrRequest): Promise<void> {
  try {
    const working = () => port.postMessage({ id: request.id, working: true } satisfies OcrResponse);
    engine ??= PaddleOcr.load({ threads: 1 });
    const loaded = await engine;
    working();
    const boxes = await loaded.recognise(request.image, working);
    port.postMessage({ id: request.id, boxes } satisfies OcrResponse);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies OcrResponse);
  }
}

port.on('message', (request: OcrRequest) => void answer(request));
