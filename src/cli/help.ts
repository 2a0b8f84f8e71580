/**
 * Help text generated from the command table in `spec.ts`.
 *
 * @module
 */

import { COMMANDS, type CommandSpec, type OptionSpec } from "./spec.ts";

function optionLine(option: OptionSpec): string {
  const short = option.short ? `-${option.short}, ` : "    ";
  const arg = option.type === "string" ? ` ${option.arg ?? "VALUE"}` : "";
  const left = `  ${short}--${option.name}${arg}`;
  return left.length >= 30
    ? `${left}\n${" ".repeat(30)}${option.help}`
    : `${left.padEnd(30)}${option.help}`;
}

/** Top-level usage: every command with its summary. */
export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "kmsenv: envelope encryption for local data with Alibaba Cloud KMS",
    "",
    "Usage: kmsenv <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Options:",
    "  -h, --help                  Show help (also: kmsenv <command> --help)",
    "  -V, --version               Show version",
    "",
    "Examples:",
    "  kmsenv key create --alias alias/Apollo/WorkKey",
    "  kmsenv encrypt data/sales.csv --key alias/Apollo/WorkKey",
    "  kmsenv decrypt data/sales.csv.kmsenv",
    "  kmsenv kms-emulator --port 0      # a local KMS for tests",
    "",
    "Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, ~/.aliyun/config.json,",
    "~/.alibabacloud/credentials or the ECS instance RAM role; never from the command line.",
    "",
  ].join("\n");
}

/** Help for one command (or sub-command); `path` is e.g. `["key", "create"]`. */
export function commandUsage(spec: CommandSpec): string {
  const lines = [`Usage: kmsenv ${spec.synopsis}`, "", spec.summary];
  if (spec.description) lines.push("", spec.description);
  if (spec.subcommands?.length) {
    const width = Math.max(...spec.subcommands.map((s) => s.name.length)) + 2;
    lines.push("", "Commands:");
    for (const sub of spec.subcommands) lines.push(`  ${sub.name.padEnd(width)}${sub.summary}`);
  }
  if (spec.options.length) {
    lines.push("", "Options:");
    for (const option of spec.options) lines.push(optionLine(option));
  }
  if (spec.examples.length) {
    lines.push("", "Examples:");
    for (const example of spec.examples) lines.push(`  ${example}`);
  }
  return lines.join("\n") + "\n";
}
