/**
 * KMS API errors as the emulator answers them: a code, an HTTP status and the
 * message Alibaba's gateway uses (KMS-API.md §4.2). Thrown anywhere inside
 * request handling and turned into the five-field POP error body (plus
 * `HttpStatus`) by the app.
 *
 * @module
 */

/** One error answer of the emulated KMS API. */
export class KmsApiFault extends Error {
  /** Extra response headers, e.g. `x-acs-retry-after` for throttling. */
  readonly headers: Record<string, string>;
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "KmsApiFault";
    this.headers = headers;
  }
}

/** `Missing<Param>` 400, the POP convention for an absent parameter. */
export function missing(param: string): KmsApiFault {
  return new KmsApiFault(`Missing${param}`, 400, `${param} is mandatory for this action.`);
}

/** `InvalidParameter` 400. `detail` names the parameter; it never quotes secret values. */
export function invalidParameter(detail?: string): KmsApiFault {
  const base = "The specified parameter is not valid.";
  return new KmsApiFault("InvalidParameter", 400, detail ? `${base} ${detail}` : base);
}

/** `Forbidden.KeyNotFound` 404. */
export function keyNotFound(): KmsApiFault {
  return new KmsApiFault("Forbidden.KeyNotFound", 404, "The specified Key is not found.");
}

/** `Forbidden.AliasNotFound` 404. */
export function aliasNotFound(): KmsApiFault {
  return new KmsApiFault("Forbidden.AliasNotFound", 404, "The specified Alias is not found.");
}

/** `Rejected.<State>` 409 for a crypto call on a key that is not Enabled. */
export function rejectedState(state: string): KmsApiFault {
  return new KmsApiFault(
    `Rejected.${state}`,
    409,
    `The request was rejected because the key state is ${state}.`,
  );
}

/** `Rejected.StateModifiedFailed` 409 for an illegal state transition. */
export function stateModifiedFailed(): KmsApiFault {
  return new KmsApiFault("Rejected.StateModifiedFailed", 409, "Keystate modified failed.");
}

/** `UnsupportedOperation` 400 for what the emulator (or KMS) does not offer. */
export function unsupported(detail?: string): KmsApiFault {
  const base = "This action is not supported.";
  return new KmsApiFault("UnsupportedOperation", 400, detail ? `${base} ${detail}` : base);
}
