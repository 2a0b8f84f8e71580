import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultName, planJobs } from "../../src/files/plan.ts";
import { InputError, UsageError } from "../../src/errors.ts";

function tree(files: Record<string, string>): string {
  const dir = Deno.makeTempDirSync();
  for (const [name, text] of Object.entries(files)) {
    Deno.mkdirSync(join(dir, name, ".."), { recursive: true });
    Deno.writeTextFileSync(join(dir, name), text);
  }
  return dir;
}

Deno.test("defaultName() adds the suffix on encrypt and strips it on decrypt", () => {
  assert.equal(defaultName("a/b.csv", "encrypt", ".kmsenv"), "a/b.csv.kmsenv");
  assert.equal(defaultName("a/b.csv.kmsenv", "decrypt", ".kmsenv"), "a/b.csv");
  assert.equal(defaultName("b.csv.enc", "decrypt", ".enc"), "b.csv");
  assert.throws(
    () => defaultName("b.csv", "decrypt", ".kmsenv"),
    (e) =>
      e instanceof UsageError && /does not end in .kmsenv/.test(e.message) &&
      /-o/.test(e.hint ?? ""),
  );
  assert.throws(() => defaultName("dir/.kmsenv", "decrypt", ".kmsenv"), UsageError);
});

Deno.test("planJobs() names single outputs: default, -o FILE, -o DIR, -o -", () => {
  const dir = tree({ "a.csv": "x", "out/keep": "" });
  const a = join(dir, "a.csv");
  assert.deepEqual(planJobs([a], { mode: "encrypt" }).jobs, [{ input: a, output: a + ".kmsenv" }]);
  assert.deepEqual(planJobs([a], { mode: "encrypt", output: join(dir, "x.bin") }).jobs, [
    { input: a, output: join(dir, "x.bin") },
  ]);
  assert.deepEqual(planJobs([a], { mode: "encrypt", output: join(dir, "out") }).jobs, [
    { input: a, output: join(dir, "out", "a.csv.kmsenv") },
  ]);
  assert.deepEqual(planJobs([a], { mode: "encrypt", output: "-" }).jobs, [{
    input: a,
    output: "-",
  }]);
  assert.deepEqual(planJobs([a], { mode: "encrypt", suffix: ".enc" }).jobs, [
    { input: a, output: a + ".enc" },
  ]);
});

Deno.test("planJobs() maps stdin to stdout unless -o is given", () => {
  assert.deepEqual(planJobs(["-"], { mode: "decrypt" }).jobs, [{ input: "-", output: "-" }]);
  assert.deepEqual(planJobs(["-"], { mode: "encrypt", output: "/tmp/nonexistent-x" }).jobs, [
    { input: "-", output: "/tmp/nonexistent-x" },
  ]);
  assert.throws(() => planJobs(["-", "a"], { mode: "encrypt" }), UsageError);
  assert.throws(() => planJobs([], { mode: "encrypt" }), /no input given/);
});

Deno.test("planJobs() walks directories with -r and mirrors them under -o DIR", () => {
  const dir = tree({
    "a.csv": "1",
    "sub/b.txt": "2",
    "sub/deeper/c.bin": "3",
    "sub/done.txt.kmsenv": "4",
    "sub/.x.kmsenv-tmp-0123": "5",
  });
  Deno.symlinkSync(join(dir, "a.csv"), join(dir, "link.csv"));
  assert.throws(
    () => planJobs([dir], { mode: "encrypt" }),
    (e) => e instanceof UsageError && /-r/.test(e.hint ?? ""),
  );
  const plan = planJobs([dir], { mode: "encrypt", recursive: true });
  assert.deepEqual(plan.jobs.map((j) => j.input.slice(dir.length + 1)), [
    "a.csv",
    "sub/b.txt",
    "sub/deeper/c.bin",
  ]);
  assert.ok(plan.jobs.every((j) => j.output === j.input + ".kmsenv"));
  assert.deepEqual(plan.skipped.map((s) => s.path.slice(dir.length + 1)).sort(), [
    "link.csv",
    "sub/done.txt.kmsenv",
  ]);
  const out = join(Deno.makeTempDirSync(), "mirror");
  const mirrored = planJobs([dir], { mode: "encrypt", recursive: true, output: out });
  assert.deepEqual(mirrored.jobs.map((j) => j.output), [
    join(out, "a.csv.kmsenv"),
    join(out, "sub/b.txt.kmsenv"),
    join(out, "sub/deeper/c.bin.kmsenv"),
  ]);
  const dec = planJobs([dir], { mode: "decrypt", recursive: true });
  assert.deepEqual(dec.jobs, [{
    input: join(dir, "sub/done.txt.kmsenv"),
    output: join(dir, "sub/done.txt"),
  }]);
});

Deno.test("planJobs() refuses existing outputs without --force, before any work", () => {
  const dir = tree({ "a.csv": "1", "a.csv.kmsenv": "old", "b.csv": "2", "b.csv.kmsenv": "old" });
  assert.throws(
    () => planJobs([join(dir, "a.csv")], { mode: "encrypt" }),
    (e) =>
      e instanceof InputError && /already exists/.test(e.message) && /--force/.test(e.hint ?? ""),
  );
  assert.throws(
    () => planJobs([join(dir, "a.csv"), join(dir, "b.csv")], { mode: "encrypt" }),
    /and 1 more outputs/,
  );
  planJobs([join(dir, "a.csv")], { mode: "encrypt", force: true });
});

Deno.test("planJobs() rejects impossible output combinations", () => {
  const dir = tree({ "x/a.csv": "1", "y/a.csv": "2", "file": "" });
  const a = join(dir, "x/a.csv");
  const b = join(dir, "y/a.csv");
  assert.throws(() => planJobs([a, b], { mode: "encrypt", output: "-" }), /stdout/);
  assert.throws(
    () => planJobs([a, b], { mode: "encrypt", output: join(dir, "file") }),
    /output directory/,
  );
  assert.throws(
    () => planJobs([a, b], { mode: "encrypt", output: join(dir, "out") }),
    /Cannot write both/,
  );
  assert.throws(() => planJobs([join(dir, "missing")], { mode: "encrypt" }), /no such file/);
  assert.throws(() => planJobs([join(dir, "x/a.csv")], { mode: "decrypt" }), /does not end in/);
  assert.throws(() => planJobs([a], { mode: "encrypt", suffix: "" }), /Invalid suffix/);
});
