/**
 * Round trips through every path at the segment-boundary sizes, the layout
 * arithmetic, streaming behaviour (plaintext released per segment, errors and
 * cancellation), and the file-level helpers: rewriteSlots and inspectFile.
 */

import assert from "node:assert/strict";
import {
  DecryptError,
  decryptFile,
  decryptStream,
  encryptFile,
  type EncryptOptions,
  encryptStream,
  inspectFile,
  readHeader,
  rewriteSlots,
} from "../../src/envelope/mod.ts";
import { InputError } from "../../src/errors.ts";
import {
  chunked,
  collect,
  CONTEXT,
  dataKey,
  decryptBytes,
  decryptBytesViaFile,
  encryptBytes,
  fakeKms,
  FIXED,
  pattern,
  SLOTS,
} from "./fixtures.ts";

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function encryptViaFile(
  plaintext: Uint8Array,
  segmentSize: number,
  onProgress?: (n: number) => void,
): Promise<Uint8Array> {
  return await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/in`, plaintext);
    {
      using input = await Deno.open(`${dir}/in`);
      using output = await Deno.open(`${dir}/out`, { write: true, createNew: true });
      const r = await encryptFile(input, output, {
        dataKey: await dataKey(),
        slots: SLOTS,
        context: CONTEXT,
        segmentSize,
        testingRandomness: FIXED,
        onProgress,
      });
      assert.equal(r.plaintextBytes, plaintext.length);
      assert.equal(r.ciphertextBytes, (await Deno.stat(`${dir}/out`)).size);
    }
    return await Deno.readFile(`${dir}/out`);
  });
}

for (const s of [4096, 5000, 65536]) {
  Deno.test(`round trips at the boundary sizes with segment size ${s}, stream and file paths`, async () => {
    for (const n of [0, 1, s - 1, s, s + 1, 2 * s, 2 * s + 500]) {
      const pt = pattern(n, s);
      const viaStream = await encryptBytes(pt, s);
      const viaFile = await encryptViaFile(pt, s);
      // Same randomness, same bytes, whichever path wrote them.
      assert.deepEqual(viaFile, viaStream, `n=${n}`);
      const { header } = await readHeader(ReadableStream.from([viaStream]));
      const segments = Math.max(1, Math.ceil(n / s));
      assert.equal(viaStream.length, header.headerLength + n + 16 * segments, `n=${n}`);
      assert.deepEqual(await decryptBytes(viaStream), pt, `stream n=${n}`);
      assert.deepEqual(await decryptBytesViaFile(viaStream), pt, `file n=${n}`);
    }
  });
}

Deno.test("encryptStream() uses a fresh salt and nonce prefix for every file", async () => {
  const a = await encryptBytes(pattern(100), 4096, { random: true });
  const b = await encryptBytes(pattern(100), 4096, { random: true });
  const ha = (await readHeader(ReadableStream.from([a]))).header;
  const hb = (await readHeader(ReadableStream.from([b]))).header;
  assert.notDeepEqual(ha.salt, hb.salt);
  assert.notDeepEqual(ha.noncePrefix, hb.noncePrefix);
  assert.notDeepEqual(ha.commitment, hb.commitment);
  assert.deepEqual(await decryptBytes(a), await decryptBytes(b));
});

Deno.test("the default segment size is 1 MiB and large inputs round trip", async () => {
  const pt = new Uint8Array(3 * (1 << 20) + 7);
  for (let i = 0; i < pt.length; i += 65536) crypto.getRandomValues(pt.subarray(i, i + 65536));
  const ct = await collect(
    encryptStream(chunked(pt, 100_003), { dataKey: await dataKey(), slots: SLOTS, context: {} }),
  );
  const { header } = await readHeader(ReadableStream.from([ct]));
  assert.equal(header.segmentSize, 1 << 20);
  assert.deepEqual(await decryptBytes(ct), pt);
  assert.deepEqual(await decryptBytesViaFile(ct), pt);
});

Deno.test("invalid options are rejected with InputError", async () => {
  const bad: Partial<EncryptOptions>[] = [
    { segmentSize: 4095 },
    { segmentSize: (64 << 20) + 1 },
    { segmentSize: 5000.5 },
    { slots: [] },
    { slots: [{ ...SLOTS[0]!, ciphertextBlob: "" }] },
    { context: { "": "x" } },
    { context: { big: "x".repeat(9000) } },
  ];
  for (const patch of bad) {
    const opts = { dataKey: await dataKey(), slots: SLOTS, context: CONTEXT, ...patch };
    await assert.rejects(collect(encryptStream(chunked(pattern(10)), opts)), InputError);
    await withDir(async (dir) => {
      await Deno.writeFile(`${dir}/in`, pattern(10));
      using input = await Deno.open(`${dir}/in`);
      using output = await Deno.open(`${dir}/out`, { write: true, createNew: true });
      await assert.rejects(encryptFile(input, output, opts), InputError);
    });
  }
});

Deno.test("decryptStream() releases verified segments before the input ends", async () => {
  const pt = pattern(10 * 4096);
  const ct = await encryptBytes(pt, 4096);
  const { header } = await readHeader(ReadableStream.from([ct]));
  // Hand out the header and 5 segments, then stall until the test releases the rest.
  const cut = header.headerLength + 5 * (4096 + 16);
  let release!: () => void;
  const stalled = new Promise<void>((r) => release = r);
  const source = new ReadableStream<Uint8Array>({
    async start(c) {
      c.enqueue(ct.slice(0, cut));
      await stalled;
      c.enqueue(ct.slice(cut));
      c.close();
    },
  });
  const reader = decryptStream(source, fakeKms).getReader();
  const first = await reader.read();
  assert.deepEqual(first.value, pt.subarray(0, 4096));
  release();
  const rest: Uint8Array<ArrayBuffer>[] = [first.value! as Uint8Array<ArrayBuffer>];
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    rest.push(r.value as Uint8Array<ArrayBuffer>);
  }
  assert.deepEqual(new Uint8Array(await new Blob(rest).arrayBuffer()), pt);
});

Deno.test("a failing source or resolveKey errors the stream; cancel releases the source", async () => {
  const failing = new ReadableStream<Uint8Array>({
    pull(c) {
      c.error(new Error("disk on fire"));
    },
  });
  const opts = { dataKey: await dataKey(), slots: SLOTS, context: CONTEXT };
  await assert.rejects(collect(encryptStream(failing, opts)), /disk on fire/);
  const ct = await encryptBytes(pattern(5000));
  await assert.rejects(
    collect(decryptStream(chunked(ct), () => Promise.reject(new Error("KMS says no")))),
    /KMS says no/,
  );
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new Uint8Array(10_000));
    },
    cancel() {
      cancelled = true;
    },
  });
  const reader = encryptStream(endless, { ...opts, segmentSize: 4096 }).getReader();
  await reader.read();
  await reader.read();
  await reader.cancel();
  assert.ok(cancelled);
});

Deno.test("encryptFile() and decryptFile() report progress up to the input size", async () => {
  const pt = pattern(5 * 4096 + 1);
  const seen: number[] = [];
  const ct = await encryptViaFile(pt, 4096, (n) => seen.push(n));
  assert.equal(seen.at(-1), pt.length);
  assert.ok(seen.every((n, i) => i === 0 || n >= seen[i - 1]!));
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/ct`, ct);
    using input = await Deno.open(`${dir}/ct`);
    using output = await Deno.open(`${dir}/pt`, { write: true, createNew: true });
    const got: number[] = [];
    const r = await decryptFile(input, output, fakeKms, { onProgress: (n) => got.push(n) });
    assert.equal(got.at(-1), ct.length);
    assert.equal(r.plaintextBytes, pt.length);
    assert.deepEqual(r.header.slots, SLOTS);
  });
});

