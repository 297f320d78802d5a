/**
 * The HNSW file on disk and the proof of what it holds. The file is derived
 * data: it is used only when its sidecar (vectors.json) proves, byte for
 * byte, that it is the file that was saved, and says exactly which store
 * state it reflects — which store (its storeId), which vectors (model,
 * dimension, re-embedding epoch) and which passages (a digest of its live
 * labels). What cannot be proved is rebuilt from the store, never trusted.
 *
 * The checksum is verified before hnswlib ever sees the file: hnswlib reads
 * its header's sizes and offsets unchecked, so random bytes inside the file
 * crashed every start with SIGSEGV (issue 13.9). Hashing a 100k×512 file
 * (≈ 210 MB) costs about half a second at open.
 *
 * The sidecar is written from the index's own labels, not from the store's
 * generation at save time: an index that missed another writer's changes is
 * recorded as what it is, and the next open reconciles it (issue 13.5).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VectorIndex, type HnswParams } from './hnsw.ts';

export const VECTOR_FILE = 'vectors.hnsw';
export const VECTOR_SIDECAR = 'vectors.json';
const SIDECAR_FORMAT = 2;

/** What vectors an index holds, apart from which passages: a mismatch in any field means rebuild. */
export interface VectorIdentity {
  storeId: string;
  epoch: number;
  modelId: string;
  dimension: number;
}

export interface VectorSidecar extends VectorIdentity {
  format: number;
  /** Live vectors in the file. */
  count: number;
  /** labelsDigest() of the file's live labels. */
  labels: string;
  fileBytes: number;
  fileSha256: string;
}

/** A digest of a set of labels, independent of order. */
export function labelsDigest(labels: Iterable<number>): string {
  const sorted = Uint32Array.from(labels).sort();
  return createHash('sha256').update(sorted).digest('hex');
}

function fileSha256(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let read = fs.readSync(fd, buffer); read > 0; read = fs.readSync(fd, buffer)) hash.update(buffer.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

export type LoadedVectors =
  | { status: 'loaded'; index: VectorIndex; sidecar: VectorSidecar }
  /** Why the file cannot be used; the caller rebuilds from the store. */
  | { status: 'unusable'; reason: string };

export class VectorFile {
  readonly file: string;
  readonly sidecarFile: string;

  /** `name`: another index of the same store (the sentence index: sentences.hnsw and sentences.json). */
  constructor(dataDir: string, name?: string) {
    this.file = path.join(dataDir, name ? `${name}.hnsw` : VECTOR_FILE);
    this.sidecarFile = path.join(dataDir, name ? `${name}.json` : VECTOR_SIDECAR);
  }

  private readSidecar(): VectorSidecar | undefined {
    try {
      const sidecar = JSON.parse(fs.readFileSync(this.sidecarFile, 'utf8')) as VectorSidecar;
      return sidecar.format === SIDECAR_FORMAT ? sidecar : undefined;
    } catch {
      return undefined;
    }
  }

  /** The saved index, if its sidecar proves it is intact and of these vectors. */
  async load(identity: VectorIdentity, params: HnswParams): Promise<LoadedVectors> {
    if (!fs.existsSync(this.file)) return { status: 'unusable', reason: 'is missing' };
    const sidecar = this.readSidecar();
    if (!sidecar) return { status: 'unusable', reason: `has no readable ${VECTOR_SIDECAR} of this version` };
    const mismatch = (['storeId', 'epoch', 'modelId', 'dimension'] as const).find((key) => sidecar[key] !== identity[key]);
    if (mismatch) return { status: 'unusable', reason: `belongs to other vectors (${mismatch} ${sidecar[mismatch]}, store ${identity[mismatch]})` };
    const bytes = fs.statSync(this.file).size;
    if (bytes !== sidecar.fileBytes) return { status: 'unusable', reason: `is ${bytes} bytes where ${sidecar.fileBytes} were saved` };
    if (fileSha256(this.file) !== sidecar.fileSha256) return { status: 'unusable', reason: 'fails its checksum' };
    let index: VectorIndex;
    try {
      index = await VectorIndex.load(this.file, identity.dimension, params);
    } catch (error) {
      return { status: 'unusable', reason: `is unreadable (${error instanceof Error ? error.message : String(error)})` };
    }
    if (labelsDigest(index.labels()) !== sidecar.labels) return { status: 'unusable', reason: 'holds other labels than its sidecar says' };
    return { status: 'loaded', index, sidecar };
  }

  /**
   * The index file, then its sidecar, each written to a temp file and renamed.
   * A crash between the two renames leaves a file its sidecar does not prove:
   * the next open rebuilds.
   */
  save(index: VectorIndex, identity: VectorIdentity): void {
    const tempIndex = `${this.file}.${process.pid}.saving`;
    const tempSidecar = `${this.sidecarFile}.${process.pid}.tmp`;
    try {
      index.save(tempIndex);
      const sidecar: VectorSidecar = {
        format: SIDECAR_FORMAT,
        ...identity,
        count: index.count,
        labels: labelsDigest(index.labels()),
        fileBytes: fs.statSync(tempIndex).size,
        fileSha256: fileSha256(tempIndex),
      };
      fs.writeFileSync(tempSidecar, JSON.stringify(sidecar, null, 2));
      fs.renameSync(tempIndex, this.file);
      fs.renameSync(tempSidecar, this.sidecarFile);
    } finally {
      fs.rmSync(tempIndex, { force: true });
      fs.rmSync(tempSidecar, { force: true });
    }
  }

  /** How many vectors the saved file holds, by its sidecar (undefined when none was saved). */
  savedCount(): number | undefined {
    return this.readSidecar()?.count;
  }

  bytesOnDisk(): number {
    let bytes = 0;
    for (const file of [this.file, this.sidecarFile]) {
      try {
        bytes += fs.statSync(file).size;
      } catch {
        // not saved (yet)
      }
    }
    return bytes;
  }
}
