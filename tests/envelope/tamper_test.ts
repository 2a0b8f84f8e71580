/**
 * Every kind of bad input from issue 3 at the library level: both decrypt
 * paths (stream and file) must reject it with a DecryptError of the right
 * kind, and nothing is ever accepted.
 */

import assert from "node:assert/strict";
import { DataKey, encodeHeader, isNotKmsenv, readHeader } from "../../src/envelope/mod.ts";
import {
  assertRejected,
  CONTEXT,
  dataKey,
  decryptBytes,
  encryptBytes,
  pattern,
  RAW_KEY,
  SLOTS,
} from "./fixtures.ts";

const S = 4096;
const CHUNK = S + 16;
const PLAIN = pattern(2 * S + 500); // three segments, the last one short
const CT = await encryptBytes(PLAIN, S);
const { header: HEADER } = await readHeader(ReadableStream.from([CT]));
const H = HEADER.headerLength;

function flip(bytes: Uint8Array, pos: number, bit = 0): Uint8Array {
  const out = bytes.slice();
  out[pos]! ^= 1 << bit;
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const seg = (i: number) => CT.subarray(H + i * CHUNK, Math.min(CT.length, H + (i + 1) * CHUNK));

Deno.test("the fixture decrypts through both paths", async () => {
  assert.equal(CT.length, H + PLAIN.length + 3 * 16);
  assert.deepEqual(await decryptBytes(CT), PLAIN);
});

Deno.test("a flipped bit anywhere in the header or its slots is rejected", async () => {
  // Header bytes other than the slots fail as malformed, non-canonical or by
  // commitment; slot bytes reach "KMS", which unwraps some other key at best.
  for (let pos = 0; pos < H; pos++) {
    await assertRejected(flip(CT, pos, pos % 8), undefined, { file: pos % 16 === 0 });
  }
});

Deno.test("a flipped bit in the bound header fields fails the key commitment", async () => {
  const text = new TextDecoder().decode(CT.subarray(12, H));
  for (const field of ['"salt":"', '"noncePrefix":"', '"commitment":"']) {
    const pos = 12 + new TextEncoder().encode(text.slice(0, text.indexOf(field) + field.length))
      .length +
      3;
    // Replace one base64 character by another valid one: still canonical, new value.
    const out = CT.slice();
    out[pos] = out[pos] === 0x41 ? 0x42 : 0x41;
    await assertRejected(out, "commitment", { message: /key commitment mismatch/ });
  }
});

Deno.test("a flipped bit in any segment or any tag fails authentication of that segment", async () => {
  for (let i = 0; i < 3; i++) {
    const s = seg(i);
    const start = H + i * CHUNK;
    const positions = [0, 1, s.length >> 1, s.length - 17]; // ciphertext bytes
    for (let t = s.length - 16; t < s.length; t++) positions.push(t); // every tag byte
    for (const p of positions) {
      const err = await assertRejected(flip(CT, start + p, p % 8), "authentication", {
        file: p % 5 === 0,
      });
      assert.match(err.message, new RegExp(`authentication failed in segment ${i}\\b`));
    }
  }
});

Deno.test("truncation at every segment boundary is reported as truncation", async () => {
  await assertRejected(CT.subarray(0, H), "truncated", { message: /no payload segments/ });
  for (const k of [1, 2]) {
    await assertRejected(CT.subarray(0, H + k * CHUNK), "truncated", {
      message: new RegExp(`ends after segment ${k - 1}, before the final segment`),
    });
  }
});

Deno.test("truncation inside a segment or the header is rejected", async () => {
  for (const cut of [1, 15, 16, 17, 2000, CHUNK - 1]) {
    for (const k of [0, 1, 2]) {
      const end = H + k * CHUNK + cut;
      if (end >= CT.length) continue;
      await assertRejected(CT.subarray(0, end), ["truncated", "authentication"]);
    }
  }
  await assertRejected(CT.subarray(0, CT.length - 1), "authentication");
  for (let end = 1; end < H; end++) {
    await assertRejected(CT.subarray(0, end), "truncated", { file: end % 50 === 0 });
  }
});

Deno.test("bytes appended after the final segment are rejected", async () => {
  for (const extra of [new Uint8Array(1), new Uint8Array(16), seg(2), seg(0), pattern(5000)]) {
    await assertRejected(concat(CT, extra), ["trailing-data", "authentication"]);
  }
  // When the final segment is full, the problem can be named exactly.
  const full = await encryptBytes(pattern(3 * S), S);
  for (const extra of [new Uint8Array(1), new Uint8Array(16), new Uint8Array(CHUNK)]) {
    await assertRejected(concat(full, extra), "trailing-data", {
      message: /unexpected data after the final segment/,
    });
  }
});

Deno.test("swapped, duplicated, dropped or replayed segments are rejected", async () => {
  const head = CT.subarray(0, H);
  await assertRejected(concat(head, seg(1), seg(0), seg(2)), "authentication", {
    message: /segment 0\b/,
  });
  await assertRejected(concat(head, seg(0), seg(0), seg(1), seg(2)), "authentication");
  await assertRejected(concat(head, seg(0), seg(2)), "authentication");
  // The same segment taken from another file with another salt.
  const other = await encryptBytes(PLAIN, S, { random: true });
  const otherH = (await readHeader(ReadableStream.from([other]))).header.headerLength;
  await assertRejected(
    concat(head, seg(0), other.subarray(otherH + CHUNK, otherH + 2 * CHUNK), seg(2)),
    "authentication",
    { message: /segment 1\b/ },
  );
});

Deno.test("a changed encryption context fails the key commitment", async () => {
  const forged = encodeHeader({ ...HEADER, context: { ...CONTEXT, purpose: "other" } });
  await assertRejected(concat(forged, CT.subarray(H)), "commitment");
  const dropped = encodeHeader({ ...HEADER, context: {} });
  await assertRejected(concat(dropped, CT.subarray(H)), "commitment");
});

Deno.test("a changed segment size fails the key commitment", async () => {
  const forged = encodeHeader({ ...HEADER, segmentSize: 8192 });
  await assertRejected(concat(forged, CT.subarray(H)), "commitment");
});

Deno.test("a wrong data key fails the key commitment before any segment", async () => {
  const wrong = RAW_KEY.map((b) => b ^ 0xff);
  let calls = 0;
  await assertRejected(CT, "commitment", {
    resolve: () => {
      calls++;
      return DataKey.import(wrong.slice());
    },
  });
  assert.equal(calls, 2);
  // A 16-byte key with the same prefix is a different key too.
  await assertRejected(CT, "commitment", { resolve: () => DataKey.import(RAW_KEY.slice(0, 16)) });
});

Deno.test("forged or replaced slots fail; a changed slot with the right key decrypts the same", async () => {
  const forgedBlob = [{ ...SLOTS[0]!, ciphertextBlob: "AAAA" }];
  await assertRejected(
    concat(encodeHeader({ ...HEADER, slots: forgedBlob }), CT.subarray(H)),
    "commitment",
  );
  // Slots are not bound: when the caller does obtain the right key, the payload is unchanged.
  const rewrapped = concat(
    encodeHeader({ ...HEADER, slots: [{ ...SLOTS[1]!, keyId: "key-new", keyVersionId: "v9" }] }),
    CT.subarray(H),
  );
  assert.deepEqual(await decryptBytes(rewrapped, () => dataKey()), PLAIN);
});

Deno.test("non-kmsenv and empty inputs are told apart", async () => {
  const enc = new TextEncoder();
  const legacy = enc.encode("MTIz\nNDU2\nNzg5\nMDEy\n");
  const err = await assertRejected(legacy, "not-kmsenv", {
    message: /^Cannot decrypt: not a kmsenv file \(bad magic\)$/,
  });
  assert.ok(isNotKmsenv(err));
  await assertRejected(enc.encode("hello"), "not-kmsenv");
  await assertRejected(new Uint8Array(0), "empty", { message: /the file is empty/ });
  await assertRejected(enc.encode("KMS"), "truncated");
  const v2 = CT.slice();
  v2[7] = 2;
  await assertRejected(v2, "unsupported-version", { message: /version 2/ });
});

Deno.test("a header claiming absurd sizes is rejected before it is read", async () => {
  const at = (len: number) => {
    const out = CT.slice();
    new DataView(out.buffer).setUint32(8, len);
    return out;
  };
  await assertRejected(at(0xffff_ffff), "header", {
    message: /header length 4294967295 exceeds 1048576/,
  });
  await assertRejected(at((1 << 20) + 1), "header", { message: /exceeds 1048576/ });
  await assertRejected(at(0), "header");
  await assertRejected(at(1 << 20), "truncated");
  await assertRejected(at(H - 12 + 1), "header");
  // Only the 12-byte prefix exists: the length is refused without waiting for 4 GiB.
  await assertRejected(at(0xffff_ffff).subarray(0, 12), "header");
});

Deno.test("a header with out-of-range values is rejected", async () => {
  const body = JSON.parse(new TextDecoder().decode(CT.subarray(12, H)));
  const make = (patch: Record<string, unknown>) => {
    const json = new TextEncoder().encode(JSON.stringify({ ...body, ...patch }));
    const out = new Uint8Array(12 + json.length);
    out.set(CT.subarray(0, 8));
    new DataView(out.buffer).setUint32(8, json.length);
    out.set(json, 12);
    return concat(out, CT.subarray(H));
  };
  for (
    const patch of [
      { segmentSize: 1e12 },
      { segmentSize: 4095 },
      { segmentSize: 4096.5 },
      { segmentSize: "4096" },
      { salt: "AAAA" },
      { noncePrefix: body.salt },
      { commitment: "" },
      { suite: "AES128GCM" },
      { slots: [] },
      { slots: Array(17).fill(SLOTS[0]) },
      { slots: [{ ...SLOTS[0], extra: 1 }] },
      { slots: [{ ...SLOTS[0], ciphertextBlob: "not base64!" }] },
      { slots: [{ ...SLOTS[0], region: "CN HANGZHOU" }] },
      { context: { a: 1 } },
      { context: ["a"] },
      { context: { "": "x" } },
      { extra: true },
    ]
  ) {
    await assertRejected(make(patch), "header", { file: false });
  }
  // Canonical form: the same header with a space, or with keys reordered.
  const spaced = new TextDecoder().decode(CT.subarray(12, H)).replace('":', '": ');
  const reordered = JSON.stringify({ segmentSize: body.segmentSize, ...body });
  for (const text of [spaced, reordered, JSON.stringify(body, null, 1)]) {
    const json = new TextEncoder().encode(text);
    const out = new Uint8Array(12 + json.length);
    out.set(CT.subarray(0, 8));
    new DataView(out.buffer).setUint32(8, json.length);
    out.set(json, 12);
    await assertRejected(concat(out, CT.subarray(H)), "header", { message: /canonical/ });
  }
});
