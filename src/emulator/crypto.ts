/**
 * The emulator's ciphertext blobs and encryption contexts.
 *
 * A CiphertextBlob is `base64( keyVersionId ‖ nonce ‖ AES-256-GCM(ct ‖ tag) )`:
 * the 36 ASCII characters of the key version UUID (so Decrypt finds the key
 * without a KeyId, like real KMS blobs, which also start with the version id),
 * a 12-byte random nonce, then the ciphertext with its 16-byte tag. The
 * additional data is the version id followed by the canonical encryption
 * context, so a blob only opens under the same key version and an equivalent
 * context. The sealed payload is the caller's base64 text itself, which is
 * why Decrypt returns exactly the string that was encrypted.
 *
 * @module
 */

import { invalidParameter, KmsApiFault } from "./api_error.ts";

/** Length of a key version id (a UUID in canonical text form). */
export const VERSION_ID_LENGTH = 36;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_CONTEXT_CHARS = 8192;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** An encryption context: a flat map of strings. */
export type Context = Record<string, string>;

/**
 * Parses an `EncryptionContext` parameter: a JSON object whose values are all
 * strings, at most 8192 characters of JSON text. Absent means `{}`.
 */
export function parseContext(text: string | undefined, name = "EncryptionContext"): Context {
  if (text === undefined || text === "") return {};
  if (text.length > MAX_CONTEXT_CHARS) {
    throw invalidParameter(`${name} is longer than ${MAX_CONTEXT_CHARS} characters.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidParameter(`${name} is not valid JSON.`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidParameter(`${name} must be a JSON object.`);
  }
  const context: Context = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      throw invalidParameter(`${name} values must be strings.`);
    }
    context[key] = v;
  }
  return context;
}

/**
 * The canonical JSON text of a context: keys sorted by code unit, no
 * whitespace. Two contexts are equivalent exactly when their canonical texts
 * are equal, whatever order or spacing the caller used.
 */
export function canonicalContext(context: Context): string {
  const sorted: Context = {};
  for (const key of Object.keys(context).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    sorted[key] = context[key]!;
  }
  return JSON.stringify(sorted);
}

function aad(versionId: string, context: Context): Uint8Array<ArrayBuffer> {
  return encoder.encode(versionId + canonicalContext(context));
}

/** Imports 32 bytes of key material as a non-extractable AES-256-GCM key. */
export function importMaterial(material: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  if (material.length !== 32) throw new Error("Key material must be 32 bytes");
  return crypto.subtle.importKey("raw", material, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** Seals `plaintext` (base64 text) under one key version, bound to `context`. */
export async function sealBlob(
  versionId: string,
  key: CryptoKey,
  plaintext: string,
  context: Context,
): Promise<string> {
  if (!UUID.test(versionId)) throw new Error("Key version ids must be lower-case UUIDs");
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad(versionId, context) },
      key,
      encoder.encode(plaintext),
    ),
  );
  const blob = new Uint8Array(VERSION_ID_LENGTH + NONCE_LENGTH + sealed.length);
  blob.set(encoder.encode(versionId), 0);
  blob.set(nonce, VERSION_ID_LENGTH);
  blob.set(sealed, VERSION_ID_LENGTH + NONCE_LENGTH);
  return blob.toBase64();
}

/** A blob split into its parts, before authentication. */
export interface ParsedBlob {
  versionId: string;
  nonce: Uint8Array<ArrayBuffer>;
  sealed: Uint8Array<ArrayBuffer>;
}

/**
 * Splits a CiphertextBlob. Anything that is not base64 of a version id,
 * nonce and at least a tag is `InvalidParameter` (emulator choice, KMS-API.md §4.4).
 */
export function parseBlob(text: string): ParsedBlob {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new Error("not base64");
    bytes = Uint8Array.fromBase64(text);
  } catch {
    throw invalidParameter("CiphertextBlob is not valid base64.");
  }
  if (bytes.length < VERSION_ID_LENGTH + NONCE_LENGTH + TAG_LENGTH) {
    throw invalidParameter("CiphertextBlob is too short.");
  }
  const versionId = String.fromCharCode(...bytes.subarray(0, VERSION_ID_LENGTH));
  if (!UUID.test(versionId)) throw invalidParameter("CiphertextBlob is not a KMS ciphertext.");
  return {
    versionId,
    nonce: bytes.slice(VERSION_ID_LENGTH, VERSION_ID_LENGTH + NONCE_LENGTH),
    sealed: bytes.slice(VERSION_ID_LENGTH + NONCE_LENGTH),
  };
}

/**
 * Authenticates and decrypts a parsed blob. A wrong context, a tampered blob
 * and a blob from another key all fail the same way, with `InvalidParameter`
 * 400 (emulator choice; KMS documents no code for this, KMS-API.md §4.4).
 */
export async function openBlob(
  blob: ParsedBlob,
  key: CryptoKey,
  context: Context,
): Promise<string> {
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: blob.nonce, additionalData: aad(blob.versionId, context) },
      key,
      blob.sealed,
    );
  } catch {
    throw new KmsApiFault(
      "InvalidParameter",
      400,
      "The specified parameter is not valid. CiphertextBlob does not decrypt under this " +
        "EncryptionContext.",
    );
  }
  try {
    return decoder.decode(plain);
  } catch {
    throw invalidParameter("CiphertextBlob is not a KMS ciphertext.");
  }
}

/**
 * Checks an Encrypt `Plaintext`: standard base64 (padding optional, no
 * whitespace) of at most `maxBytes` bytes. Returns the decoded length.
 */
export function checkBase64Plaintext(text: string, maxBytes: number): number {
  let length: number;
  try {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new Error("not base64");
    length = Uint8Array.fromBase64(text).length;
  } catch {
    throw new KmsApiFault(
      "InvalidParameter",
      400,
      "The specified parameter is invalid. Plaintext must be Base64 encoded.",
    );
  }
  if (length > maxBytes) {
    throw new KmsApiFault(
      "InvalidParameter",
      400,
      `The specified parameter is invalid. Plaintext is longer than ${maxBytes} bytes.`,
    );
  }
  return length;
}
