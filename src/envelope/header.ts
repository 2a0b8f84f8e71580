/**
 * The v1 preamble and header (docs/FORMAT.md §2–§3): encoding to exact,
 * canonical bytes, strict parsing (zod plus a canonical-form check, so every
 * header has exactly one byte encoding), the bound digest that feeds key
 * derivation, and reading a header from a stream or a file.
 *
 * @module
 */

import { z } from "zod";
import type { EncryptionContext } from "../kms/types.ts";
import { readFullSync, StreamByteReader, type SyncReader } from "./byte_reader.ts";
import { DecryptError } from "./errors.ts";
import { InputError } from "../errors.ts";

/** First 7 bytes of every v1 file: ASCII "KMSENV" and a NUL (marks the file as binary). */
export const MAGIC: Uint8Array = new Uint8Array([0x4b, 0x4d, 0x53, 0x45, 0x4e, 0x56, 0x00]);
/** Format version byte that follows the magic. */
export const VERSION = 1;
/** Magic + version. */
export const PREAMBLE_LENGTH = 8;
/** Preamble + u32be header-body length. */
export const PREFIX_LENGTH = 12;
/** Largest header body accepted, checked before anything is allocated. */
export const MAX_HEADER_BODY_LENGTH = 1 << 20;
/** The only suite of format v1. */
export const SUITE = "AES256GCM-HKDF-SHA256";
/** Smallest and largest allowed segment sizes (plaintext bytes per segment). */
export const MIN_SEGMENT_SIZE = 4096;
export const MAX_SEGMENT_SIZE = 64 << 20;
/** Default segment size; see docs/FORMAT.md §7 for the measurements behind it. */
export const DEFAULT_SEGMENT_SIZE = 1 << 20;
export const SALT_LENGTH = 32;
export const NONCE_PREFIX_LENGTH = 7;
export const COMMITMENT_LENGTH = 32;
export const TAG_LENGTH = 16;
/** Most key slots one file may carry. */
export const MAX_SLOTS = 16;
/** Longest canonical JSON text of an encryption context (KMS's own limit, in characters). */
export const MAX_CONTEXT_JSON_LENGTH = 8192;
/** Longest base64 CiphertextBlob accepted in a slot. */
export const MAX_BLOB_LENGTH = 8192;

/** One copy of the data key, wrapped by one CMK. Not authenticated by the format (FORMAT.md §6). */
export interface KeySlot {
  /** KMS region id, e.g. `cn-hangzhou`. */
  region: string;
  /** The CMK id (or ARN) KMS reported for the wrap. */
  keyId: string;
  /** The CMK version KMS reported (may be empty). */
  keyVersionId: string;
  /** KMS CiphertextBlob, standard base64 with padding, exactly as KMS returned it. */
  ciphertextBlob: string;
}

/** The header fields that are written (everything except the derived `headerLength`). */
export interface HeaderFields {
  segmentSize: number;
  salt: Uint8Array;
  noncePrefix: Uint8Array;
  context: EncryptionContext;
  commitment: Uint8Array;
  slots: KeySlot[];
}

/** A parsed, validated v1 header. */
export interface Header extends HeaderFields {
  version: 1;
  suite: typeof SUITE;
  /** Bytes before the first segment: preamble, length field and header body. */
  headerLength: number;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Compare strings by UTF-8 bytes, which equals Unicode code point order. */
function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/**
 * Canonical JSON of an encryption context: keys in code point order, strings
 * escaped exactly as `JSON.stringify` does. Built by hand because JS objects
 * enumerate integer-like keys ("1", "2") first, whatever the insertion order.
 */
export function canonicalContextJson(context: EncryptionContext): string {
  const keys = Object.keys(context).sort(compareCodePoints);
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + JSON.stringify(context[k])).join(",") +
    "}";
}

function boundJson(h: HeaderFields): string {
  return '{"suite":' + JSON.stringify(SUITE) +
    ',"segmentSize":' + String(h.segmentSize) +
    ',"salt":' + JSON.stringify(h.salt.toBase64()) +
    ',"noncePrefix":' + JSON.stringify(h.noncePrefix.toBase64()) +
    ',"context":' + canonicalContextJson(h.context) + "}";
}

function headerJson(h: HeaderFields): string {
  const slots = h.slots.map((s) =>
    '{"region":' + JSON.stringify(s.region) +
    ',"keyId":' + JSON.stringify(s.keyId) +
    ',"keyVersionId":' + JSON.stringify(s.keyVersionId) +
    ',"ciphertextBlob":' + JSON.stringify(s.ciphertextBlob) + "}"
  );
  // The bound part is a literal prefix of the header text (without its closing brace).
  return boundJson(h).slice(0, -1) +
    ',"commitment":' + JSON.stringify(h.commitment.toBase64()) +
    ',"slots":[' + slots.join(",") + "]}";
}

/**
 * SHA-256 over preamble ‖ canonical bound JSON (FORMAT.md §4). It goes into
 * the HKDF info, so changing any bound field changes the payload key and the
 * commitment value.
 */
