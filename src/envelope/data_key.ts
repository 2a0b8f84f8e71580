/**
 * The data key: the secret that KMS wraps in each key slot. It is held only as
 * a non-extractable WebCrypto HKDF key; every file derives its own AES-256-GCM
 * payload key and key-commitment value from it (docs/FORMAT.md §4), so one
 * data key can safely serve many files in a run.
 *
 * What JavaScript cannot wipe: the raw bytes passed to {@link DataKey.import}
 * are zeroed, but the base64 string in the KMS JSON response (and the response
 * body text it came from) are immutable JS strings that live until the garbage
 * collector reclaims them. WebCrypto keeps its own copy of the key inside the
 * runtime; it is never exposed to JavaScript.
 *
 * @module
 */

import { InputError } from "../errors.ts";

/** HKDF `info` prefix for the payload key (followed by the 32-byte bound digest). */
export const PAYLOAD_KEY_LABEL = "kmsenv/v1 payload key";
/** HKDF `info` prefix for the key-commitment value (followed by the 32-byte bound digest). */
export const COMMITMENT_LABEL = "kmsenv/v1 key commitment";

/** The per-file keys derived from a data key. */
export interface FileKeys {
  /** Non-extractable AES-256-GCM key for the payload segments. */
  payloadKey: CryptoKey;
  /** 32-byte key-commitment value stored in (encrypt) or compared with (decrypt) the header. */
  commitment: Uint8Array;
}

const encoder = new TextEncoder();

function info(label: string, boundDigest: Uint8Array): Uint8Array<ArrayBuffer> {
  const l = encoder.encode(label);
  const out = new Uint8Array(l.length + boundDigest.length);
  out.set(l);
  out.set(boundDigest, l.length);
  return out;
}

/** A data key imported as a non-extractable HKDF key. */
export class DataKey {
  readonly #ikm: CryptoKey;
  /** Length of the raw data key in bytes (16 or 32). */
  readonly byteLength: 16 | 32;

  private constructor(ikm: CryptoKey, byteLength: 16 | 32) {
    this.#ikm = ikm;
    this.byteLength = byteLength;
  }

  /**
   * Import a raw 16- or 32-byte data key and zero `raw` (also when the import
   * fails), so the only copy left is inside WebCrypto.
   */
  static async import(raw: Uint8Array): Promise<DataKey> {
    const length = raw.byteLength;
    try {
      if (length !== 16 && length !== 32) {
        throw new InputError(`Cannot use data key: it has ${length} bytes, expected 16 or 32`);
      }
      // importKey copies the bytes before it returns, so zeroing in `finally`
      // cannot race with the import.
      const ikm = await crypto.subtle.importKey(
        "raw",
        raw as Uint8Array<ArrayBuffer>,
        "HKDF",
        false,
        ["deriveKey", "deriveBits"],
      );
      return new DataKey(ikm, length);
    } finally {
      raw.fill(0);
    }
  }

  /**
   * Derive a file's payload key and commitment value (FORMAT.md §4):
   * HKDF-SHA256(IKM = data key, salt, info = label ‖ boundDigest).
   */
  async deriveFileKeys(salt: Uint8Array, boundDigest: Uint8Array): Promise<FileKeys> {
    const s = salt as Uint8Array<ArrayBuffer>;
    const [payloadKey, bits] = await Promise.all([
      crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: s, info: info(PAYLOAD_KEY_LABEL, boundDigest) },
        this.#ikm,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      ),
      crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt: s, info: info(COMMITMENT_LABEL, boundDigest) },
        this.#ikm,
        256,
      ),
    ]);
    return { payloadKey, commitment: new Uint8Array(bits) };
  }
}

/** Constant-time equality of two byte strings (length is not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
