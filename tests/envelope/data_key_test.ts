/** DataKey: import, zeroing of the raw bytes, and per-file derivation. */

import assert from "node:assert/strict";
import { DataKey } from "../../src/envelope/mod.ts";
import { InputError } from "../../src/errors.ts";

Deno.test("DataKey.import() zeroes the raw key bytes", async () => {
  for (const n of [16, 32]) {
    const raw = Uint8Array.from({ length: n }, (_, i) => i + 1);
    const key = await DataKey.import(raw);
    assert.equal(key.byteLength, n);
    assert.deepEqual(raw, new Uint8Array(n));
  }
  // Also a view into a larger buffer: only the view is the key, and it is zeroed.
  const buf = new Uint8Array(40).fill(0xee);
  await DataKey.import(buf.subarray(4, 36));
  assert.deepEqual(buf.subarray(4, 36), new Uint8Array(32));
  assert.equal(buf[0], 0xee);
});

Deno.test("DataKey.import() rejects other lengths and still zeroes them", async () => {
  for (const n of [0, 15, 24, 31, 33, 64]) {
    const raw = new Uint8Array(n).fill(0xab);
    await assert.rejects(DataKey.import(raw), InputError);
    assert.deepEqual(raw, new Uint8Array(n));
  }
});

Deno.test("deriveFileKeys() depends on the key, the salt and the bound digest", async () => {
  const key = (b: number) => DataKey.import(new Uint8Array(32).fill(b));
  const salt = new Uint8Array(32).fill(1);
  const digest = new Uint8Array(32).fill(2);
  const a = await (await key(5)).deriveFileKeys(salt, digest);
  const same = await (await key(5)).deriveFileKeys(salt, digest);
  assert.deepEqual(a.commitment, same.commitment);
  assert.equal(a.payloadKey.extractable, false);
  assert.deepEqual(a.payloadKey.usages.toSorted(), ["decrypt", "encrypt"]);
  const others = [
    await (await key(6)).deriveFileKeys(salt, digest),
    await (await key(5)).deriveFileKeys(new Uint8Array(32).fill(3), digest),
    await (await key(5)).deriveFileKeys(salt, new Uint8Array(32).fill(4)),
  ];
  for (const o of others) assert.notDeepEqual(o.commitment, a.commitment);
});
