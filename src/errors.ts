/**
 * Error types shared by every layer. The CLI presenter (`src/cli/run.ts`) is the
 * only place that turns them into text: `kmsenv: error: …` plus an optional
 * `kmsenv: hint: …`. Messages never contain secrets, tokens or key material.
 *
 * @module
 */

/** Options for {@link KmsenvError}. */
export interface KmsenvErrorOptions {
  /** What a person can do about it, printed as `kmsenv: hint: …`. */
  hint?: string | undefined;
  cause?: unknown;
}

/** Base class for every failure a user is expected to see (exit status 1). */
export class KmsenvError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, options: KmsenvErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad command-line usage (exit status 2). */
export class UsageError extends KmsenvError {}

/** A ciphertext failed authentication or is structurally invalid. */
export class EnvelopeError extends KmsenvError {}

/** Input or configuration that cannot be used (bad file, bad option value). */
export class InputError extends KmsenvError {}

/** No credentials could be found or loaded. */
export class CredentialsError extends KmsenvError {}
