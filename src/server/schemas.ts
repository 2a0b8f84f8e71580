/**
 * The request shapes of the JSON API and the key/context parameters of the
 * streaming API, validated with zod. Validation messages are built here from
 * the field path and a fixed phrase, never from zod's output or from the
 * input, so no submitted value (a secret, perhaps) is ever echoed back.
 *
 * @module
 */

import { z } from "zod";
import type { EncryptionContext } from "../kms/types.ts";
import { ApiError } from "./http_error.ts";

/** At most this many CMKs per request (one slot each in the header). */
export const MAX_KEYS = 8;
/** At most this many encryption-context pairs. */
export const MAX_CONTEXT_PAIRS = 32;

const keyRef = z.string().min(1).max(512);
const context = z.record(z.string().min(1).max(256), z.string().max(1024)).refine(
  (c) => Object.keys(c).length <= MAX_CONTEXT_PAIRS,
);

/** `POST /v1/encrypt` with `application/json`. */
export const EncryptJson = z.strictObject({
  /** Base64 of the secret. */
  plaintext: z.string(),
  /** A CMK, or several (each gets a key slot); default: the server's `--key`. */
  key: z.union([keyRef, z.array(keyRef).min(1).max(MAX_KEYS)]).optional(),
  context: context.optional(),
});

/** `POST /v1/decrypt` with `application/json`. */
export const DecryptJson = z.strictObject({
  /** Base64 of a kmsenv v1 message. */
  ciphertext: z.string(),
  /** If given, the message's context must equal it exactly. */
  context: context.optional(),
});

/** Parses `input` with `schema`, or throws a 400 {@link ApiError} naming the first bad field. */
export function parseBody<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "";
  let what: string;
  switch (issue?.code) {
    case "unrecognized_keys":
      what = `unknown field${issue.keys.length > 1 ? "s" : ""} ${
        issue.keys.map((k) => `'${k}'`).join(", ")
      }`;
      break;
    case "invalid_type":
      what = path ? `field '${path}' must be ${article(issue.expected)}` : "body must be an object";
      break;
    case "too_small":
    case "too_big":
      what = `field '${path}' is ${issue.code === "too_small" ? "too short" : "too long"}`;
      break;
    default:
      what = path ? `field '${path}' is invalid` : "body is invalid";
  }
  throw new ApiError(400, "invalid_request", `Invalid request body: ${what}`);
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** Decodes standard base64, or throws a 400 naming `field`. */
export function decodeBase64Field(value: string, field: string): Uint8Array {
  try {
    return Uint8Array.fromBase64(value);
  } catch {
    throw new ApiError(
      400,
      "invalid_request",
      `Invalid request body: field '${field}' is not base64`,
    );
  }
}

/** Normalises the JSON `key` field to a list. */
export function keyList(key: string | string[] | undefined): string[] {
  if (key === undefined) return [];
  return typeof key === "string" ? [key] : key;
}

/**
 * Reads the CMKs of a streaming request: `?key=K` (repeatable) or
 * `X-Kmsenv-Key: K1, K2`.
 */
export function keysFromRequest(url: URL, header: string | undefined): string[] {
  const keys = url.searchParams.getAll("key");
  if (header) keys.push(...header.split(",").map((k) => k.trim()).filter((k) => k !== ""));
  const parsed = z.array(keyRef).max(MAX_KEYS).safeParse(keys);
  if (!parsed.success) {
    throw new ApiError(400, "invalid_request", `Invalid key parameter: at most ${MAX_KEYS} keys`);
  }
  return parsed.data;
}

/**
 * Reads the encryption context of a streaming request: `?context=k=v`
 * (repeatable) or `X-Kmsenv-Context: k=v, k2=v2` (percent-encode `,` `=` `%`
 * inside names and values). Returns `undefined` when none is given.
 */
export function contextFromRequest(
  url: URL,
  header: string | undefined,
): EncryptionContext | undefined {
  const pairs = url.searchParams.getAll("context");
  if (header) {
    for (const item of header.split(",")) {
      const t = item.trim();
      if (t === "") continue;
      const eq = t.indexOf("=");
      try {
        pairs.push(
          eq < 0
            ? decodeURIComponent(t)
            : `${decodeURIComponent(t.slice(0, eq))}=${decodeURIComponent(t.slice(eq + 1))}`,
        );
      } catch {
        throw new ApiError(
          400,
          "invalid_request",
          "Invalid context parameter: bad percent-encoding",
        );
      }
    }
  }
  if (pairs.length === 0) return undefined;
  const out: EncryptionContext = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = eq < 0 ? "" : pair.slice(0, eq);
    if (name === "") {
      throw new ApiError(400, "invalid_request", "Invalid context parameter: expected NAME=VALUE");
    }
    if (Object.hasOwn(out, name)) {
      throw new ApiError(400, "invalid_request", `Invalid context parameter: '${name}' repeated`);
    }
    out[name] = pair.slice(eq + 1);
  }
  const parsed = context.safeParse(out);
  if (!parsed.success) {
    throw new ApiError(400, "invalid_request", "Invalid context parameter: too many or too long");
  }
  return parsed.data;
}
