/**
 * Checking a file's encryption context against what the caller expects
 * (`kmsenv decrypt --context k=v`, `serve`'s decrypt with a context). The
 * context in the header is authenticated (FORMAT.md §4), so once a file has
 * decrypted, its header's context is the one it was encrypted with.
 *
 * @module
 */

import type { EncryptionContext } from "../kms/types.ts";
import { DecryptError } from "./errors.ts";

/**
 * How the expected context must match: `exact` (same key/value set, as KMS
 * compares contexts) or `subset` (every expected pair present; extra pairs
 * in the file allowed, like the AWS Encryption SDK's required context).
 */
export type ContextMatch = "exact" | "subset";

/**
 * Throw a DecryptError of kind `context` unless `actual` satisfies
 * `expected`. The message names the first differing key; context values are
 * stored in the clear in every file, so naming keys reveals nothing secret.
 */
export function checkContext(
  actual: EncryptionContext,
  expected: EncryptionContext,
  match: ContextMatch = "exact",
): void {
  const has = (o: EncryptionContext, k: string) => Object.hasOwn(o, k);
  for (const k of Object.keys(expected)) {
    if (!has(actual, k)) throw mismatch(`the file has no key ${JSON.stringify(k)}`);
    if (actual[k] !== expected[k]) {
      throw mismatch(`the file has a different value for ${JSON.stringify(k)}`);
    }
  }
  if (match === "exact") {
    const extra = Object.keys(actual).find((k) => !has(expected, k));
    if (extra !== undefined) throw mismatch(`the file also has key ${JSON.stringify(extra)}`);
  }
}

function mismatch(detail: string): DecryptError {
  return new DecryptError(
    "context",
    `Cannot decrypt: the encryption context does not match (${detail})`,
    { hint: "Run `kmsenv inspect FILE` to see the file's encryption context" },
  );
}