Deno.test("decryptFile() leaves only verified plaintext before a failing segment", async () => {
  const pt = pattern(6 * 4096);
  const ct = await encryptBytes(pt, 4096);
  const { header } = await readHeader(ReadableStream.from([ct]));
  ct[header.headerLength + 4 * 4112 + 9]! ^= 1;
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/ct`, ct);
    using input = await Deno.open(`${dir}/ct`);
    using output = await Deno.open(`${dir}/pt`, { write: true, createNew: true });
    await assert.rejects(decryptFile(input, output, fakeKms), (e: unknown) => {
      assert.ok(e instanceof DecryptError);
      assert.match(e.message, /segment 4\b/);
      return true;
    });
    const written = await Deno.readFile(`${dir}/pt`);
    assert.ok(written.length <= 4 * 4096);
    assert.deepEqual(written, pt.subarray(0, written.length));
  });
});

Deno.test("rewriteSlots() replaces the slots and keeps every payload byte", async () => {
  const pt = pattern(3 * 4096 + 11);
  const ct = await encryptBytes(pt, 4096);
  const newSlots = [
    { ...SLOTS[1]! },
    { region: "cn-beijing", keyId: "key-bj3", keyVersionId: "v1", ciphertextBlob: "AQID" },
  ];
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/ct`, ct);
    {
      using input = await Deno.open(`${dir}/ct`);
      input.seekSync(100, Deno.SeekMode.Start); // rewriteSlots reads from the start regardless
      using output = await Deno.open(`${dir}/new`, { write: true, createNew: true });
      const r = await rewriteSlots(input, output, newSlots);
      assert.deepEqual(r.header.slots, newSlots);
      assert.equal(r.payloadBytes, pt.length + 4 * 16);
    }
    const out = await Deno.readFile(`${dir}/new`);
    const before = (await readHeader(ReadableStream.from([ct]))).header;
    const after = (await readHeader(ReadableStream.from([out]))).header;
    assert.deepEqual(out.subarray(after.headerLength), ct.subarray(before.headerLength));
    assert.deepEqual(after.slots, newSlots);
    for (const k of ["segmentSize", "salt", "noncePrefix", "context", "commitment"] as const) {
      assert.deepEqual(after[k], before[k]);
    }
    // The same data key still opens it; the fake KMS refuses the new slots.
    assert.deepEqual(await decryptBytes(out, () => dataKey()), pt);
    await assert.rejects(decryptBytes(out), DecryptError);
  });
});

