/**
 * Header encoding and reading: canonical bytes, code point ordering of the
 * context, reading from streams and files, and the encode-side checks.
 */

import assert from "node:assert/strict";
import {
  canonicalContextJson,
  DecryptError,
  encodeHeader,
  type HeaderFields,
  readHeader,
} from "../../src/envelope/mod.ts";
import { InputError } from "../../src/errors.ts";
import { FIXED, SLOTS } from "./fixtures.ts";

const FIELDS: HeaderFields = {
  segmentSize: 4096,
  salt: FIXED.salt,
  noncePrefix: FIXED.noncePrefix,
  context: { b: "2", a: "1" },
  commitment: new Uint8Array(32).fill(9),
  slots: SLOTS,
};

Deno.test("canonicalContextJson() sorts keys by code point, not by JS enumeration or UTF-16", () => {
  // JS enumerates "2" and "10" first (integer-like keys); UTF-16 puts U+1F511 before U+FF5E.
  const ctx = { b: "x", "2": "two", "10": "ten", "\u{1F511}": "k", "\uFF5E": "w", a: 'q"\n' };
  assert.equal(
    canonicalContextJson(ctx),
    '{"10":"ten","2":"two","a":"q\\"\\n","b":"x","\uFF5E":"w","\u{1F511}":"k"}',
  );
  assert.equal(canonicalContextJson({}), "{}");
});

Deno.test("encodeHeader() writes magic, version, u32be length and canonical JSON", async () => {
  const bytes = encodeHeader(FIELDS);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x4b, 0x4d, 0x53, 0x45, 0x4e, 0x56, 0, 1]);
  const len = new DataView(bytes.buffer).getUint32(8);
  assert.equal(len, bytes.length - 12);
  const text = new TextDecoder().decode(bytes.subarray(12));
  assert.ok(text.startsWith('{"suite":"AES256GCM-HKDF-SHA256","segmentSize":4096,"salt":"'));
  assert.ok(text.includes('"context":{"a":"1","b":"2"},"commitment":"'));
  const { header, payload } = await readHeader(
    ReadableStream.from([bytes.subarray(0, 5), bytes.subarray(5), new Uint8Array([1, 2, 3])]),
  );
  assert.equal(header.headerLength, bytes.length);
  assert.deepEqual(header.context, { a: "1", b: "2" });
  assert.deepEqual(header.slots, SLOTS);
  assert.deepEqual(header.salt, FIXED.salt);
  assert.deepEqual(
    new Uint8Array(await new Response(payload).arrayBuffer()),
    Uint8Array.of(1, 2, 3),
  );
  // Encoding the parsed header gives the same bytes.
  assert.deepEqual(encodeHeader(header), bytes);
});

Deno.test("readHeader() on a file leaves it positioned at the first segment", async () => {
  const path = await Deno.makeTempFile();
  try {
    const bytes = encodeHeader(FIELDS);
    await Deno.writeFile(path, new Uint8Array([...bytes, 7, 8]));
    using f = await Deno.open(path);
    const { header, payload } = await readHeader(f);
    assert.equal(payload, f);
    assert.equal(header.headerLength, bytes.length);
    const rest = new Uint8Array(4);
    assert.equal(f.readSync(rest), 2);
    assert.deepEqual(rest.subarray(0, 2), Uint8Array.of(7, 8));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a context key named __proto__ survives a round trip", async () => {
  const context = JSON.parse('{"__proto__":"x","k":"v"}') as Record<string, string>;
  const bytes = encodeHeader({ ...FIELDS, context });
  const { header } = await readHeader(ReadableStream.from([bytes]));
  assert.deepEqual(Object.entries(header.context), [["__proto__", "x"], ["k", "v"]]);
  assert.equal(Object.getPrototypeOf(header.context), Object.prototype);
});

Deno.test("encodeHeader() refuses fields the format cannot carry", () => {
  for (
    const patch of [
      { salt: new Uint8Array(31) },
      { noncePrefix: new Uint8Array(8) },
      { commitment: new Uint8Array(16) },
      { segmentSize: 2048 },
      { slots: [] },
      { slots: Array(17).fill(SLOTS[0]) },
      { slots: [{ ...SLOTS[0]!, keyId: "has space" }] },
      { slots: [{ ...SLOTS[0]!, ciphertextBlob: "YQ" }] }, // unpadded base64
      { context: { "\uD800": "lone surrogate" } },
      { context: { k: "x".repeat(8200) } },
    ]
  ) {
    assert.throws(() => encodeHeader({ ...FIELDS, ...patch } as HeaderFields), InputError);
  }
});

Deno.test("readHeader() errors are DecryptErrors with kinds", async () => {
  const read = (b: Uint8Array) => readHeader(ReadableStream.from([b]));
  const kind = async (b: Uint8Array) =>
    (await read(b).then(() => undefined, (e: unknown) => e) as DecryptError).kind;
  const good = encodeHeader(FIELDS);
  assert.equal(await kind(new Uint8Array()), "empty");
  assert.equal(await kind(new TextEncoder().encode("%PDF-1.7")), "not-kmsenv");
  assert.equal(await kind(good.subarray(0, 11)), "truncated");
  assert.equal(await kind(good.subarray(0, good.length - 1)), "truncated");
  const bom = new Uint8Array([...good.subarray(0, 12), 0xef, 0xbb, 0xbf, ...good.subarray(12)]);
  new DataView(bom.buffer).setUint32(8, good.length - 12 + 3);
  assert.equal(await kind(bom), "header");
  const notUtf8 = good.slice();
  notUtf8[20] = 0xff;
  assert.equal(await kind(notUtf8), "header");
});

Deno.test("header error messages escape control characters and stay short", async () => {
  const body = new TextEncoder().encode(
    JSON.stringify({
      suite: "AES256GCM-HKDF-SHA256",
      segmentSize: 4096,
      salt: FIXED.salt.toBase64(),
      noncePrefix: FIXED.noncePrefix.toBase64(),
      context: {},
      commitment: new Uint8Array(32).toBase64(),
      slots: SLOTS,
      ["\u001b[31mEVIL" + "x".repeat(500)]: 1,
    }),
  );
  const bytes = new Uint8Array(12 + body.length);
  bytes.set([0x4b, 0x4d, 0x53, 0x45, 0x4e, 0x56, 0, 1]);
  new DataView(bytes.buffer).setUint32(8, body.length);
  bytes.set(body, 12);
  const err = await readHeader(ReadableStream.from([bytes])).then(
    () => assert.fail("accepted"),
    (e: unknown) => e as DecryptError,
  );
  assert.equal(err.kind, "header");
  assert.match(err.message, /\\u001b\[31mEVIL/);
  assert.ok(!err.message.includes("\u001b"));
  assert.ok(err.message.length < 400);
});
