/**
 * Encrypt and decrypt the v1 format (docs/FORMAT.md): as web streams, for
 * pipes and HTTP bodies, and as fast file paths that use synchronous file I/O
 * on the main thread while up to {@link MAX_IN_FLIGHT} WebCrypto operations
 * run on worker threads (DESIGN.md §8). Memory is constant at any input size:
 * a few segment buffers, whatever the file length.
 *
 * Decryption releases a segment's plaintext only after its tag verifies, in
 * order. A truncated or extended input is detected at the end, after earlier
 * segments were released: callers that must not expose partial output (file
 * writers) keep it in a temporary file until the promise resolves.
 *
 * @module
 */

import {
  readFullSync,
  StreamByteReader,
  type SyncReader,
  type SyncWriter,
  writeAllSync,
} from "./byte_reader.ts";
import type { DataKey } from "./data_key.ts";
import {
  encodeHeader,
  type Header,
  type KeySlot,
  parseHeaderBody,
  readHeaderFrom,
  readHeaderSync,
  TAG_LENGTH,
  withSlots,
} from "./header.ts";
import {
  type EncryptOptions,
  gcTicker,
  MAX_IN_FLIGHT,
  openSegment,
  Pipeline,
  prepareDecryption,
  prepareEncryption,
  sealSegment,
} from "./segments.ts";

export type { EncryptOptions } from "./segments.ts";

/** Finds the data key for a header (normally by unwrapping one of its slots with KMS). */
export type ResolveKey = (header: Header) => Promise<DataKey>;

/** Progress callback for the file paths. */
export interface ProgressOptions {
  /** Called after each segment with the total input bytes consumed so far (header included). */
  onProgress?: ((bytes: number) => void) | undefined;
}

// ---- streams -----------------------------------------------------------------

/**
 * Encrypt a plaintext stream into a v1 ciphertext stream. Errors from the
 * source, bad options (InputError) and cancellation propagate as usual.
 */
export function encryptStream(
  plaintext: ReadableStream<Uint8Array>,
  opts: EncryptOptions,
): ReadableStream<Uint8Array> {
  return ReadableStream.from(encryptChunks(plaintext, opts));
}

async function* encryptChunks(
  plaintext: ReadableStream<Uint8Array>,
  opts: EncryptOptions,
): AsyncGenerator<Uint8Array> {
  const reader = new StreamByteReader(plaintext);
  try {
    const { headerBytes, cipher } = await prepareEncryption(opts);
    yield headerBytes;
    const tick = gcTicker(cipher.segmentSize);
    const pipe = new Pipeline<Uint8Array>();
    for (let index = 0;; index++) {
      const { data, last } = await reader.next(cipher.segmentSize);
      pipe.push(sealSegment(cipher, index, last, data));
      if (pipe.size >= MAX_IN_FLIGHT) {
        yield await pipe.shift();
        tick();
      }
      if (last) break;
    }
    while (pipe.size > 0) yield await pipe.shift();
  } finally {
    await reader.cancel();
  }
}

/**
 * Decrypt a v1 ciphertext stream. `resolveKey` is called once with the
 * validated header. The stream errors with a DecryptError (an EnvelopeError)
 * on any malformed, tampered, truncated or extended input, and with whatever
 * `resolveKey` throws.
 */
export function decryptStream(
  ciphertext: ReadableStream<Uint8Array>,
  resolveKey: ResolveKey,
): ReadableStream<Uint8Array> {
  return ReadableStream.from(decryptChunks(ciphertext, resolveKey));
}

async function* decryptChunks(
  ciphertext: ReadableStream<Uint8Array>,
  resolveKey: ResolveKey,
): AsyncGenerator<Uint8Array> {
  const reader = new StreamByteReader(ciphertext);
  try {
    const header = await readHeaderFrom(reader);
    const cipher = await prepareDecryption(header, await resolveKey(header));
    const chunk = cipher.segmentSize + TAG_LENGTH;
    const tick = gcTicker(cipher.segmentSize);
    const pipe = new Pipeline<Uint8Array>();
    for (let index = 0;; index++) {
      // `data` is a fresh array, so it stays intact while openSegment runs.
      const { data, last } = await reader.next(chunk);
      pipe.push(openSegment(cipher, index, last, data));
      if (pipe.size >= MAX_IN_FLIGHT) {
        yield await pipe.shift();
        tick();
      }
      if (last) break;
    }
    while (pipe.size > 0) yield await pipe.shift();
  } finally {
    await reader.cancel();
  }
}

