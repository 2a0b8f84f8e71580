/**
 * `deno task bench`: kmsenv against its peers, run in the same process tree.
 *
 * Prints ratios, never asserts on time. Peers: `age` (installed with apt-get
 * when missing and possible), `openssl enc -aes-256-ctr` (raw cipher speed;
 * `openssl enc` has no AEAD mode), and a plain `cat` copy. Each figure is the
 * median of several whole-process runs; peak RSS comes from `/usr/bin/time`.
 *
 * Usage: deno task bench [--sizes 64,512,2048] [--runs 3] [--files 1000] [--skip-large]
 *
 * @module
 */

import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const MiB = 1024 * 1024;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "64,512,2048" },
    runs: { type: "string", default: "3" },
    files: { type: "string", default: "1000" },
    "skip-files": { type: "boolean", default: false },
    "skip-startup": { type: "boolean", default: false },
    dir: { type: "string" },
  },
});
const sizesMiB = values.sizes.split(",").map(Number).filter((n) => n > 0);
const runs = Math.max(1, Number(values.runs));

interface Measure {
  seconds: number;
  maxRssMiB: number;
}

async function which(cmd: string): Promise<boolean> {
  const out = await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
    .output();
  return out.success;
}

async function ensureTools(): Promise<void> {
  const missing = [];
  for (const tool of ["age", "age-keygen", "openssl"]) if (!(await which(tool))) missing.push(tool);
  if (!(await which("/usr/bin/time"))) missing.push("time");
  if (missing.length === 0) return;
  console.log(`installing peers with apt-get: ${missing.join(" ")}`);
  const packages = [...new Set(missing.map((m) => m === "age-keygen" ? "age" : m))];
  const sh =
    `(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${
      packages.join(" ")
    }`;
  const out = await new Deno.Command("sh", { args: ["-c", sh], stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`Cannot install peers (${packages.join(", ")}); install them and rerun`);
  }
}

/** Runs `argv` under /usr/bin/time and returns wall seconds and peak RSS. */
async function timed(
  argv: string[],
  options: { env?: Record<string, string>; stdin?: string; stdout?: string } = {},
): Promise<Measure> {
  const redirect = [
    options.stdin ? `< '${options.stdin}'` : "",
    options.stdout ? `> '${options.stdout}'` : "",
  ].join(" ");
  const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const script = `/usr/bin/time -f '%e %M' -o /dev/fd/3 ${quoted} ${redirect} 3>&2 2>/dev/null`;
  const started = performance.now();
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    env: options.env,
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = (performance.now() - started) / 1000;
  const text = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) throw new Error(`Command failed: ${argv.join(" ")}\n${text}`);
  const last = text.split("\n").at(-1) ?? "";
  const [wall, rssKiB] = last.split(" ").map(Number);
  return { seconds: Number.isFinite(wall) ? wall! : elapsed, maxRssMiB: (rssKiB ?? 0) / 1024 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function medianOf(fn: () => Promise<Measure>): Promise<Measure> {
  const results: Measure[] = [];
  for (let i = 0; i < runs; i++) results.push(await fn());
  return {
    seconds: median(results.map((r) => r.seconds)),
    maxRssMiB: Math.max(...results.map((r) => r.maxRssMiB)),
  };
}

async function makeInput(path: string, bytes: number): Promise<void> {
  try {
    if ((await Deno.stat(path)).size === bytes) return;
  } catch { /* create it */ }
  // Random data, so nothing in the pipeline can profit from compressible input.
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(4 * MiB);
  for (let written = 0; written < bytes; written += chunk.length) {
    for (let o = 0; o < chunk.length; o += 65536) {
      crypto.getRandomValues(chunk.subarray(o, o + 65536));
    }
    const n = Math.min(chunk.length, bytes - written);
    let off = 0;
    while (off < n) off += await file.write(chunk.subarray(off, n));
  }
  file.close();
}

interface Emulator {
  env: Record<string, string>;
  endpoint: string;
  stop(): Promise<void>;
}

async function startEmulator(extra: string[] = []): Promise<Emulator> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, "kms-emulator", "--port", "0", ...extra],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The emulator exited before printing its endpoint");
    buffered += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const info = JSON.parse(buffered.split("\n")[0]!);
  return {
    endpoint: info.endpoint,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      KMSENV_ENDPOINT: info.endpoint,
      ALIBABA_CLOUD_ACCESS_KEY_ID: info.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: info.accessKeySecret,
      ALIBABA_CLOUD_REGION_ID: info.region,
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: "true",
    },
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function emulatorStats(emulator: Emulator): Promise<Record<string, number>> {
  const res = await fetch(`${emulator.endpoint}/__emulator/stats`);
  const body = await res.json();
  return (body.actions ?? body) as Record<string, number>;
}

