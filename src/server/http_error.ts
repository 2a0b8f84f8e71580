/**
 * How failures become HTTP answers. Every error body is
 * `{"error": {"code": "...", "message": "..."}}` with a fixed, documented
 * code; messages come from kmsenv's own errors (which never hold secrets) or
 * are fixed strings. Unknown errors answer a bare 500 and are logged by name
 * only, so nothing from a request can leak through an exception message.
 *
 * @module
 */

import { EnvelopeError, InputError, KmsenvError } from "../errors.ts";
import { KmsApiError } from "../kms/types.ts";

/** Status codes the API answers with errors. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 413 | 415 | 422 | 429 | 500 | 502 | 503;

/** An error answered as `{"error": {code, message}}` with `status`. */
export class ApiError extends Error {
  readonly status: ErrorStatus;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(
    status: ErrorStatus,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  /** The JSON response for this error. */
  toResponse(): Response {
    return new Response(JSON.stringify({ error: { code: this.code, message: this.message } }), {
      status: this.status,
      headers: { "content-type": "application/json", ...this.headers },
    });
  }
}

const THROTTLING = /^(Rejected\.Throttling|Throttling)/;
const KMS_DOWN = /^(ServiceUnavailable|InternalFailure|InternalError|NetworkError|Timeout)/;

/**
 * Maps any error from the crypto path to an {@link ApiError}.
 *
 * - KMS throttling (after the client's retries) → 429 `kms_throttled`
 * - KMS unreachable → 503 `kms_unavailable`; KMS 5xx → 502 `kms_error`
 * - a key KMS refuses (`Forbidden.*`, `Rejected.*`, disabled, no permission) → 403 `key_refused`
 * - KMS parameter errors → 400 `bad_request`
 * - a ciphertext that fails authentication or parsing → 422 `invalid_ciphertext`
 * - other kmsenv input errors → 400 `bad_request`
 * - anything else → 500 `internal` with a fixed message
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof KmsApiError) return fromKms(err);
  if (err instanceof EnvelopeError) {
    return new ApiError(422, "invalid_ciphertext", err.message);
  }
  if (err instanceof InputError) return new ApiError(400, "bad_request", err.message);
  if (err instanceof KmsenvError) {
    // Credentials and configuration problems of the server itself: not the client's fault.
    return new ApiError(502, "kms_error", err.message);
  }
  return new ApiError(500, "internal", "Internal server error");
}

function fromKms(err: KmsApiError): ApiError {
  const { code, status, message } = err;
  if (THROTTLING.test(code) || status === 429) {
    return new ApiError(429, "kms_throttled", message, { "retry-after": "1" });
  }
  if (status === 0 || KMS_DOWN.test(code) || status === 503) {
    return new ApiError(503, "kms_unavailable", message, { "retry-after": "1" });
  }
  if (status >= 500) return new ApiError(502, "kms_error", message);
  // The server's own credentials are wrong: a gateway problem, not the client's request.
  if (/AccessKey|Signature|SecurityToken|TimeStamp|Protocol/.test(code)) {
    return new ApiError(502, "kms_error", message);
  }
  if (code === "InvalidCiphertext" || code.startsWith("DecryptionFailed")) {
    return new ApiError(422, "invalid_ciphertext", message);
  }
  if (
    code.startsWith("Forbidden") || code.startsWith("Rejected.") || status === 403 ||
    status === 404 || status === 409
  ) {
    return new ApiError(403, "key_refused", message);
  }
  if (code.startsWith("Invalid") || code.startsWith("Missing") || status === 400) {
    return new ApiError(400, "bad_request", message);
  }
  return new ApiError(502, "kms_error", message);
}