Deno.test("inspectFile() reports sizes and a layout check, and its limits", async () => {
  const pt = pattern(2 * 4096 + 500);
  const ct = await encryptBytes(pt, 4096);
  const H = (await readHeader(ReadableStream.from([ct]))).header.headerLength;
  const inspect = (bytes: Uint8Array) =>
    withDir(async (dir) => {
      await Deno.writeFile(`${dir}/f`, bytes);
      using f = await Deno.open(`${dir}/f`);
      return await inspectFile(f);
    });
  const ok = await inspect(ct);
  assert.equal(ok.layoutConsistent, true);
  assert.equal(ok.segments, 3);
  assert.equal(ok.plaintextBytes, pt.length);
  assert.equal(ok.fileBytes, ct.length);
  assert.equal(ok.header.headerLength, H);
  assert.deepEqual(ok.header.context, CONTEXT);
  assert.equal((await inspect(ct.subarray(0, H))).layoutConsistent, false);
  const cutInTag = await inspect(ct.subarray(0, H + 2 * 4112 + 10));
  assert.equal(cutInTag.layoutConsistent, false);
  assert.match(cutInTag.problem!, /truncated/);
  const emptyTail = await inspect(
    new Uint8Array([...ct.subarray(0, H + 4112), ...new Uint8Array(16)]),
  );
  assert.equal(emptyTail.layoutConsistent, false);
  // Documented limit: a cut exactly at a segment boundary looks complete without the key.
  assert.equal((await inspect(ct.subarray(0, H + 4112))).layoutConsistent, true);
  await assert.rejects(inspect(new TextEncoder().encode("plain text")), DecryptError);
});

Deno.test("encryptFile() and decryptFile() take any sync reader and writer, with short reads", async () => {
  // Like a pipe: reads return at most 777 bytes, writes accept at most 1000.
  const source = (bytes: Uint8Array) => {
    let off = 0;
    return {
      readSync(p: Uint8Array): number | null {
        if (off >= bytes.length) return null;
        const n = Math.min(p.length, 777, bytes.length - off);
        p.set(bytes.subarray(off, off + n));
        off += n;
        return n;
      },
    };
  };
  const sink = () => {
    const parts: number[] = [];
    return {
      parts,
      writeSync(p: Uint8Array): number {
        const n = Math.min(p.length, 1000);
        parts.push(...p.subarray(0, n));
        return n;
      },
    };
  };
  const pt = pattern(3 * 4096 + 5);
  const ct = sink();
  await encryptFile(source(pt), ct, {
    dataKey: await dataKey(),
    slots: SLOTS,
    context: CONTEXT,
    segmentSize: 4096,
    testingRandomness: FIXED,
  });
  assert.deepEqual(Uint8Array.from(ct.parts), await encryptBytes(pt, 4096));
  const back = sink();
  await decryptFile(source(Uint8Array.from(ct.parts)), back, fakeKms);
  assert.deepEqual(Uint8Array.from(back.parts), pt);
});
