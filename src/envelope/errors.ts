/**
 * Decryption failures of the v1 format, each with a machine-readable `kind`
 * so callers can react without parsing messages: `decrypt` falls back to the
 * legacy line formats only for `"not-kmsenv"`, `serve` maps kinds to HTTP
 * statuses, and tests assert on the kind rather than on wording.
 *
 * @module
 */

import { EnvelopeError, type KmsenvErrorOptions } from "../errors.ts";

/**
 * Why a ciphertext was rejected.
 *
 * - `empty`: the input has no bytes at all.
 * - `not-kmsenv`: the input does not start with the kmsenv magic (maybe a legacy file).
 * - `unsupported-version`: the magic matches but the version byte is not 1.
 * - `header`: the header is malformed, non-canonical or out of limits.
 * - `truncated`: the input ends early (inside the header, inside a segment, or
 *   before the final segment).
 * - `trailing-data`: bytes follow the final segment.
 * - `commitment`: the data key does not belong to this file (wrong or forged
 *   key slot, or a modified bound header part).
 * - `authentication`: a segment failed its AES-GCM tag check (modified,
 *   reordered or replaced segment).
 * - `context`: the file's (authentic) encryption context is not the one the
 *   caller required.
 */
export type DecryptErrorKind =
  | "empty"
  | "not-kmsenv"
  | "unsupported-version"
  | "header"
  | "truncated"
  | "trailing-data"
  | "commitment"
  | "authentication"
  | "context";

/** A v1 ciphertext that cannot be decrypted; see {@link DecryptErrorKind}. */
export class DecryptError extends EnvelopeError {
  /** Machine-readable reason. */
  readonly kind: DecryptErrorKind;
  constructor(kind: DecryptErrorKind, message: string, options: KmsenvErrorOptions = {}) {
    super(message, options);
    this.kind = kind;
  }
}

/** True when `err` says the input is not a kmsenv v1 file at all (legacy formats may apply). */
export function isNotKmsenv(err: unknown): boolean {
  return err instanceof DecryptError && err.kind === "not-kmsenv";
}
