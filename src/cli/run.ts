/**
 * The CLI entry: argument parsing from the command table, dispatch, and the
 * only place where errors become text (`kmsenv: error: …` and
 * `kmsenv: hint: …`, after age's cmd/age/tui.go). Exit status: 0 success,
 * 1 failure, 2 usage error.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { KmsenvError, UsageError } from "../errors.ts";
import { commandUsage, mainUsage } from "./help.ts";
import type { Io } from "./io.ts";
import { COMMANDS, type CommandSpec } from "./spec.ts";
import { versionText } from "./version.ts";

/** Exit statuses. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

type ParseOptions = Record<
  string,
  { type: "boolean" | "string"; short?: string; multiple?: boolean }
>;

function parseOptions(spec: CommandSpec): ParseOptions {
  const options: ParseOptions = {};
  for (const o of spec.options) {
    options[o.name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  return options;
}

function parse(spec: CommandSpec, args: string[]) {
  try {
    return parseArgs({
      args,
      options: parseOptions(spec),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // node:util's messages are clear but mention "option" with quotes; keep the gist.
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(message.replace(/\. To specify a positional.*$/s, ""), {
      hint: `see 'kmsenv ${spec.synopsis.split(" ")[0]} --help'`,
    });
  }
}

/**
 * Runs the CLI with `args` (without the program name) and returns the exit status.
 */
export async function runCli(args: string[], io: Io): Promise<number> {
  try {
    return await dispatch(args, io);
  } catch (err) {
    return reportError(err, io);
  }
}

async function dispatch(args: string[], io: Io): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    if (first === "help" && rest[0]) return dispatch([rest[0], "--help"], io);
    io.print(mainUsage());
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === "-V" || first === "--version") {
    io.print(versionText());
    return EXIT_OK;
  }
  let spec = COMMANDS.find((c) => c.name === first);
  if (!spec) {
    throw new UsageError(`Unknown command '${first}'`, {
      hint: "run 'kmsenv --help' for the list of commands",
    });
  }
  let remaining = rest;
  if (spec.subcommands) {
    const [sub, ...subRest] = rest;
    if (sub === undefined || sub === "-h" || sub === "--help") {
      io.print(commandUsage(spec));
      return sub === undefined ? EXIT_USAGE : EXIT_OK;
    }
    const subSpec = spec.subcommands.find((s) => s.name === sub);
    if (!subSpec) {
      throw new UsageError(`Unknown command 'kmsenv ${spec.name} ${sub}'`, {
        hint: `run 'kmsenv ${spec.name} --help' for the list of commands`,
      });
    }
    remaining = [sub, ...subRest];
    const parsed = parse(subSpec, subRest);
    if (parsed.values.help) {
      io.print(commandUsage(subSpec));
      return EXIT_OK;
    }
    const module = await spec.load!();
    return await module.run({
      values: parsed.values,
      positionals: [sub, ...parsed.positionals],
      io,
    });
  }
  const parsed = parse(spec, remaining);
  if (parsed.values.help) {
    io.print(commandUsage(spec));
    return EXIT_OK;
  }
  spec = spec as CommandSpec;
  const module = await spec.load!();
  return await module.run({ values: parsed.values, positionals: parsed.positionals, io });
}

/** Prints an error the age way and returns its exit status. */
export function reportError(err: unknown, io: Io): number {
  if (err instanceof KmsenvError) {
    io.printErr(`kmsenv: error: ${oneLine(err.message)}\n`);
    if (err.hint) io.printErr(`kmsenv: hint: ${oneLine(err.hint)}\n`);
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
  if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied) {
    io.printErr(`kmsenv: error: ${oneLine((err as Error).message)}\n`);
    return EXIT_FAILURE;
  }
  // Unexpected: a bug. Print the name and message only (stack with KMSENV_DEBUG=1),
  // since messages from deep inside could in theory carry data we did not vet.
  const name = err instanceof Error ? err.name : "Error";
  const message = err instanceof Error ? err.message : String(err);
  io.printErr(`kmsenv: error: unexpected ${name}: ${oneLine(message)}\n`);
  if (io.env("KMSENV_DEBUG") && err instanceof Error && err.stack) io.printErr(err.stack + "\n");
  io.printErr("kmsenv: hint: this is a bug in kmsenv; rerun with KMSENV_DEBUG=1 and report it\n");
  return EXIT_FAILURE;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
