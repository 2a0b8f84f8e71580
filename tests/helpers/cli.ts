/**
 * Runs the real CLI (`deno run main.ts …`) as a subprocess, the way a user does.
 * HOME is a fresh temporary directory unless given, and the ECS metadata
 * service is disabled, so no test ever reads the developer's credentials or
 * sends a request off this machine.
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: Uint8Array | string;
  /** Kill the process with this signal after `afterMs` (for signal tests). */
  signal?: { name: Deno.Signal; afterMs: number };
}

let sharedHome: string | undefined;

/** A temporary HOME shared by the CLI runs of this test process. */
export function isolatedHome(): string {
  sharedHome ??= Deno.makeTempDirSync({ prefix: "kmsenv-home-" });
  return sharedHome;
}

/** The environment every CLI test starts from: nothing from the developer's machine. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: isolatedHome(),
    DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: "true",
    NO_COLOR: "1",
    ...extra,
  };
}

export async function runKmsenv(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env = baseEnv(options.env);
  if (!env.DENO_DIR) delete env.DENO_DIR;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, ...args],
    env,
    clearEnv: true,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    const bytes = typeof options.stdin === "string"
      ? new TextEncoder().encode(options.stdin)
      : options.stdin;
    await writer.write(bytes).catch(() => {});
    await writer.close().catch(() => {});
  }
  let timer: number | undefined;
  if (options.signal) {
    const { name, afterMs } = options.signal;
    timer = setTimeout(() => {
      try {
        child.kill(name);
      } catch { /* already exited */ }
    }, afterMs);
  }
  const out = await child.output();
  if (timer !== undefined) clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    stdoutBytes: out.stdout,
  };
}
