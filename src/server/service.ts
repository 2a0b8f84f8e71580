/**
 * The seam between the HTTP layer and the crypto: what `createApp` needs
 * from envelope encryption. The real implementation binds the v1 format
 * (`src/envelope/`) to the keyring (`src/keyring.ts`); tests may pass any
 * other implementation, so the HTTP behaviour is testable on its own.
 *
 * @module
 */

import type { EncryptionContext } from "../kms/types.ts";
import type { CryptoStats } from "./metrics.ts";

/** What to encrypt with. */
export interface EncryptParams {
  /** CMK references, first one generates the data key; at least one. */
  keys: string[];
  /** Encryption context, bound into the message and sent to KMS. */
  context: EncryptionContext;
}

/** What a decrypted message must satisfy. */
export interface DecryptParams {
  /** If given, the message's context must equal it exactly (else an `EnvelopeError`). */
  context?: EncryptionContext | undefined;
}

/** Envelope encryption as the server uses it. Errors are kmsenv errors (`KmsApiError`, `EnvelopeError`, …). */
export interface EnvelopeService {
  /** Encrypts a stream into a v1 message. KMS errors surface on the first read. */
  encrypt(plaintext: ReadableStream<Uint8Array>, params: EncryptParams): ReadableStream<Uint8Array>;
  /**
   * Decrypts a v1 message. Header and key errors surface on the first read;
   * a failure later errors the stream (never a clean end).
   */
  decrypt(
    ciphertext: ReadableStream<Uint8Array>,
    params: DecryptParams,
  ): ReadableStream<Uint8Array>;
  /** Encrypts a small buffer into a v1 message. */
  encryptBytes(plaintext: Uint8Array, params: EncryptParams): Promise<Uint8Array>;
  /** Decrypts a whole v1 message held in memory; authenticated before it returns. */
  decryptBytes(
    ciphertext: Uint8Array,
    params: DecryptParams,
  ): Promise<{ plaintext: Uint8Array; context: EncryptionContext }>;
  /** KMS calls and cache counters for /metrics. */
  stats?(): CryptoStats;
}
