/**
 * The emulator's ciphertext blob format and encryption contexts, directly:
 * layout, binding to key version and context, and the canonical context.
 */

import assert from "node:assert/strict";
import {
  canonicalContext,
  importMaterial,
  openBlob,
  parseBlob,
  parseContext,
  sealBlob,
} from "../../src/emulator/crypto.ts";
import { KmsApiFault } from "../../src/emulator/api_error.ts";
import { parseTimestamp } from "../../src/emulator/auth.ts";

const VERSION = "86a9efd9-3d16-4894-bd4f-1fc43f3f2abf";

async function key(): Promise<CryptoKey> {
  return await importMaterial(crypto.getRandomValues(new Uint8Array(32)));
}

function isFault(code: string) {
  return (err: unknown) => err instanceof KmsApiFault && err.code === code;
}

Deno.test("sealBlob() lays out version id, 12-byte nonce, ciphertext and tag", async () => {
  const k = await key();
  const blob = Uint8Array.fromBase64(await sealBlob(VERSION, k, "aGVsbG8=", {}));
  assert.equal(new TextDecoder().decode(blob.subarray(0, 36)), VERSION);
  assert.equal(blob.length, 36 + 12 + "aGVsbG8=".length + 16);
  // Fresh nonce each time: the same input never gives the same blob.
  assert.notEqual(
    await sealBlob(VERSION, k, "aGVsbG8=", {}),
    await sealBlob(VERSION, k, "aGVsbG8=", {}),
  );
});

Deno.test("openBlob() needs the same key, version id and an equivalent context", async () => {
  const k = await key();
  const text = await sealBlob(VERSION, k, "YWJj", { b: "2", a: "1" });
  assert.equal(await openBlob(parseBlob(text), k, { a: "1", b: "2" }), "YWJj");
  await assert.rejects(openBlob(parseBlob(text), k, { a: "1" }), isFault("InvalidParameter"));
  await assert.rejects(
    openBlob(parseBlob(text), await key(), { a: "1", b: "2" }),
    isFault("InvalidParameter"),
  );
  // The version id is authenticated too: relabelling a blob breaks it.
  const relabelled = Uint8Array.fromBase64(text);
  relabelled.set(new TextEncoder().encode("96a9efd9"), 0);
  await assert.rejects(
    openBlob(parseBlob(relabelled.toBase64()), k, { a: "1", b: "2" }),
    isFault("InvalidParameter"),
  );
});

Deno.test("parseBlob() refuses non-base64, short and unlabelled blobs", () => {
  for (const bad of ["", "@@@@", "aGVsbG8=", new Uint8Array(80).toBase64(), "YWJj\n"]) {
    assert.throws(() => parseBlob(bad), isFault("InvalidParameter"), JSON.stringify(bad));
  }
});

Deno.test("parseContext() takes a JSON object of strings; canonicalContext() sorts keys", () => {
  assert.deepEqual(parseContext(undefined), {});
  assert.deepEqual(parseContext(""), {});
  assert.equal(canonicalContext(parseContext(' {"b":"2", "a":"1"} ')), '{"a":"1","b":"2"}');
  assert.equal(canonicalContext({ "é": "x", "Z": "y", "a": "z" }), '{"Z":"y","a":"z","é":"x"}');
  for (const bad of ["[]", "null", '{"a":1}', '{"a":null}', '{"a":["b"]}', "{", "x".repeat(8193)]) {
    assert.throws(() => parseContext(bad), isFault("InvalidParameter"), bad);
  }
});

Deno.test("parseTimestamp() accepts only real UTC second-precision timestamps", () => {
  assert.equal(parseTimestamp("2016-02-23T12:46:24Z"), Date.UTC(2016, 1, 23, 12, 46, 24));
  assert.equal(parseTimestamp("2024-02-29T23:59:59Z"), Date.UTC(2024, 1, 29, 23, 59, 59));
  for (
    const bad of [
      "2023-02-29T00:00:00Z",
      "2016-02-23T12:46:24.000Z",
      "2016-02-23T12:46:24+08:00",
      "2016-02-23 12:46:24Z",
      "2016-02-23T24:00:00Z",
      "2016-13-01T00:00:00Z",
    ]
  ) {
    assert.equal(parseTimestamp(bad), undefined, bad);
  }
});
