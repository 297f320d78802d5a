/**
 * The few ZIP reads a DOCX needs (word/document.xml, docProps/core.xml),
 * with node:zlib: mammoth's bundled JSZip is not ours to import, and this
 * reader lets a damaged archive fail with a precise reason.
 */
import zlib from 'node:zlib';
import { loadParseLimits } from '../../kb/config.ts';

export class ZipFormatError extends Error {}

/** An entry that would inflate past the archive's limit. */
export class ZipEntryTooLarge extends ZipFormatError {
  constructor(readonly entry: string) {
    super(`${entry} inflates past the limit`);
  }
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

export class ZipArchive {
  private readonly entries = new Map<string, ZipEntry>();

  /** `maxEntryBytes` bounds one inflated entry: a 190 MiB document.xml is a zip bomb, and its XML tree does not fit a heap. */
  constructor(private readonly bytes: Buffer, private readonly maxEntryBytes = loadParseLimits().maxInflatedMb * 1024 * 1024) {
    const eocd = this.findEndOfCentralDirectory();
    const count = bytes.readUInt16LE(eocd + 10);
    let offset = bytes.readUInt32LE(eocd + 16);
    for (let i = 0; i < count; i++) {
      if (offset + 46 > bytes.length || bytes.readUInt32LE(offset) !== 0x02014b50) {
        throw new ZipFormatError('central directory is damaged');
      }
      const nameLength = bytes.readUInt16LE(offset + 28);
      const extraLength = bytes.readUInt16LE(offset + 30);
      const commentLength = bytes.readUInt16LE(offset + 32);
      const name = bytes.toString('utf8', offset + 46, offset + 46 + nameLength);
      this.entries.set(name, {
        name,
        method: bytes.readUInt16LE(offset + 10),
        compressedSize: bytes.readUInt32LE(offset + 20),
        uncompressedSize: bytes.readUInt32LE(offset + 24),
        localHeaderOffset: bytes.readUInt32LE(offset + 42),
      });
      offset += 46 + nameLength + extraLength + commentLength;
    }
  }

  private findEndOfCentralDirectory(): number {
    const min = Math.max(0, this.bytes.length - 22 - 0xffff);
    for (let i = this.bytes.length - 22; i >= min; i--) {
      if (this.bytes.readUInt32LE(i) === 0x06054b50) return i;
    }
    // A download cut short loses the directory at the end first.
    throw new ZipFormatError('no end of central directory (truncated archive)');
  }

  /** The entry's bytes, or undefined when the archive has no such entry. */
  read(name: string): Buffer | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    const local = entry.localHeaderOffset;
    if (local + 30 > this.bytes.length || this.bytes.readUInt32LE(local) !== 0x04034b50) {
      throw new ZipFormatError(`local header of ${name} is damaged`);
    }
    const start = local + 30 + this.bytes.readUInt16LE(local + 26) + this.bytes.readUInt16LE(local + 28);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length) throw new ZipFormatError(`${name} is cut short`);
    // The directory's size is a claim; maxOutputLength below holds whatever the data really inflates to.
    if (entry.uncompressedSize > this.maxEntryBytes) throw new ZipEntryTooLarge(name);
    const data = this.bytes.subarray(start, end);
    if (entry.method === 0) return Buffer.from(data);
    if (entry.method !== 8) throw new ZipFormatError(`${name} uses unsupported compression method ${entry.method}`);
    try {
      return zlib.inflateRawSync(data, { maxOutputLength: this.maxEntryBytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ZipEntryTooLarge(name);
      throw new ZipFormatError(`${name} cannot be inflated: ${(error as Error).message}`);
    }
  }

  readText(name: string): string | undefined {
    return this.read(name)?.toString('utf8');
  }
}
