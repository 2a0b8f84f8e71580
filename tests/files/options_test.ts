import assert from "node:assert/strict";
import { parseContextArgs, parseSegmentSize } from "../../src/files/options.ts";
import { UsageError } from "../../src/errors.ts";

Deno.test("parseContextArgs() builds a context from K=V pairs", () => {
  assert.deepEqual(parseContextArgs(undefined), {});
  assert.deepEqual(parseContextArgs(["dept=sales", "q=a=b", "empty="]), {
    dept: "sales",
    q: "a=b",
    empty: "",
  });
});

Deno.test("parseContextArgs() rejects malformed, empty-key and duplicate pairs", () => {
  for (
    const [pairs, pattern] of [
      [["dept"], /expected K=V/],
      [["=x"], /key before '=' is empty/],
      [["a=1", "a=2"], /"a" is given twice/],
    ] as const
  ) {
    assert.throws(
      () => parseContextArgs(pairs),
      (e) => e instanceof UsageError && pattern.test(e.message),
    );
  }
  // A duplicate's value is not echoed (it could be sensitive).
  assert.throws(
    () => parseContextArgs(["a=secret1", "a=secret2"]),
    (e) => !(e as Error).message.includes("secret"),
  );
});

Deno.test("parseSegmentSize() accepts bytes and binary units within limits", () => {
  assert.equal(parseSegmentSize(undefined), undefined);
  assert.equal(parseSegmentSize("65536"), 65536);
  assert.equal(parseSegmentSize("64KiB"), 65536);
  assert.equal(parseSegmentSize("4m"), 4 << 20);
  for (const bad of ["", "abc", "1.5M", "100", "1GiB", "-4096", "64 parsecs"]) {
    assert.throws(() => parseSegmentSize(bad), UsageError, bad);
  }
});