/** Encrypt a buffer held in memory (small messages, e.g. `serve`'s JSON API). */
export async function encryptBytes(
  plaintext: Uint8Array,
  opts: EncryptOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const ct = encryptStream(ReadableStream.from([plaintext]), opts);
  return new Uint8Array(await new Response(ct).arrayBuffer());
}

/** Decrypt a whole message held in memory; resolves only once every segment verified. */
export async function decryptBytes(
  ciphertext: Uint8Array,
  resolveKey: ResolveKey,
): Promise<{ header: Header; plaintext: Uint8Array<ArrayBuffer> }> {
  let header: Header | undefined;
  const pt = decryptStream(ReadableStream.from([ciphertext]), (h) => {
    header = h;
    return resolveKey(h);
  });
  const plaintext = new Uint8Array(await new Response(pt).arrayBuffer());
  return { header: header!, plaintext };
}

// ---- files -------------------------------------------------------------------

/** Sizes written by {@link encryptFile}. */
export interface EncryptFileResult {
  plaintextBytes: number;
  ciphertextBytes: number;
}

/** Result of {@link decryptFile}. */
export interface DecryptFileResult {
  header: Header;
  plaintextBytes: number;
}

/** A ring of equally sized buffers; a slot is reused only after its operation settled. */
function ring(size: number): Uint8Array<ArrayBuffer>[] {
  return Array.from({ length: MAX_IN_FLIGHT + 2 }, () => new Uint8Array(size));
}

/**
 * Encrypt `input` (from its current position to its end) into `output`
 * (written from its current position). The caller owns both files and the
 * atomic-rename policy. Any synchronous reader and writer work, so
 * `Deno.stdin` and `Deno.stdout` get the fast path too (the main thread then
 * blocks while it waits for input, which a CLI can afford).
 */
export async function encryptFile(
  input: SyncReader,
  output: SyncWriter,
  opts: EncryptOptions & ProgressOptions,
): Promise<EncryptFileResult> {
  const { headerBytes, cipher } = await prepareEncryption(opts);
  const size = cipher.segmentSize;
  writeAllSync(output, headerBytes);
  let ciphertextBytes = headerBytes.length;
  let plaintextBytes = 0;
  let consumed = 0;
  const progress = opts.onProgress;
  const tick = gcTicker(size);
  const pipe = new Pipeline<Uint8Array>();
  const flush = async () => {
    const c = await pipe.shift();
    writeAllSync(output, c);
    ciphertextBytes += c.length;
    progress?.(consumed);
  };
  const bufs = ring(size);
  let curLen = readFullSync(input, bufs[0]!);
  for (let index = 0;; index++) {
    const cur = bufs[index % bufs.length]!;
    const next = bufs[(index + 1) % bufs.length]!;
    // One segment of look-ahead tells whether this one is the last.
    const nextLen = curLen === size ? readFullSync(input, next) : 0;
    const last = nextLen === 0;
    pipe.push(sealSegment(cipher, index, last, cur.subarray(0, curLen)));
    plaintextBytes += curLen;
    consumed += curLen;
    curLen = nextLen;
    if (pipe.size >= MAX_IN_FLIGHT) {
      await flush();
      tick(); // outside flush(), so the buffer just written is no longer referenced
    }
    if (last) break;
  }
  while (pipe.size > 0) await flush();
  return { plaintextBytes, ciphertextBytes };
}

/**
 * Decrypt `input` (a v1 file, read from its current position) into `output`;
 * like {@link encryptFile}, `Deno.stdin`/`Deno.stdout` work too. Rejects with
 * a DecryptError on any problem; `output` then holds a verified prefix of the
 * plaintext at most, which the caller must discard.
 */
