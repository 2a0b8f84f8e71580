/**
 * The payload core shared by the stream and file paths (docs/FORMAT.md §5):
 * per-file key setup and commitment check, segment nonces, sealing and
 * opening one segment with precise diagnostics, and an ordered pipeline that
 * keeps a few WebCrypto operations in flight without unhandled rejections.
 *
 * @module
 */

import type { EncryptionContext } from "../kms/types.ts";
import { InputError } from "../errors.ts";
import { constantTimeEqual, type DataKey } from "./data_key.ts";
import { DecryptError } from "./errors.ts";
import {
  boundDigest,
  COMMITMENT_LENGTH,
  DEFAULT_SEGMENT_SIZE,
  encodeHeader,
  type Header,
  type HeaderFields,
  type KeySlot,
  MAX_SEGMENT_SIZE,
  MIN_SEGMENT_SIZE,
  NONCE_PREFIX_LENGTH,
  SALT_LENGTH,
  TAG_LENGTH,
  validateFields,
} from "./header.ts";

/** WebCrypto operations kept in flight; DESIGN.md §8 measured 3 as the sweet spot on 2 cores. */
export const MAX_IN_FLIGHT = 3;
/** Largest segment index: the counter is a u32 (FORMAT.md §5). */
export const MAX_SEGMENT_INDEX = 0xffff_ffff;

/** Options for encrypting one file or stream. */
export interface EncryptOptions {
  /** The data key; its raw bytes are already zeroed. */
  dataKey: DataKey;
  /** One or more key slots holding the wrapped data key. */
  slots: KeySlot[];
  /** Encryption context, bound into the header (and sent to KMS by the caller). */
  context: EncryptionContext;
  /** Plaintext bytes per segment, 4096 … 67108864; default 1 MiB. */
  segmentSize?: number | undefined;
  /**
   * Fixed salt and nonce prefix. For test vectors only: reusing them with the
   * same data key reuses AES-GCM nonces and breaks confidentiality.
   * @internal
   */
  testingRandomness?: { salt: Uint8Array; noncePrefix: Uint8Array } | undefined;
}

/** Everything needed to seal or open a file's segments. */
export interface PayloadCipher {
  key: CryptoKey;
  noncePrefix: Uint8Array;
  segmentSize: number;
}

/** Validate a segment size given by a caller (InputError, since it is usually a CLI option). */
export function checkSegmentSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < MIN_SEGMENT_SIZE || size > MAX_SEGMENT_SIZE) {
    throw new InputError(
      `Invalid segment size ${size}: use an integer from ${MIN_SEGMENT_SIZE} to ${MAX_SEGMENT_SIZE}`,
    );
  }
}

/** Choose salt and nonce prefix, derive the payload key and build the header bytes. */
export async function prepareEncryption(
  opts: EncryptOptions,
): Promise<{ headerBytes: Uint8Array<ArrayBuffer>; cipher: PayloadCipher }> {
  const segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  checkSegmentSize(segmentSize);
  const salt = opts.testingRandomness?.salt ?? crypto.getRandomValues(new Uint8Array(SALT_LENGTH));
  const noncePrefix = opts.testingRandomness?.noncePrefix ??
    crypto.getRandomValues(new Uint8Array(NONCE_PREFIX_LENGTH));
  const fields: HeaderFields = {
    segmentSize,
    salt,
    noncePrefix,
    context: opts.context,
    commitment: new Uint8Array(COMMITMENT_LENGTH),
    slots: opts.slots,
  };
  validateFields(fields); // fail on bad slots or context before deriving anything
  const { payloadKey, commitment } = await opts.dataKey.deriveFileKeys(
    salt,
    await boundDigest(fields),
  );
  return {
    headerBytes: encodeHeader({ ...fields, commitment }),
    cipher: { key: payloadKey, noncePrefix, segmentSize },
  };
}

/** Derive the payload key for `header` and check the key commitment in constant time. */
export async function prepareDecryption(header: Header, dataKey: DataKey): Promise<PayloadCipher> {
  const { payloadKey, commitment } = await dataKey.deriveFileKeys(
    header.salt,
    await boundDigest(header),
  );
  if (!constantTimeEqual(commitment, header.commitment)) {
    throw new DecryptError(
      "commitment",
      "Cannot decrypt: key commitment mismatch (the data key does not belong to this file," +
        " or the header was modified)",
    );
  }
  return { key: payloadKey, noncePrefix: header.noncePrefix, segmentSize: header.segmentSize };
}

/** nonce = prefix(7) ‖ u32be(index) ‖ last-flag(1). */
export function segmentNonce(
  prefix: Uint8Array,
  index: number,
  last: boolean,
): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(12);
  nonce.set(prefix);
  new DataView(nonce.buffer).setUint32(NONCE_PREFIX_LENGTH, index);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function checkIndex(index: number): void {
  if (index > MAX_SEGMENT_INDEX) {
    throw new InputError(
      "Cannot encrypt: the input needs more than 2^32 segments; use a larger segment size",
    );
  }
}

