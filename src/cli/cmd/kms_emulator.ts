/**
 * `kmsenv kms-emulator`: runs the local KMS emulator until SIGINT or SIGTERM.
 * stdout carries exactly one JSON line (endpoint and credentials) so scripts
 * and tests can read it; everything else goes to stderr.
 *
 * @module
 */

import { UsageError } from "../../errors.ts";
import { startEmulatorServer } from "../../emulator/server.ts";
import type { CommandContext } from "../spec.ts";

function text(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  return typeof value === "string" ? value : undefined;
}

function number(
  ctx: CommandContext,
  name: string,
  pattern: RegExp,
  check: (n: number) => boolean,
  expected: string,
): number | undefined {
  const value = text(ctx, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!pattern.test(value) || !check(n)) {
    throw new UsageError(`Invalid --${name} '${value}': expected ${expected}`, {
      hint: "see 'kmsenv kms-emulator --help'",
    });
  }
  return n;
}

const INTEGER = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/** Runs the emulator in the foreground. */
export async function run(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`Unexpected argument '${ctx.positionals[0]}'`, {
      hint: "see 'kmsenv kms-emulator --help'",
    });
  }
  const rate = (n: number) => n >= 0 && n <= 1;
  const server = await startEmulatorServer({
    hostname: text(ctx, "host") ?? "127.0.0.1",
    port: number(ctx, "port", INTEGER, (n) => n <= 65535, "a port number from 0 to 65535") ?? 0,
    region: text(ctx, "region"),
    statePath: text(ctx, "state"),
    accessKeyId: text(ctx, "access-key-id"),
    // The secret preferably comes from the environment: a command line shows up in `ps`.
    accessKeySecret: text(ctx, "access-key-secret") ?? (ctx.io.env("KMSENV_EMULATOR_SECRET") ||
      undefined),
    accountId: text(ctx, "account-id"),
    latencyMs: number(ctx, "latency-ms", INTEGER, () => true, "milliseconds, 0 or more"),
    throttleRate: number(ctx, "throttle-rate", DECIMAL, rate, "a number from 0 to 1"),
    errorRate: number(ctx, "error-rate", DECIMAL, rate, "a number from 0 to 1"),
  });
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  ctx.io.print(
    JSON.stringify({
      endpoint: server.endpoint,
      accessKeyId: server.accessKeyId,
      accessKeySecret: server.accessKeySecret,
      region: server.region,
    }) + "\n",
  );
  ctx.io.printErr(
    `kmsenv: KMS emulator listening on ${server.endpoint} (region ${server.region}). ` +
      "Not for production: key material is kept unprotected in memory" +
      (text(ctx, "state") ? " and in the state file" : "") + ".\n",
  );
  await stopped.promise;
  for (const signal of signals) Deno.removeSignalListener(signal, stop);
  await server.close();
  return 0;
}