export async function decryptFile(
  input: SyncReader,
  output: SyncWriter,
  resolveKey: ResolveKey,
  opts: ProgressOptions = {},
): Promise<DecryptFileResult> {
  const header = readHeaderSync(input);
  const cipher = await prepareDecryption(header, await resolveKey(header));
  const chunk = cipher.segmentSize + TAG_LENGTH;
  let plaintextBytes = 0;
  let consumed = header.headerLength;
  const progress = opts.onProgress;
  const tick = gcTicker(cipher.segmentSize);
  const pipe = new Pipeline<Uint8Array>();
  const flush = async () => {
    const p = await pipe.shift();
    writeAllSync(output, p);
    plaintextBytes += p.length;
    progress?.(consumed);
  };
  // openSegment may re-read its input after a failed tag, so a buffer is
  // reused only once its segment has left the pipeline: the ring has room
  // for MAX_IN_FLIGHT segments in flight plus the current and the next.
  const bufs = ring(chunk);
  let curLen = readFullSync(input, bufs[0]!);
  for (let index = 0;; index++) {
    const cur = bufs[index % bufs.length]!;
    const next = bufs[(index + 1) % bufs.length]!;
    const nextLen = curLen === chunk ? readFullSync(input, next) : 0;
    const last = nextLen === 0;
    pipe.push(openSegment(cipher, index, last, cur.subarray(0, curLen)));
    consumed += curLen;
    curLen = nextLen;
    if (pipe.size >= MAX_IN_FLIGHT) {
      await flush();
      tick(); // outside flush(), so the buffer just written is no longer referenced
    }
    if (last) break;
  }
  while (pipe.size > 0) await flush();
  return { header, plaintextBytes };
}

// ---- rewrap and inspect --------------------------------------------------------

/** Result of {@link rewriteSlots}. */
export interface RewriteSlotsResult {
  /** The header as written, with the new slots. */
  header: Header;
  /** Payload bytes copied unchanged. */
  payloadBytes: number;
}

/**
 * Write `input` to `output` with the key slots replaced by `newSlots`; the
 * bound header part and every payload byte stay identical. `input` is read
 * from the start. Nothing here checks that the new slots wrap the same data
 * key: the caller (rewrap) is responsible, and a wrong slot can only fail
 * the commitment check later.
 */
export function rewriteSlots(
  input: Deno.FsFile,
  output: Deno.FsFile,
  newSlots: KeySlot[],
): Promise<RewriteSlotsResult> {
  input.seekSync(0, Deno.SeekMode.Start);
  const old = readHeaderSync(input);
  const headerBytes = encodeHeader(withSlots(old, newSlots));
  const header = parseHeaderBody(headerBytes.subarray(12));
  writeAllSync(output, headerBytes);
  const buf = new Uint8Array(1 << 20);
  let payloadBytes = 0;
  for (;;) {
    const n = readFullSync(input, buf);
    if (n === 0) break;
    writeAllSync(output, buf.subarray(0, n));
    payloadBytes += n;
  }
  return Promise.resolve({ header, payloadBytes });
}

/** What {@link inspectFile} can tell without the data key. */
export interface InspectResult {
  header: Header;
  fileBytes: number;
  payloadBytes: number;
  /** Segments implied by the payload size. */
  segments: number;
  /** Plaintext size implied by the payload size (exact when the file is intact). */
  plaintextBytes: number;
  /**
   * `true` when the payload size fits the segment layout. This cannot prove
   * the file complete: a cut at a segment boundary, whole segments appended,
   * or any modified byte show only when decrypting (FORMAT.md §8).
   */
  layoutConsistent: boolean;
  /** Why the layout is inconsistent, when it is. */
  problem?: string | undefined;
}

/**
 * Read the header of a v1 file and check, from the file size alone, that the
 * payload has the shape of a complete segment sequence. Throws DecryptError
 * for a missing or invalid header.
 */
export function inspectFile(file: Deno.FsFile): Promise<InspectResult> {
  file.seekSync(0, Deno.SeekMode.Start);
  const header = readHeaderSync(file);
  const fileBytes = file.statSync().size;
  const payloadBytes = fileBytes - header.headerLength;
  const chunk = header.segmentSize + TAG_LENGTH;
  const segments = Math.max(1, Math.ceil(payloadBytes / chunk));
  const lastLen = payloadBytes - (segments - 1) * chunk;
  let problem: string | undefined;
  if (payloadBytes === 0) {
    problem = "no payload segments: the file is truncated";
  } else if (lastLen < TAG_LENGTH) {
    problem = `the last ${lastLen} bytes are too short for a segment: the file is truncated` +
      " or has bytes appended";
  } else if (segments > 1 && lastLen === TAG_LENGTH) {
    problem = "the file ends in an empty segment: it is truncated or has bytes appended";
  }
  return Promise.resolve({
    header,
    fileBytes,
    payloadBytes,
    segments,
    plaintextBytes: Math.max(0, payloadBytes - segments * TAG_LENGTH),
    layoutConsistent: problem === undefined,
    problem,
  });
}
