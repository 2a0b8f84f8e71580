/**
 * Fuzz-style: mutate a valid file many times (bit flips, truncations,
 * insertions, deletions, duplicated ranges, overwritten bytes) with a seeded
 * PRNG, and require every mutation to be rejected with a DecryptError.
 */

import assert from "node:assert/strict";
import { DecryptError } from "../../src/envelope/mod.ts";
import { decryptBytes, decryptBytesViaFile, encryptBytes, pattern } from "./fixtures.ts";

/** xorshift32: reproducible, so a failure can be replayed from its iteration number. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function mutate(ct: Uint8Array, rnd: (n: number) => number): { bytes: Uint8Array; what: string } {
  const pos = rnd(ct.length);
  switch (rnd(6)) {
    case 0: {
      const out = ct.slice();
      const flips = 1 + rnd(3);
      for (let i = 0; i < flips; i++) out[rnd(ct.length)]! ^= 1 << rnd(8);
      return { bytes: out, what: `flip ${flips} bits near ${pos}` };
    }
    case 1:
      return { bytes: ct.slice(0, pos), what: `truncate at ${pos}` };
    case 2: {
      const n = 1 + rnd(64);
      const ins = Uint8Array.from({ length: n }, () => rnd(256));
      const out = new Uint8Array(ct.length + n);
      out.set(ct.subarray(0, pos));
      out.set(ins, pos);
      out.set(ct.subarray(pos), pos + n);
      return { bytes: out, what: `insert ${n} bytes at ${pos}` };
    }
    case 3: {
      const n = 1 + rnd(Math.min(200, ct.length - pos));
      const out = new Uint8Array(ct.length - n);
      out.set(ct.subarray(0, pos));
      out.set(ct.subarray(pos + n), pos);
      return { bytes: out, what: `delete ${n} bytes at ${pos}` };
    }
    case 4: {
      const n = 1 + rnd(Math.min(300, ct.length - pos));
      const out = new Uint8Array(ct.length + n);
      out.set(ct.subarray(0, pos + n));
      out.set(ct.subarray(pos), pos + n);
      return { bytes: out, what: `duplicate ${n} bytes at ${pos}` };
    }
    default: {
      const out = ct.slice();
      out[pos] = rnd(256);
      return { bytes: out, what: `overwrite byte ${pos}` };
    }
  }
}

Deno.test("every one of 400 random mutations of a valid file is rejected", async () => {
  const ct = await encryptBytes(pattern(2 * 4096 + 300), 4096);
  const rnd = prng(0x6b6d7365);
  let tried = 0;
  for (let i = 0; i < 400; i++) {
    const { bytes, what } = mutate(ct, rnd);
    if (bytes.length === ct.length && bytes.every((b, j) => b === ct[j])) continue;
    tried++;
    const paths = i % 8 === 0 ? [decryptBytes, decryptBytesViaFile] : [decryptBytes];
    for (const path of paths) {
      const err = await path(bytes).then(() => undefined, (e: unknown) => e);
      assert.ok(err !== undefined, `iteration ${i} (${what}) was accepted by ${path.name}`);
      assert.ok(err instanceof DecryptError, `iteration ${i} (${what}): ${err}`);
    }
  }
  assert.ok(tried > 380);
});
