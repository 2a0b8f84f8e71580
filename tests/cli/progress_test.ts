import assert from "node:assert/strict";
import { formatBytes, Progress } from "../../src/cli/progress.ts";

Deno.test("formatBytes() uses binary units", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(200 * 1024 * 1024), "200 MiB");
});

Deno.test("Progress draws bytes, percentage, rate and ETA only when enabled and after a moment", () => {
  let t = 0;
  const out: string[] = [];
  const p = new Progress(
    { printErr: (s) => out.push(s), enabled: true, now: () => t },
    "enc",
    100 << 20,
  );
  p.update(1 << 20);
  assert.deepEqual(out, [], "nothing in the first half second");
  t = 1000;
  p.update(50 << 20);
  assert.equal(out.length, 1);
  assert.match(out[0]!, /enc {2}\[#{10}-{10}\] {2}50% {2}50 MiB \/ 100 MiB {2}50 MiB\/s {2}ETA 1s/);
  t = 1050;
  p.update(60 << 20);
  assert.equal(out.length, 1, "at most ten redraws a second");
  p.done();
  assert.equal(out.at(-1), "\r\x1b[2K", "the bar is erased at the end");

  const quiet: string[] = [];
  const q = new Progress({ printErr: (s) => quiet.push(s), enabled: false, now: () => t }, "x");
  t = 5000;
  q.update(1);
  q.done();
  assert.deepEqual(quiet, []);
});
