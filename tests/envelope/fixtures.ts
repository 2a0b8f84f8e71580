/**
 * Shared fixtures for the envelope tests: deterministic plaintexts, a fixed
 * data key, and a stand-in for KMS that unwraps only the exact slots it
 * issued and otherwise returns a different key (as a forged slot would give
 * at best), so the key commitment has to catch it.
 */

import assert from "node:assert/strict";
import {
  DataKey,
  DecryptError,
  type DecryptErrorKind,
  decryptFile,
  decryptStream,
  encryptStream,
  type Header,
  type KeySlot,
  type ResolveKey,
} from "../../src/envelope/mod.ts";

export const RAW_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
export const SLOTS: KeySlot[] = [
  {
    region: "cn-hangzhou",
    keyId: "key-hzz62f1cb66fa42qo0001",
    keyVersionId: "2ab1a983-7072-4bbc-a582-584b5bd8b001",
    ciphertextBlob: Uint8Array.from({ length: 48 }, (_, i) => i).toBase64(),
  },
  {
    region: "cn-shanghai",
    keyId: "key-shh0002",
    keyVersionId: "v2",
    ciphertextBlob: Uint8Array.from({ length: 60 }, (_, i) => 100 + i).toBase64(),
  },
];
export const CONTEXT = { app: "kmsenv", purpose: "tests" };
export const FIXED = {
  salt: Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i),
  noncePrefix: Uint8Array.from({ length: 7 }, (_, i) => 0xa0 + i),
};

/** Plaintext byte i is i mod 251 (never aligned with segment sizes). */
export function pattern(n: number, seed = 0): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: n }, (_, i) => (i + seed) % 251);
}

export function dataKey(raw: Uint8Array = RAW_KEY): Promise<DataKey> {
  return DataKey.import(raw.slice());
}

/** Resolves the right key only for the exact slots of {@link SLOTS}. */
export const fakeKms: ResolveKey = async (h: Header) => {
  if (JSON.stringify(h.slots) === JSON.stringify(SLOTS)) return dataKey();
  // A forged or altered slot: KMS would refuse it or unwrap some other key.
  const other = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(h.slots))),
  );
  return DataKey.import(other);
};

export async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/** Split into uneven chunks. */
export function chunked(bytes: Uint8Array, size = 1000): ReadableStream<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.slice(i, i + size));
  return ReadableStream.from(parts);
}

/** Encrypt with the fixed key, slots and context (fixed randomness unless `random`). */
export async function encryptBytes(
  plaintext: Uint8Array,
  segmentSize = 4096,
  opts: { random?: boolean; context?: Record<string, string> } = {},
): Promise<Uint8Array<ArrayBuffer>> {
  return collect(encryptStream(chunked(plaintext), {
    dataKey: await dataKey(),
    slots: SLOTS,
    context: opts.context ?? CONTEXT,
    segmentSize,
    testingRandomness: opts.random ? undefined : FIXED,
  }));
}

/** Decrypt through the stream path. */
export function decryptBytes(
  ciphertext: Uint8Array,
  resolve: ResolveKey = fakeKms,
): Promise<Uint8Array<ArrayBuffer>> {
  return collect(decryptStream(chunked(ciphertext, 4099), resolve));
}

/** Decrypt through the file path (temporary files). */
export async function decryptBytesViaFile(
  ciphertext: Uint8Array,
  resolve: ResolveKey = fakeKms,
): Promise<Uint8Array<ArrayBuffer>> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/ct`, ciphertext);
    {
      using input = await Deno.open(`${dir}/ct`);
      using output = await Deno.open(`${dir}/pt`, { write: true, createNew: true });
      await decryptFile(input, output, resolve);
    }
    return await Deno.readFile(`${dir}/pt`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Both decrypt paths must reject `ciphertext` with a DecryptError; returns the stream path's. */
export async function assertRejected(
  ciphertext: Uint8Array,
  kind?: DecryptErrorKind | DecryptErrorKind[],
  opts: { file?: boolean; resolve?: ResolveKey; message?: RegExp } = {},
): Promise<DecryptError> {
  const paths = opts.file === false ? [decryptBytes] : [decryptBytes, decryptBytesViaFile];
  let first: DecryptError | undefined;
  for (const path of paths) {
    const err = await path(ciphertext, opts.resolve).then(
      () => assert.fail(`${path.name}: a modified ciphertext was accepted`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DecryptError, `${path.name}: not a DecryptError: ${err}`);
    if (kind !== undefined) {
      const kinds = Array.isArray(kind) ? kind : [kind];
      assert.ok(kinds.includes(err.kind), `${path.name}: kind ${err.kind}: ${err.message}`);
    }
    if (opts.message) assert.match(err.message, opts.message);
    if (first) assert.equal(err.kind, first.kind, "stream and file paths disagree");
    first ??= err;
  }
  return first!;
}
