import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

export interface ModelMirror {
  /** Base URL for KB_MODEL_MIRROR (ends in /). */
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback stand-in for the Hugging Face hub (or hf-mirror.com): serves the
 * files of `modelId` from the models folder `source` under the hub's URL
 * layout, <model>/resolve/main/<file>. `holdOnnx` delays the ONNX files until
 * it resolves, so a test can watch what happens while a model is on its way.
 */
export async function serveModelMirror(source: string, modelId: string, holdOnnx: Promise<void> = Promise.resolve()): Promise<ModelMirror> {
  const server = http.createServer((request, response) => {
    const match = /^\/(.+)\/resolve\/main\/(.+)$/.exec(request.url ?? '');
    const file = match && match[1] === modelId ? path.join(source, match[1], match[2]!) : '';
    if (!file || !fs.existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    void (file.endsWith('.onnx') ? holdOnnx : Promise.resolve()).then(() => {
      response.writeHead(200, { 'Content-Length': fs.statSync(file).size });
      fs.createReadStream(file).pipe(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
