/**
 * Request authentication as the POP gateway does it, in the order of
 * KMS-API.md §1.7: required common parameters, signature method and version,
 * timestamp window, AccessKey, STS token, signature, then nonce replay.
 *
 * @module
 */

import { stringToSign } from "../kms/sign.ts";
import { hmacSha1Base64 } from "../kms/sign.ts";
import { KmsApiFault, missing } from "./api_error.ts";

/** How far a request Timestamp may be from the server clock (±15 min). */
export const TIMESTAMP_WINDOW_MS = 15 * 60 * 1000;

/** Parameters every signed request must carry, checked in this order. */
const REQUIRED = [
  "AccessKeyId",
  "Signature",
  "SignatureMethod",
  "SignatureVersion",
  "SignatureNonce",
  "Timestamp",
] as const;

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** STS credentials issued by the emulator, bound to their token and expiry. */
export interface StsCredentials {
  AccessKeyId: string;
  AccessKeySecret: string;
  SecurityToken: string;
  /** `YYYY-MM-DDThh:mm:ssZ`, as STS AssumeRole returns it. */
  Expiration: string;
}

interface Principal {
  secret: string;
  token?: string;
  expiresAt?: number;
}

/** The AccessKeys the emulator accepts and the nonces it has seen per key. */
export class Credentials {
  readonly #principals = new Map<string, Principal>();
  readonly #tokens = new Map<string, string>();
  readonly #nonces = new Map<string, Map<string, number>>();

  constructor(accessKeyId: string, accessKeySecret: string) {
    this.#principals.set(accessKeyId, { secret: accessKeySecret });
  }

  /**
   * Issues STS-style credentials: an `STS.` AccessKey whose requests must
   * carry exactly this SecurityToken until `expiresAt`.
   */
  issueSts(expiresAt: Date): StsCredentials {
    const accessKeyId = "STS." + randomText(24);
    const secret = randomText(30);
    // Real tokens are long opaque base64; length and alphabet matter for encoding tests.
    const token = crypto.getRandomValues(new Uint8Array(96)).toBase64();
    this.#principals.set(accessKeyId, { secret, token, expiresAt: expiresAt.getTime() });
    this.#tokens.set(token, accessKeyId);
    return {
      AccessKeyId: accessKeyId,
      AccessKeySecret: secret,
      SecurityToken: token,
      Expiration: expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
  }

  /**
   * Checks everything but the nonce and returns the verified AccessKey id.
   * Throws the gateway's error for the first problem found.
   */
  async verify(method: string, params: Record<string, string>, now: number): Promise<string> {
    for (const name of REQUIRED) {
      if (params[name] === undefined || params[name] === "") throw missing(name);
    }
    if (params.SignatureMethod !== "HMAC-SHA1") {
      throw new KmsApiFault(
        "InvalidParameter",
        400,
        "The specified parameter is not valid. SignatureMethod must be HMAC-SHA1.",
      );
    }
    if (params.SignatureVersion !== "1.0") {
      throw new KmsApiFault(
        "InvalidParameter",
        400,
        "The specified parameter is not valid. SignatureVersion must be 1.0.",
      );
    }
    const time = parseTimestamp(params.Timestamp!);
    if (time === undefined) {
      throw new KmsApiFault(
        "InvalidTimeStamp.Format",
        400,
        "Specified time stamp or date value is not well formatted.",
      );
    }
    if (Math.abs(time - now) > TIMESTAMP_WINDOW_MS) {
      throw new KmsApiFault(
        "InvalidTimeStamp.Expired",
        400,
        "Specified time stamp or date value is expired.",
      );
    }
    const accessKeyId = params.AccessKeyId!;
    const principal = this.#principals.get(accessKeyId);
    if (!principal) {
      throw new KmsApiFault(
        "InvalidAccessKeyId.NotFound",
        404,
        "Specified access key is not found.",
      );
    }
    checkToken(principal, params.SecurityToken, this.#tokens.get(params.SecurityToken ?? ""), now);
    const expected = await hmacSha1Base64(principal.secret, stringToSign(method, params));
    if (!constantTimeEqual(expected, params.Signature!)) {
      throw new KmsApiFault(
        "SignatureDoesNotMatch",
        400,
        "Specified signature is not matched with our calculation. server string to sign is:" +
          stringToSign(method, params),
      );
    }
    return accessKeyId;
  }

  /** Whether this AccessKey already used `nonce` within the replay window. */
  nonceUsed(accessKeyId: string, nonce: string, now: number): boolean {
    const expiry = this.#nonces.get(accessKeyId)?.get(nonce);
    return expiry !== undefined && expiry > now;
  }

  /**
   * Remembers a nonce until its request could no longer pass the timestamp
   * check. Called only after the signature verified, so a forged request
   * cannot burn someone else's nonce, and not for requests answered with an
   * injected fault, so a client may retry them as they are.
   */
  recordNonce(accessKeyId: string, nonce: string, requestTime: number, now: number): void {
    let seen = this.#nonces.get(accessKeyId);
    if (!seen) this.#nonces.set(accessKeyId, seen = new Map());
    if (seen.size >= 4096) {
      for (const [n, expiry] of seen) if (expiry <= now) seen.delete(n);
    }
    // Kept a little past the window so clock rounding never reopens it.
    seen.set(nonce, Math.max(requestTime, now) + TIMESTAMP_WINDOW_MS + 1000);
  }
}

function checkToken(
  principal: Principal,
  token: string | undefined,
  tokenOwner: string | undefined,
  now: number,
): void {
  if (principal.token === undefined) {
    if (token === undefined || token === "") return;
    // A permanent AccessKey sent with a token: the pair cannot be valid.
    throw mismatch(tokenOwner !== undefined);
  }
  if (token === undefined || token === "") {
    throw new KmsApiFault(
      "MissingSecurityToken",
      400,
      "SecurityToken is mandatory for this action.",
    );
  }
  if (token !== principal.token) throw mismatch(tokenOwner !== undefined);
  if (principal.expiresAt !== undefined && principal.expiresAt <= now) {
    throw new KmsApiFault(
      "InvalidSecurityToken.Expired",
      400,
      "Specified SecurityToken is expired.",
    );
  }
}

function mismatch(knownToken: boolean): KmsApiFault {
  return knownToken
    ? new KmsApiFault(
      "InvalidSecurityToken.MismatchWithAccessKey",
      400,
      "Specified SecurityToken mismatch with the AccessKey.",
    )
    : new KmsApiFault(
      "InvalidSecurityToken.Malformed",
      400,
      "Specified SecurityToken is malformed.",
    );
}

/** Parses `YYYY-MM-DDThh:mm:ssZ` strictly (a real calendar date), in ms since the epoch. */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(time);
  // Date.UTC rolls 2024-02-30 over to March; a real timestamp round-trips.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return undefined;
  }
  return time;
}

function constantTimeEqual(a: string, b: string): boolean {
  // Signatures are short ASCII; compare without an early exit on the first difference.
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return diff === 0;
}

/** Random text from an alphanumeric alphabet, as AccessKey ids and secrets use. */
export function randomText(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  // 62 does not divide 256: reject bytes >= 248 so every character is equally likely.
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out += alphabet[byte % 62];
    }
  }
  return out;
}
