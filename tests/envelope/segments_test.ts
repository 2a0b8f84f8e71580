/** Segment nonces, the u32 counter limit, and the ordered pipeline. */

import assert from "node:assert/strict";
import { DecryptError } from "../../src/envelope/mod.ts";
import {
  MAX_SEGMENT_INDEX,
  openSegment,
  type PayloadCipher,
  Pipeline,
  sealSegment,
  segmentNonce,
} from "../../src/envelope/segments.ts";
import { InputError } from "../../src/errors.ts";

const PREFIX = Uint8Array.fromHex("a0a1a2a3a4a5a6");

Deno.test("segmentNonce() is prefix ‖ u32be(index) ‖ last flag", () => {
  assert.equal(segmentNonce(PREFIX, 0, false).toHex(), "a0a1a2a3a4a5a60000000000");
  assert.equal(segmentNonce(PREFIX, 1, true).toHex(), "a0a1a2a3a4a5a60000000101");
  assert.equal(segmentNonce(PREFIX, 0x01020304, false).toHex(), "a0a1a2a3a4a5a60102030400");
  assert.equal(segmentNonce(PREFIX, MAX_SEGMENT_INDEX, true).toHex(), "a0a1a2a3a4a5a6ffffffff01");
});

Deno.test("the segment counter never wraps around", async () => {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  const c: PayloadCipher = { key, noncePrefix: PREFIX, segmentSize: 4096 };
  const last = await sealSegment(c, MAX_SEGMENT_INDEX, true, Uint8Array.of(1, 2, 3));
  assert.deepEqual(await openSegment(c, MAX_SEGMENT_INDEX, true, last), Uint8Array.of(1, 2, 3));
  assert.throws(() => sealSegment(c, MAX_SEGMENT_INDEX + 1, true, new Uint8Array(1)), InputError);
  await assert.rejects(openSegment(c, MAX_SEGMENT_INDEX + 1, true, last), DecryptError);
  // The index is bound: the same bytes under a neighbouring index fail.
  await assert.rejects(openSegment(c, MAX_SEGMENT_INDEX - 1, true, last), DecryptError);
});

Deno.test("Pipeline yields results in order and surfaces the first failure in order", async () => {
  const p = new Pipeline<number>();
  let resolveFirst!: (n: number) => void;
  p.push(new Promise<number>((r) => resolveFirst = r));
  p.push(Promise.reject(new Error("second")));
  p.push(Promise.resolve(3));
  setTimeout(() => resolveFirst(1), 5);
  assert.equal(await p.shift(), 1);
  await assert.rejects(p.shift(), /second/);
  assert.equal(await p.shift(), 3);
  assert.equal(p.size, 0);
});
