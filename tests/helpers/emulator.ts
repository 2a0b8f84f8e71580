/**
 * The KMS emulator for tests: in this process (`startEmulator`) or as the
 * real `kmsenv kms-emulator` subprocess (`spawnEmulator`), plus the
 * environment that points the CLI at it (`emulatorEnv`). Both listen on
 * 127.0.0.1 only and return the same shape.
 */

import {
  type EmulatorOptions,
  type EmulatorServer,
  startEmulatorServer,
} from "../../src/emulator/server.ts";

export type { EmulatorOptions, EmulatorServer };

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** What both helpers return: where the emulator is and how to stop it. */
export interface TestEmulator {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  region: string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts an in-process emulator on a free loopback port. */
export function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorServer> {
  return startEmulatorServer({ hostname: "127.0.0.1", port: 0, ...options });
}

/** The environment for `runKmsenv` that targets `server` with its credentials. */
export function emulatorEnv(server: {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  region: string;
}): {
  KMSENV_ENDPOINT: string;
  ALIBABA_CLOUD_ACCESS_KEY_ID: string;
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: string;
  ALIBABA_CLOUD_REGION_ID: string;
} {
  return {
    KMSENV_ENDPOINT: server.endpoint,
    ALIBABA_CLOUD_ACCESS_KEY_ID: server.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: server.accessKeySecret,
    ALIBABA_CLOUD_REGION_ID: server.region,
  };
}

/** A `kmsenv kms-emulator` subprocess. */
export interface SpawnedEmulator extends TestEmulator {
  /** The child process, e.g. for `status` after close. */
  child: Deno.ChildProcess;
  /** Everything the emulator wrote to stderr, available after close. */
  stderr(): Promise<string>;
}

/**
 * Runs `deno run -A main.ts kms-emulator --port 0 …args` and waits for its
 * JSON line. `close()` sends SIGTERM and waits for the exit.
 */
export async function spawnEmulator(
  args: string[] = [],
  options: { env?: Record<string, string> } = {},
): Promise<SpawnedEmulator> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, "kms-emulator", "--port", "0", ...args],
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      ...options.env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      const status = await child.status;
      throw new Error(
        `kms-emulator exited (code ${status.code}) before printing its endpoint: ` +
          (await stderrText),
      );
    }
    buffered += value;
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const rest = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  const info = JSON.parse(buffered.slice(0, buffered.indexOf("\n")));
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      await child.status;
      await rest;
    })();
  return {
    endpoint: info.endpoint,
    accessKeyId: info.accessKeyId,
    accessKeySecret: info.accessKeySecret,
    region: info.region,
    child,
    stderr: () => stderrText,
    close,
    [Symbol.asyncDispose]: close,
  };
}