/**
 * Encrypt one segment. WebCrypto copies `plaintext` before this returns, so
 * the caller may reuse the buffer at once.
 */
export function sealSegment(
  c: PayloadCipher,
  index: number,
  last: boolean,
  plaintext: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  checkIndex(index);
  return crypto.subtle.encrypt(
    { name: "AES-GCM", iv: segmentNonce(c.noncePrefix, index, last), tagLength: 128 },
    c.key,
    plaintext as Uint8Array<ArrayBuffer>,
  ).then((b) => new Uint8Array(b));
}

function tryOpen(
  c: PayloadCipher,
  index: number,
  last: boolean,
  data: Uint8Array,
): Promise<ArrayBuffer> {
  return crypto.subtle.decrypt(
    { name: "AES-GCM", iv: segmentNonce(c.noncePrefix, index, last), tagLength: 128 },
    c.key,
    data as Uint8Array<ArrayBuffer>,
  );
}

/**
 * Decrypt and verify segment `index`. `last` says whether the input ends
 * right after `data`. `data` must stay unchanged until the promise settles
 * (a failed tag is re-checked with the other flag to name the problem).
 */
export async function openSegment(
  c: PayloadCipher,
  index: number,
  last: boolean,
  data: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  if (index > MAX_SEGMENT_INDEX) {
    throw new DecryptError("trailing-data", "Cannot decrypt: more than 2^32 segments");
  }
  if (data.length === 0) {
    throw new DecryptError("truncated", "Cannot decrypt: file is truncated (no payload segments)");
  }
  if (data.length < TAG_LENGTH) {
    throw new DecryptError(
      "truncated",
      `Cannot decrypt: file is truncated (segment ${index} is shorter than its tag)`,
    );
  }
  const full = data.length === c.segmentSize + TAG_LENGTH;
  if (last && index > 0 && data.length === TAG_LENGTH) {
    // The encoder never writes an empty final segment after segment 0, so the
    // encoding of a plaintext is unique; this can only be tampering.
    throw new DecryptError(
      "authentication",
      `Cannot decrypt: segment ${index} is an empty final segment, which only an empty file has`,
    );
  }
  try {
    return new Uint8Array(await tryOpen(c, index, last, data));
  } catch {
    // Name the problem precisely when the other flag verifies: a full final
    // segment where the input ends means the real final segment is missing;
    // a verified final segment followed by more input means appended data.
    if (full) {
      const other = await tryOpen(c, index, !last, data).then(() => true, () => false);
      if (other && last) {
        throw new DecryptError(
          "truncated",
          `Cannot decrypt: file is truncated (it ends after segment ${index},` +
            " before the final segment)",
        );
      }
      if (other && !last) {
        throw new DecryptError(
          "trailing-data",
          `Cannot decrypt: unexpected data after the final segment (segment ${index})`,
        );
      }
    }
    throw new DecryptError(
      "authentication",
      last
        ? `Cannot decrypt: authentication failed in segment ${index}, the final one` +
          " (the file was modified, truncated inside it, or has bytes appended)"
        : `Cannot decrypt: authentication failed in segment ${index}` +
          " (the file was modified or its segments reordered)",
    );
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * An ordered queue of in-flight operations. Each promise gets its handlers
 * attached on entry, so a failure that is not yet awaited is never an
 * unhandled rejection; errors surface in input order on {@link shift}.
 */
export class Pipeline<T> {
  #queue: Promise<Settled<T>>[] = [];

  get size(): number {
    return this.#queue.length;
  }

  push(p: Promise<T>): void {
    this.#queue.push(
      p.then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error })),
    );
  }

  /** The oldest result; throws its error if it failed. */
  async shift(): Promise<T> {
    const r = await this.#queue.shift()!;
    if (!r.ok) throw r.error;
    return r.value;
  }
}

/** Calls a minor GC every `every` segments when `--v8-flags=--expose-gc` is on (DESIGN.md §8). */
export function gcTicker(segmentSize: number): () => void {
  const gc = (globalThis as { gc?: (opts?: { type: string }) => void }).gc;
  if (typeof gc !== "function") return () => {};
  // WebCrypto returns a fresh ArrayBuffer per call; V8 frees them late, so a
  // young-generation sweep about every 4 MiB keeps peak RSS flat (measured: 4 MiB
  // beat 1, 2 and 8 MiB, and major GCs; sweeping more often promotes in-flight buffers).
  const every = Math.max(1, Math.floor((4 << 20) / segmentSize));
  let n = 0;
  return () => {
    if (++n % every === 0) gc({ type: "minor" });
  };
}
