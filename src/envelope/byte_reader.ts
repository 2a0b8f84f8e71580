/**
 * Exact-length reads over a `ReadableStream<Uint8Array>` and over a
 * synchronous `Deno.FsFile`. Stream chunks arrive in arbitrary sizes; the
 * format needs "exactly n bytes, or fewer only at the end" plus one byte of
 * look-ahead to know whether a segment is the last one.
 *
 * @module
 */

/** Buffers stream chunks and hands out exact-length pieces. */
export class StreamByteReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Bytes read from the source but not yet taken. */
  get buffered(): number {
    return this.#buffered;
  }

  /** True once the source has reported its end. */
  get done(): boolean {
    return this.#done;
  }

  /** Read from the source until at least `n` bytes are buffered or the source ends. */
  async fill(n: number): Promise<void> {
    while (!this.#done && this.#buffered < n) {
      const r = await this.#reader.read();
      if (r.done) {
        this.#done = true;
      } else {
        const v: unknown = r.value;
        if (!(v instanceof Uint8Array)) {
          throw new TypeError("Stream chunks must be Uint8Array");
        }
        if (v.length > 0) {
          this.#chunks.push(v);
          this.#buffered += v.length;
        }
      }
    }
  }

  /** Remove and return the first `n` buffered bytes (`n` ≤ {@link buffered}) as a new array. */
  take(n: number): Uint8Array<ArrayBuffer> {
    if (n > this.#buffered) throw new RangeError("take() beyond buffered data");
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(k === c.length ? c : c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#buffered -= n;
    return out;
  }

  /** Read up to `n` bytes; fewer only when the source ends. */
  async read(n: number): Promise<Uint8Array<ArrayBuffer>> {
    await this.fill(n);
    return this.take(Math.min(n, this.#buffered));
  }

  /**
   * Next piece of at most `size` bytes and whether it is the last one (the
   * source ends right after it). Reads one byte ahead to decide.
   */
  async next(size: number): Promise<{ data: Uint8Array<ArrayBuffer>; last: boolean }> {
    await this.fill(size + 1);
    if (this.#buffered > size) return { data: this.take(size), last: false };
    return { data: this.take(this.#buffered), last: true };
  }

  /** The rest of the source (buffered bytes first) as a stream. */
  toStream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (this.#buffered > 0) {
          controller.enqueue(this.take(this.#buffered));
          return;
        }
        await this.fill(1);
        if (this.#buffered > 0) controller.enqueue(this.take(this.#buffered));
        else controller.close();
      },
      cancel: (reason) => this.cancel(reason),
    });
  }

  /** Stop reading and release the source. */
  async cancel(reason?: unknown): Promise<void> {
    this.#chunks = [];
    this.#buffered = 0;
    if (!this.#done) {
      this.#done = true;
      await this.#reader.cancel(reason).catch(() => {});
    }
    this.#reader.releaseLock();
  }
}

/** Anything with a synchronous `readSync`: `Deno.FsFile`, `Deno.stdin`. */
export type SyncReader = Pick<Deno.FsFile, "readSync">;
/** Anything with a synchronous `writeSync`: `Deno.FsFile`, `Deno.stdout`. */
export type SyncWriter = Pick<Deno.FsFile, "writeSync">;

/** Read into `buf` until it is full or the input ends; returns the byte count. */
export function readFullSync(file: SyncReader, buf: Uint8Array): number {
  let off = 0;
  while (off < buf.length) {
    const n = file.readSync(buf.subarray(off));
    if (n === null) break;
    off += n;
  }
  return off;
}

/** Write all of `data` to `file` synchronously. */
export function writeAllSync(file: SyncWriter, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += file.writeSync(data.subarray(off));
}
