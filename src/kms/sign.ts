/**
 * Alibaba Cloud RPC signature version 1.0 (HMAC-SHA1), KMS-API.md §1.
 * Pure functions: the caller supplies timestamp and nonce, so the published
 * test vectors reproduce exactly. HMAC runs on WebCrypto.
 *
 * @module
 */

/**
 * POP percent-encoding: RFC 3986 unreserved characters stay, everything else
 * becomes upper-case `%XY` of its UTF-8 bytes (space is `%20`, `*` is `%2A`).
 */
export function popEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** The canonicalized query string: every parameter but `Signature`, sorted by name. */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((name) => name !== "Signature")
    .sort(compareCodePoints)
    .map((name) => `${popEncode(name)}=${popEncode(params[name] ?? "")}`)
    .join("&");
}

/** Sorts by UTF-16 code units, which equals byte order for the ASCII names RPC uses. */
function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `METHOD&%2F&` followed by the percent-encoded canonical query string. */
export function stringToSign(method: string, params: Record<string, string>): string {
  return `${method}&${popEncode("/")}&${popEncode(canonicalQuery(params))}`;
}

const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  // Imported keys are cached per secret so a busy client does not re-import
  // on every request; the cache is tiny (one entry per credential in use).
  let key = keyCache.get(secret);
  if (!key) {
    if (keyCache.size > 16) keyCache.clear();
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret + "&"),
      { name: "HMAC", hash: "SHA-1" },
      false,
      ["sign"],
    );
    keyCache.set(secret, key);
  }
  return key;
}

/** Base64 HMAC-SHA1 of a string-to-sign with key `secret + "&"`. */
export async function hmacSha1Base64(secret: string, text: string): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    new TextEncoder().encode(text),
  );
  return new Uint8Array(mac).toBase64();
}

/**
 * Computes the RPC v1 signature of a request.
 *
 * @param method The real HTTP method, `GET` or `POST`.
 * @param params Every request parameter (query and form body), `Signature` is ignored.
 * @param secret The AccessKey secret.
 * @returns The base64 signature, e.g. `OLeaidS1JvxuMvnyHOwuJ+uX5qY=` for Alibaba's doc example.
 */
export function signRpc(
  method: string,
  params: Record<string, string>,
  secret: string,
): Promise<string> {
  return hmacSha1Base64(secret, stringToSign(method, params));
}

/** `YYYY-MM-DDThh:mm:ssZ` in UTC, without milliseconds, as RPC requires. */
export function rpcTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A fresh random nonce (UUIDv4), as the docs recommend. */
export function rpcNonce(): string {
  return crypto.randomUUID();
}

/** Parameters of one signed request, before the signature is added. */
export interface SignedRequestInput {
  method: "GET" | "POST";
  action: string;
  version: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
  params: Record<string, string>;
  /** Fixed for tests; a new one per attempt otherwise. */
  timestamp?: string | undefined;
  nonce?: string | undefined;
}

/**
 * Builds the complete parameter set of an RPC request, including `Signature`.
 * Encode it with {@link encodeForm} for a body or query string.
 */
export async function buildSignedParams(
  input: SignedRequestInput,
): Promise<Record<string, string>> {
  const params: Record<string, string> = {
    ...input.params,
    Action: input.action,
    Version: input.version,
    Format: "JSON",
    AccessKeyId: input.accessKeyId,
    SignatureMethod: "HMAC-SHA1",
    SignatureVersion: "1.0",
    SignatureNonce: input.nonce ?? rpcNonce(),
    Timestamp: input.timestamp ?? rpcTimestamp(),
  };
  if (input.securityToken) params.SecurityToken = input.securityToken;
  params.Signature = await signRpc(input.method, params, input.accessKeySecret);
  return params;
}

/** `name=value&…` with POP encoding, for a form body or a query string. */
export function encodeForm(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([name, value]) => `${popEncode(name)}=${popEncode(value)}`)
    .join("&");
}