export async function boundDigest(h: HeaderFields): Promise<Uint8Array> {
  const json = encoder.encode(boundJson(h));
  const input = new Uint8Array(PREAMBLE_LENGTH + json.length);
  input.set(MAGIC);
  input[MAGIC.length] = VERSION;
  input.set(json, PREAMBLE_LENGTH);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
}

// ---- validation ------------------------------------------------------------

const printable = /^[\x21-\x7e]+$/;
function base64Bytes(length: number) {
  return z.string().refine((s) => decodeBase64(s)?.length === length, {
    message: `must be base64 of exactly ${length} bytes`,
  });
}

/** Strict standard base64 (with padding) or undefined. */
function decodeBase64(s: string): Uint8Array | undefined {
  try {
    const b = Uint8Array.fromBase64(s, { lastChunkHandling: "strict" });
    return b.toBase64() === s ? b : undefined;
  } catch {
    return undefined;
  }
}

const contextSchema = z.custom<EncryptionContext>((v) => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  return Object.entries(v).every(([k, x]) =>
    k.length > 0 && k.isWellFormed() && typeof x === "string" && x.isWellFormed()
  );
}, { message: "must be an object of non-empty keys to well-formed strings" });

const slotSchema = z.strictObject({
  region: z.string().regex(/^[a-z0-9-]{1,64}$/, "must be a region id like cn-hangzhou"),
  keyId: z.string().max(1024).regex(printable, "must be printable ASCII without spaces"),
  keyVersionId: z.string().max(256).regex(/^[\x21-\x7e]*$/, "must be printable ASCII"),
  ciphertextBlob: z.string().max(MAX_BLOB_LENGTH).refine(
    (s) => (decodeBase64(s)?.length ?? 0) > 0,
    {
      message: "must be non-empty standard base64",
    },
  ),
});

const headerSchema = z.strictObject({
  suite: z.literal(SUITE),
  segmentSize: z.number().int().min(MIN_SEGMENT_SIZE).max(MAX_SEGMENT_SIZE),
  salt: base64Bytes(SALT_LENGTH),
  noncePrefix: base64Bytes(NONCE_PREFIX_LENGTH),
  context: contextSchema,
  commitment: base64Bytes(COMMITMENT_LENGTH),
  slots: z.array(slotSchema).min(1).max(MAX_SLOTS),
});

/**
 * The first few validation issues as one line. Issues can quote attacker-chosen
 * text (an unknown member name), so control and non-ASCII characters are
 * escaped and the length is capped: the message goes to a terminal.
 */
