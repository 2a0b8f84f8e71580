/**
 * Throughput and memory of the envelope file paths alone (no KMS, no CLI):
 * encryptFile then decryptFile of one file with a given segment size. Used
 * for the segment-size table in docs/FORMAT.md §7. Run under /usr/bin/time -v
 * to see peak RSS:
 *
 *   head -c 512M /dev/urandom > /tmp/in.bin
 *   /usr/bin/time -v deno run -A --v8-flags=--expose-gc scripts/bench_envelope.ts \
 *     enc 1048576 /tmp/in.bin /tmp/out.kmsenv
 *   /usr/bin/time -v deno run -A --v8-flags=--expose-gc scripts/bench_envelope.ts \
 *     dec 1048576 /tmp/out.kmsenv /tmp/back.bin
 *
 * @module
 */

import { DataKey, decryptFile, encryptFile } from "../src/envelope/mod.ts";

const [mode, segment, inPath, outPath] = Deno.args;
if ((mode !== "enc" && mode !== "dec") || !segment || !inPath || !outPath) {
  console.error("usage: bench_envelope.ts enc|dec SEGMENT_SIZE IN OUT");
  Deno.exit(2);
}
// A fixed benchmark key: this script measures speed, it protects nothing.
const dataKey = await DataKey.import(new Uint8Array(32).fill(1));
const slots = [{
  region: "cn-hangzhou",
  keyId: "key-bench",
  keyVersionId: "v1",
  ciphertextBlob: "AAAA",
}];
using input = await Deno.open(inPath);
using output = await Deno.open(outPath, { write: true, create: true, truncate: true });
const t0 = performance.now();
if (mode === "enc") {
  await encryptFile(input, output, { dataKey, slots, context: {}, segmentSize: Number(segment) });
} else {
  await decryptFile(input, output, () => Promise.resolve(dataKey));
}
const seconds = (performance.now() - t0) / 1000;
const bytes = (await input.stat()).size;
console.log(
  `${mode} segment=${segment} ${seconds.toFixed(2)} s ${(bytes / seconds / 1e6).toFixed(0)} MB/s`,
);
