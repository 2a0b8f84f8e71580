import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AtomicFile,
  checkNotSameFile,
  isTempName,
  liveTempFileCount,
  TEMP_INFIX,
} from "../../src/files/atomic.ts";
import { InputError } from "../../src/errors.ts";

const enc = new TextEncoder();

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("AtomicFile.commit() moves a complete 0600 file into place and leaves no temp", () => {
  const dir = Deno.makeTempDirSync();
  const dest = join(dir, "out.bin");
  const a = AtomicFile.create(dest);
  assert.ok(isTempName(a.tempPath.slice(dir.length + 1)));
  assert.ok(a.tempPath.includes(TEMP_INFIX));
  assert.equal(liveTempFileCount(), 1);
  a.file.writeSync(enc.encode("hello"));
  assert.deepEqual(names(dir), [a.tempPath.slice(dir.length + 1)], "only the temp exists");
  a.commit();
  a.abort(); // no-op after commit
  assert.equal(Deno.readTextFileSync(dest), "hello");
  assert.deepEqual(names(dir), ["out.bin"]);
  if (Deno.build.os !== "windows") assert.equal(Deno.statSync(dest).mode! & 0o777, 0o600);
  assert.equal(liveTempFileCount(), 0);
});

Deno.test("AtomicFile.abort() removes the temp and leaves the destination untouched", () => {
  const dir = Deno.makeTempDirSync();
  const dest = join(dir, "out.bin");
  Deno.writeTextFileSync(dest, "old");
  const a = AtomicFile.create(dest, { force: true });
  a.file.writeSync(enc.encode("partial"));
  a.abort();
  assert.equal(Deno.readTextFileSync(dest), "old");
  assert.deepEqual(names(dir), ["out.bin"]);
  assert.equal(liveTempFileCount(), 0);
});

Deno.test("AtomicFile.create() refuses an existing destination without force", () => {
  const dir = Deno.makeTempDirSync();
  const dest = join(dir, "out.bin");
  Deno.writeTextFileSync(dest, "old");
  assert.throws(
    () => AtomicFile.create(dest),
    (e) => e instanceof InputError && /exists/.test(e.message),
  );
  assert.deepEqual(names(dir), ["out.bin"]);
  assert.throws(() => AtomicFile.create(dir, { force: true }), /is a directory/);
});

Deno.test("AtomicFile.commit() with force replaces the destination", () => {
  const dir = Deno.makeTempDirSync();
  const dest = join(dir, "out.bin");
  Deno.writeTextFileSync(dest, "old");
  const a = AtomicFile.create(dest, { force: true });
  a.file.writeSync(enc.encode("new"));
  a.commit();
  assert.equal(Deno.readTextFileSync(dest), "new");
  assert.deepEqual(names(dir), ["out.bin"]);
});

Deno.test("AtomicFile.commit() never replaces a destination that appeared meanwhile", () => {
  const dir = Deno.makeTempDirSync();
  const dest = join(dir, "out.bin");
  const a = AtomicFile.create(dest);
  a.file.writeSync(enc.encode("mine"));
  Deno.writeTextFileSync(dest, "theirs"); // another process won the race
  assert.throws(() => a.commit(), /already exists/);
  assert.equal(Deno.readTextFileSync(dest), "theirs");
  assert.deepEqual(names(dir), ["out.bin"]);
  assert.equal(liveTempFileCount(), 0);
});

Deno.test("checkNotSameFile() detects the same path, a symlink and a hard link", () => {
  const dir = Deno.makeTempDirSync();
  const input = join(dir, "in.txt");
  Deno.writeTextFileSync(input, "x");
  assert.throws(() => checkNotSameFile(input, input), /is the input file itself/);
  assert.throws(() => checkNotSameFile(input, join(dir, ".", "in.txt")), /input file itself/);
  Deno.linkSync(input, join(dir, "hard.txt"));
  assert.throws(() => checkNotSameFile(input, join(dir, "hard.txt")), /input file itself/);
  Deno.symlinkSync(input, join(dir, "sym.txt"));
  assert.throws(() => checkNotSameFile(input, join(dir, "sym.txt")), /input file itself/);
  Deno.writeTextFileSync(join(dir, "other.txt"), "x");
  checkNotSameFile(input, join(dir, "other.txt"));
  checkNotSameFile(input, join(dir, "missing.txt"));
});

for (const [signal, status] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
  Deno.test(`AtomicFile removes its temp file on ${signal} and exits ${status}`, async () => {
    const dir = Deno.makeTempDirSync();
    const dest = join(dir, "out.bin");
    const script = new URL("./fixtures/hold_temp.ts", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", script, dest],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read(); // "ready" once the temp file is written
    assert.match(new TextDecoder().decode(value), /ready/);
    assert.equal(names(dir).length, 1, "the temp file exists while writing");
    child.kill(signal);
    await reader.cancel();
    await child.stderr.cancel();
    const st = await child.status;
    assert.equal(st.code, status);
    assert.deepEqual(names(dir), [], "no temp file and no destination");
  });
}