function describeIssues(error: z.ZodError): string {
  const text = error.issues.slice(0, 3).map((i) =>
    (i.path.length ? i.path.join(".") + ": " : "") + i.message
  ).join("; ");
  const safe = text.replace(
    /[^\x20-\x7e]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
  return safe.length > 300 ? safe.slice(0, 300) + "…" : safe;
}

/** Check encryption-time inputs; throws InputError (a usage problem, not a bad file). */
export function validateFields(h: HeaderFields): void {
  const r = headerSchema.safeParse({
    suite: SUITE,
    segmentSize: h.segmentSize,
    salt: h.salt.toBase64(),
    noncePrefix: h.noncePrefix.toBase64(),
    context: h.context,
    commitment: h.commitment.toBase64(),
    slots: h.slots,
  });
  if (!r.success) throw new InputError(`Cannot write kmsenv header: ${describeIssues(r.error)}`);
  if (canonicalContextJson(h.context).length > MAX_CONTEXT_JSON_LENGTH) {
    throw new InputError(
      `Cannot write kmsenv header: encryption context exceeds ${MAX_CONTEXT_JSON_LENGTH} characters`,
    );
  }
}

/** Encode preamble ‖ u32be(length) ‖ canonical header JSON. Validates first. */
export function encodeHeader(h: HeaderFields): Uint8Array<ArrayBuffer> {
  validateFields(h);
  const body = encoder.encode(headerJson(h));
  if (body.length > MAX_HEADER_BODY_LENGTH) {
    throw new InputError(`Cannot write kmsenv header: it exceeds ${MAX_HEADER_BODY_LENGTH} bytes`);
  }
  const out = new Uint8Array(PREFIX_LENGTH + body.length);
  out.set(MAGIC);
  out[MAGIC.length] = VERSION;
  new DataView(out.buffer).setUint32(PREAMBLE_LENGTH, body.length);
  out.set(body, PREFIX_LENGTH);
  return out;
}

function invalid(detail: string): DecryptError {
  return new DecryptError("header", `Cannot decrypt: invalid kmsenv header (${detail})`);
}

/** Parse and strictly validate a header body (the bytes after the length field). */
export function parseHeaderBody(body: Uint8Array): Header {
  let text: string;
  let raw: unknown;
  try {
    text = strictDecoder.decode(body);
    raw = JSON.parse(text);
  } catch {
    throw invalid("not UTF-8 JSON");
  }
  const r = headerSchema.safeParse(raw);
  if (!r.success) throw invalid(describeIssues(r.error));
  const v = r.data;
  const fields: HeaderFields = {
    segmentSize: v.segmentSize,
    salt: Uint8Array.fromBase64(v.salt),
    noncePrefix: Uint8Array.fromBase64(v.noncePrefix),
    // fromEntries defines own properties, so even a "__proto__" key survives.
    context: Object.fromEntries(Object.entries(v.context)),
    commitment: Uint8Array.fromBase64(v.commitment),
    slots: v.slots.map((s) => ({ ...s })),
  };
  if (canonicalContextJson(fields.context).length > MAX_CONTEXT_JSON_LENGTH) {
    throw invalid(`encryption context exceeds ${MAX_CONTEXT_JSON_LENGTH} characters`);
  }
  // One header, one encoding: reject whitespace, other key orders, escapes
  // and duplicate keys, so the bytes are exactly what encodeHeader writes.
  if (headerJson(fields) !== text) throw invalid("not in canonical form");
  return {
    version: 1,
    suite: SUITE,
    ...fields,
    headerLength: PREFIX_LENGTH + body.length,
  };
}

/** Parse the 12-byte prefix; returns the body length. `prefix` may be short at end of input. */
function checkPrefix(prefix: Uint8Array): number {
  if (prefix.length === 0) {
    throw new DecryptError("empty", "Cannot decrypt: the file is empty");
  }
  const m = Math.min(prefix.length, MAGIC.length);
  for (let i = 0; i < m; i++) {
    if (prefix[i] !== MAGIC[i]) {
      throw new DecryptError("not-kmsenv", "Cannot decrypt: not a kmsenv file (bad magic)");
    }
  }
  if (prefix.length > MAGIC.length && prefix[MAGIC.length] !== VERSION) {
    throw new DecryptError(
      "unsupported-version",
      `Cannot decrypt: unsupported kmsenv format version ${prefix[MAGIC.length]}` +
        ` (this kmsenv reads version ${VERSION})`,
      { hint: "Upgrade kmsenv to read files written by a newer version" },
    );
  }
  if (prefix.length < PREFIX_LENGTH) throw truncatedHeader();
  const length = new DataView(prefix.buffer, prefix.byteOffset).getUint32(PREAMBLE_LENGTH);
  if (length > MAX_HEADER_BODY_LENGTH) {
    throw invalid(`header length ${length} exceeds ${MAX_HEADER_BODY_LENGTH}`);
  }
  if (length < 2) throw invalid(`header length ${length} is too small`);
  return length;
}

function truncatedHeader(): DecryptError {
  return new DecryptError("truncated", "Cannot decrypt: file is truncated (inside the header)");
}

/** Read and validate a header from a byte reader; leaves the reader at the first segment. */
export async function readHeaderFrom(reader: StreamByteReader): Promise<Header> {
  const length = checkPrefix(await reader.read(PREFIX_LENGTH));
  const body = await reader.read(length);
  if (body.length < length) throw truncatedHeader();
  return parseHeaderBody(body);
}

/** Read and validate a header from a file at its current position (normally 0), synchronously. */
export function readHeaderSync(file: SyncReader): Header {
  const prefix = new Uint8Array(PREFIX_LENGTH);
  const n = readFullSync(file, prefix);
  const length = checkPrefix(prefix.subarray(0, n));
  const body = new Uint8Array(length);
  if (readFullSync(file, body) < length) throw truncatedHeader();
  return parseHeaderBody(body);
}

/** Result of {@link readHeader}: the header and where the payload segments continue. */
export interface ReadHeaderResult<S> {
  header: Header;
  /**
   * The payload: for a stream, a new stream that yields the bytes after the
   * header; for a file, the same file, positioned at `header.headerLength`.
   */
  payload: S;
}

/**
 * Read and validate the header of a v1 file from a stream or from a file (at
 * its current position). Throws {@link DecryptError}: kind `empty`,
 * `not-kmsenv`, `unsupported-version`, `truncated` or `header`.
 */
export function readHeader(
  source: ReadableStream<Uint8Array>,
): Promise<ReadHeaderResult<ReadableStream<Uint8Array>>>;
export function readHeader(source: Deno.FsFile): Promise<ReadHeaderResult<Deno.FsFile>>;
export async function readHeader(
  source: ReadableStream<Uint8Array> | Deno.FsFile,
): Promise<ReadHeaderResult<ReadableStream<Uint8Array> | Deno.FsFile>> {
  if (source instanceof ReadableStream) {
    const reader = new StreamByteReader(source);
    try {
      const header = await readHeaderFrom(reader);
      return { header, payload: reader.toStream() };
    } catch (err) {
      await reader.cancel(err);
      throw err;
    }
  }
  return { header: readHeaderSync(source), payload: source };
}

/** A copy of `header` with other key slots (for rewrap); the bound part is unchanged. */
export function withSlots(header: HeaderFields, slots: KeySlot[]): HeaderFields {
  return {
    segmentSize: header.segmentSize,
    salt: header.salt,
    noncePrefix: header.noncePrefix,
    context: header.context,
    commitment: header.commitment,
    slots,
  };
}
