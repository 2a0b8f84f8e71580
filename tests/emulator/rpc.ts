/**
 * Raw signed KMS requests for the emulator tests, built with the project's
 * own src/kms/sign.ts and sent with fetch, so each test controls every byte:
 * method, where parameters travel, timestamp, nonce and token.
 */

import { buildSignedParams, encodeForm } from "../../src/kms/sign.ts";

/** Who signs: an AccessKey pair and an optional STS token. */
export interface Signer {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** How to send one request. */
export interface CallOptions {
  method?: "GET" | "POST";
  /** POST only: parameters in the form body (default) or all in the query. */
  placement?: "body" | "query";
  timestamp?: string;
  nonce?: string;
  version?: string;
  /** Change the parameters after signing (to test tampering). */
  tamper?: (params: Record<string, string>) => void;
}

/** A parsed JSON response body (tests read fields freely). */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** A response: status, headers and the parsed JSON body. */
export interface RpcResult {
  status: number;
  headers: Headers;
  body: Json;
}

/** Builds the URL and fetch init of a signed request without sending it. */
export async function signedRequest(
  signer: Signer,
  action: string,
  params: Record<string, string> = {},
  options: CallOptions = {},
): Promise<{ url: string; init: RequestInit }> {
  const method = options.method ?? "POST";
  const signed = await buildSignedParams({
    method,
    action,
    version: options.version ?? "2016-01-20",
    accessKeyId: signer.accessKeyId,
    accessKeySecret: signer.accessKeySecret,
    securityToken: signer.securityToken,
    params,
    timestamp: options.timestamp,
    nonce: options.nonce,
  });
  options.tamper?.(signed);
  const encoded = encodeForm(signed);
  if (method === "GET" || options.placement === "query") {
    return { url: `${signer.endpoint}/?${encoded}`, init: { method } };
  }
  return {
    url: `${signer.endpoint}/`,
    init: {
      method,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: encoded,
    },
  };
}

/** Sends a request as built by {@link signedRequest}. */
export async function send(request: { url: string; init: RequestInit }): Promise<RpcResult> {
  const res = await fetch(request.url, request.init);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Signs and sends one KMS request. */
export async function call(
  signer: Signer,
  action: string,
  params: Record<string, string> = {},
  options: CallOptions = {},
): Promise<RpcResult> {
  return await send(await signedRequest(signer, action, params, options));
}

/** Like {@link call} but fails the test unless the answer is 200; returns the body. */
export async function ok(
  signer: Signer,
  action: string,
  params: Record<string, string> = {},
): Promise<Json> {
  const r = await call(signer, action, params);
  if (r.status !== 200) {
    throw new Error(`${action} failed: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return r.body;
}

/** Creates a key (and optionally an alias) and returns its id. */
export async function createKey(signer: Signer, alias?: string): Promise<string> {
  const { KeyMetadata } = await ok(signer, "CreateKey", { Description: "test key" });
  if (alias) await ok(signer, "CreateAlias", { AliasName: alias, KeyId: KeyMetadata.KeyId });
  return KeyMetadata.KeyId;
}

/** Asserts the documented error body and status; returns the body. */
export function expectError(r: RpcResult, code: string, status: number): Json {
  if (r.status !== status || r.body?.Code !== code) {
    throw new Error(
      `expected ${code} ${status}, got ${r.status} ${JSON.stringify(r.body)}`,
    );
  }
  const keys = Object.keys(r.body).sort();
  const expected = ["Code", "HostId", "HttpStatus", "Message", "Recommend", "RequestId"];
  if (JSON.stringify(keys) !== JSON.stringify(expected)) {
    throw new Error(`error body fields ${keys.join(",")}`);
  }
  if (r.body.HttpStatus !== status) throw new Error("HttpStatus differs from the status");
  return r.body;
}