function kmsenvArgv(...args: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--quiet",
    "--v8-flags=--expose-gc",
    MAIN,
    ...args,
  ];
}

async function kmsenv(env: Record<string, string>, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(kmsenvArgv(...args)[0]!, {
    args: kmsenvArgv(...args).slice(1),
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`kmsenv ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

function fmt(m: Measure): string {
  return `${m.seconds.toFixed(2)} s, ${m.maxRssMiB.toFixed(0)} MiB`;
}

async function sha256File(path: string): Promise<string> {
  const out = await new Deno.Command("sha256sum", { args: [path], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split(" ")[0]!;
}

async function benchLarge(dir: string, emulator: Emulator): Promise<void> {
  const ageKey = `${dir}/age.key`;
  await new Deno.Command("sh", { args: ["-c", `age-keygen -o '${ageKey}' 2>/dev/null`] }).output();
  const recipient = new TextDecoder().decode(
    (await new Deno.Command("age-keygen", { args: ["-y", ageKey], stdout: "piped" }).output())
      .stdout,
  ).trim();
  const opensslKey = "00".repeat(32);
  const opensslIv = "00".repeat(16);

  console.log("\n## Large files (median of %d runs; wall time, peak RSS)", runs);
  const rows: string[] = [];
  for (const size of sizesMiB) {
    const input = `${dir}/in-${size}.bin`;
    await makeInput(input, size * MiB);
    const enc = `${dir}/out-${size}.kmsenv`;
    const dec = `${dir}/out-${size}.dec`;
    const cat = await medianOf(() => timed(["cat", input], { stdout: `${dir}/copy.bin` }));
    const ssl = await medianOf(() =>
      timed([
        "openssl",
        "enc",
        "-aes-256-ctr",
        "-K",
        opensslKey,
        "-iv",
        opensslIv,
        "-in",
        input,
        "-out",
        `${dir}/ssl.bin`,
      ])
    );
    const ageEnc = await medianOf(() =>
      timed(["age", "-r", recipient, "-o", `${dir}/age.age`, input])
    );
    const ageDec = await medianOf(() =>
      timed(["age", "-d", "-i", ageKey, "-o", `${dir}/age.dec`, `${dir}/age.age`])
    );
    const kEnc = await medianOf(() =>
      timed(kmsenvArgv("encrypt", input, "--key", "alias/bench", "-o", enc, "--force", "-q"), {
        env: emulator.env,
      })
    );
    const kDec = await medianOf(() =>
      timed(kmsenvArgv("decrypt", enc, "-o", dec, "--force", "-q"), { env: emulator.env })
    );
    if ((await sha256File(input)) !== (await sha256File(dec))) {
      throw new Error(`Round trip of ${size} MiB did not reproduce the input`);
    }
    for (
      const p of [enc, dec, `${dir}/age.age`, `${dir}/age.dec`, `${dir}/ssl.bin`, `${dir}/copy.bin`]
    ) {
      await Deno.remove(p).catch(() => {});
    }
    console.log(`\n${size} MiB:`);
    console.log(`  cat copy            ${fmt(cat)}`);
    console.log(`  openssl aes-256-ctr ${fmt(ssl)}`);
    console.log(`  age encrypt         ${fmt(ageEnc)}`);
    console.log(`  age decrypt         ${fmt(ageDec)}`);
    console.log(`  kmsenv encrypt      ${fmt(kEnc)}`);
    console.log(`  kmsenv decrypt      ${fmt(kDec)}`);
    rows.push(
      `| ${size} MiB | ${(kEnc.seconds / ageEnc.seconds).toFixed(2)} | ${
        (kDec.seconds / ageDec.seconds).toFixed(2)
      } | ${(kEnc.seconds / cat.seconds).toFixed(2)} | ${
        (kDec.seconds / cat.seconds).toFixed(2)
      } | ${kEnc.maxRssMiB.toFixed(0)} / ${kDec.maxRssMiB.toFixed(0)} | ${
        ageEnc.maxRssMiB.toFixed(0)
      } |`,
    );
  }
  console.log(
    "\n| input | enc/age | dec/age | enc/cat | dec/cat | kmsenv peak RSS MiB (enc/dec) | age RSS MiB |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);
}

async function benchManyFiles(dir: string): Promise<void> {
  const count = Number(values.files);
  const emulator = await startEmulator(["--latency-ms", "20"]);
  try {
    await kmsenv(emulator.env, "key", "create", "--alias", "alias/bench-small");
    const tree = `${dir}/small`;
    await Deno.remove(tree, { recursive: true }).catch(() => {});
    await Deno.mkdir(tree, { recursive: true });
    const block = new Uint8Array(4096);
    for (let i = 0; i < count; i++) {
      crypto.getRandomValues(block);
      await Deno.writeFile(`${tree}/f${String(i).padStart(5, "0")}.bin`, block);
    }
    const before = await emulatorStats(emulator);
    const enc = await timed(
      kmsenvArgv("encrypt", "-r", tree, "--key", "alias/bench-small", "-q"),
      { env: emulator.env },
    );
    const mid = await emulatorStats(emulator);
    for await (const entry of Deno.readDir(tree)) {
      if (entry.name.endsWith(".bin")) await Deno.remove(`${tree}/${entry.name}`);
    }
    const dec = await timed(kmsenvArgv("decrypt", "-r", tree, "-q"), { env: emulator.env });
    const after = await emulatorStats(emulator);
    const delta = (a: Record<string, number>, b: Record<string, number>, k: string) =>
      (b[k] ?? 0) - (a[k] ?? 0);
    console.log(`\n## ${count} files of 4 KiB, emulator with 20 ms latency`);
    console.log(
      `  encrypt: ${fmt(enc)}; GenerateDataKey calls: ${delta(before, mid, "GenerateDataKey")}`,
    );
    console.log(`  decrypt: ${fmt(dec)}; Decrypt calls: ${delta(mid, after, "Decrypt")}`);
  } finally {
    await emulator.stop();
  }
}

async function main(): Promise<void> {
  await ensureTools();
  const dir = values.dir ?? `${ROOT}.tmp/bench`;
  await Deno.mkdir(dir, { recursive: true });
  console.log(
    `# kmsenv bench: ${Deno.build.target}, ${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}`,
  );
  const emulator = await startEmulator();
  try {
    await kmsenv(emulator.env, "key", "create", "--alias", "alias/bench");
    if (sizesMiB.length) await benchLarge(dir, emulator);
  } finally {
    await emulator.stop();
  }
  if (!values["skip-files"]) await benchManyFiles(dir);
  if (!values["skip-startup"]) {
    try {
      const mod = await import("./startup_bench.ts");
      const fn = (mod as Record<string, unknown>).benchStartup ??
        (mod as Record<string, unknown>).main;
      if (typeof fn === "function") await fn();
    } catch (err) {
      console.log(`\nstart-up bench unavailable: ${(err as Error).message}`);
    }
  }
}

if (import.meta.main) await main();
