/** checkContext() and the in-memory helpers encryptBytes()/decryptBytes(). */

import assert from "node:assert/strict";
import { checkContext, decryptBytes, DecryptError, encryptBytes } from "../../src/envelope/mod.ts";
import { CONTEXT, dataKey, fakeKms, pattern, SLOTS } from "./fixtures.ts";

function kind(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof DecryptError);
    return e.kind;
  }
}

Deno.test("checkContext() compares exactly by default and as a subset on request", () => {
  const file = { app: "kmsenv", env: "prod" };
  assert.equal(kind(() => checkContext(file, { env: "prod", app: "kmsenv" })), undefined);
  assert.equal(kind(() => checkContext(file, { app: "kmsenv" })), "context");
  assert.equal(kind(() => checkContext(file, { app: "kmsenv" }, "subset")), undefined);
  assert.equal(kind(() => checkContext(file, { env: "dev" }, "subset")), "context");
  assert.equal(kind(() => checkContext(file, { ...file, x: "" })), "context");
  assert.equal(kind(() => checkContext({}, {})), undefined);
  // Inherited properties are not context entries.
  assert.equal(kind(() => checkContext({}, { toString: "x" }, "subset")), "context");
  assert.throws(
    () => checkContext(file, { env: "dev" }),
    /^DecryptError: Cannot decrypt: the encryption context does not match \(the file has a different value for "env"\)$/,
  );
});

Deno.test("encryptBytes() and decryptBytes() round trip and report the header", async () => {
  const pt = pattern(10_000);
  const ct = await encryptBytes(pt, {
    dataKey: await dataKey(),
    slots: SLOTS,
    context: CONTEXT,
    segmentSize: 4096,
  });
  const r = await decryptBytes(ct, fakeKms);
  assert.deepEqual(r.plaintext, pt);
  assert.deepEqual(r.header.context, CONTEXT);
  ct[ct.length - 1]! ^= 1;
  await assert.rejects(decryptBytes(ct, fakeKms), DecryptError);
});
