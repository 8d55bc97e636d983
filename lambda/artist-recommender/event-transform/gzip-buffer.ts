import { createGzip, type Gzip } from 'node:zlib';

/**
 * Lines written through gzip into memory, compressed as they come: what a transform writes per
 * object (its quarantine, its staged lines) is never held uncompressed.
 */
export class GzipBuffer {
  private readonly gzip: Gzip = createGzip();
  private readonly chunks: Buffer[] = [];
  private readonly done: Promise<void>;
  /** Rows written, as the caller counts them. */
  rows = 0;

  constructor() {
    this.gzip.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    this.done = new Promise((resolve, reject) => {
      this.gzip.on('end', resolve);
      this.gzip.on('error', reject);
    });
  }

  write(text: string, rows = 1): void {
    this.rows += rows;
    this.gzip.write(text);
  }

  /** Ends the stream; the gzip bytes of everything written (a valid empty gzip when nothing was). */
  async close(): Promise<Buffer> {
    this.gzip.end();
    await this.done;
    return Buffer.concat(this.chunks);
  }
}
