/**
 * Every command's definition: name, options, usage text and worked examples.
 * `--help`, argument parsing and shell completions are all generated from
 * this one table, so they cannot drift. This module must stay light: it is
 * loaded for `--help` and `--version`, which must not pull in hono, zod or
 * the emulator, so command implementations are loaded lazily by `load`.
 *
 * @module
 */

/** One command-line option. */
export interface OptionSpec {
  name: string;
  short?: string;
  type: "boolean" | "string";
  multiple?: boolean;
  /** Placeholder for the value in help, e.g. `KEY`. */
  arg?: string;
  help: string;
  /** Completion hint for the value. */
  complete?: "file" | "dir" | readonly string[];
}

/** What a command implementation receives. */
export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  io: import("./io.ts").Io;
}

/** A loaded command implementation. */
export interface CommandModule {
  run(ctx: CommandContext): Promise<number>;
}

/** One command (or sub-command). */
export interface CommandSpec {
  name: string;
  summary: string;
  /** The synopsis line after `kmsenv `. */
  synopsis: string;
  description?: string;
  options: readonly OptionSpec[];
  examples: readonly string[];
  /** Completion hint for positional arguments. */
  positionals?: "file" | "dir" | readonly string[];
  subcommands?: readonly CommandSpec[];
  load?: () => Promise<CommandModule>;
}

const HELP: OptionSpec = { name: "help", short: "h", type: "boolean", help: "Show this help" };
const JSON_OUT: OptionSpec = { name: "json", type: "boolean", help: "Print JSON instead of text" };
const QUIET: OptionSpec = {
  name: "quiet",
  short: "q",
  type: "boolean",
  help: "No progress or status output on stderr",
};

/** How to reach KMS: shared by every command that calls it. */
export const KMS_OPTIONS: readonly OptionSpec[] = [
  {
    name: "region",
    type: "string",
    arg: "REGION",
    help: "KMS region, e.g. cn-hangzhou (env ALIBABA_CLOUD_REGION_ID, profile region_id)",
  },
  {
    name: "endpoint",
    type: "string",
    multiple: true,
    arg: "URL|REGION=URL",
    help: "KMS endpoint instead of https://kms.REGION.aliyuncs.com (env KMSENV_ENDPOINT); " +
      "http:// only to loopback. Repeat as REGION=URL for several regions",
  },
  {
    name: "profile",
    type: "string",
    arg: "NAME",
    help:
      "Profile in ~/.aliyun/config.json or ~/.alibabacloud/credentials (env ALIBABA_CLOUD_PROFILE)",
  },
  {
    name: "verbose",
    short: "v",
    type: "boolean",
    help: "Log each KMS call (action, region, status, request id) to stderr; never secrets",
  },
];

const KEY_OPTION: OptionSpec = {
  name: "key",
  short: "k",
  type: "string",
  multiple: true,
  arg: "KEY",
  help: "CMK: key id, alias/NAME, ARN, or REGION:alias/NAME; repeat for several CMKs",
};
const CONTEXT_OPTION: OptionSpec = {
  name: "context",
  short: "c",
  type: "string",
  multiple: true,
  arg: "K=V",
  help: "Encryption context pair, repeatable (sent to KMS and bound into the file)",
};
const FILE_OUTPUT: readonly OptionSpec[] = [
  {
    name: "output",
    short: "o",
    type: "string",
    arg: "PATH",
    help: "Output file or directory (- for stdout)",
    complete: "file",
  },
  { name: "suffix", type: "string", arg: "SUFFIX", help: "Suffix of encrypted files [.kmsenv]" },
  { name: "recursive", short: "r", type: "boolean", help: "Process directories recursively" },
  { name: "force", short: "f", type: "boolean", help: "Overwrite existing outputs" },
  { name: "rm", type: "boolean", help: "Remove each input after its output is complete" },
  { name: "no-cache", type: "boolean", help: "Do not reuse data keys between files" },
];

export const KEY_SPEC: CommandSpec = {
  name: "key",
  summary: "Create, alias, list and describe customer master keys (CMKs)",
  synopsis: "key <create|alias|list|describe|enable|disable|schedule-deletion> [options]",
  options: [HELP],
  examples: [
    "kmsenv key create --alias alias/Apollo/WorkKey",
    "kmsenv key list --json",
  ],
  subcommands: [
    {
      name: "create",
      summary: "CreateKey, then CreateAlias when --alias is given",
      synopsis: "key create [--alias alias/NAME] [--description TEXT] [--json]",
      options: [
        { name: "alias", type: "string", arg: "alias/NAME", help: "Alias to create for the key" },
        { name: "description", type: "string", arg: "TEXT", help: "Key description" },
        JSON_OUT,
        HELP,
        ...KMS_OPTIONS,
      ],
      examples: [
        "kmsenv key create --alias alias/Apollo/WorkKey --description 'sales data'",
      ],
    },
    {
      name: "alias",
      summary: "Create an alias for a key, or re-point it with --update",
      synopsis: "key alias alias/NAME KEY_ID [--update] [--json]",
      options: [
        { name: "update", type: "boolean", help: "Re-point an existing alias (UpdateAlias)" },
        JSON_OUT,
        HELP,
        ...KMS_OPTIONS,
      ],
      examples: [
        "kmsenv key alias alias/Apollo/WorkKey 1234abcd-12ab-34cd-56ef-1234567890ab",
        "kmsenv key alias alias/Apollo/WorkKey 5678abcd-12ab-34cd-56ef-1234567890ab --update",
      ],
    },
    {
      name: "list",
      summary: "List keys with their aliases and states",
      synopsis: "key list [--json]",
      options: [JSON_OUT, HELP, ...KMS_OPTIONS],
      examples: ["kmsenv key list", "kmsenv key list --region cn-shanghai --json"],
    },
    {
      name: "describe",
      summary: "Show a key's metadata",
      synopsis: "key describe KEY [--json]",
      options: [JSON_OUT, HELP, ...KMS_OPTIONS],
      examples: ["kmsenv key describe alias/Apollo/WorkKey"],
    },
    {
      name: "enable",
      summary: "Enable a key",
      synopsis: "key enable KEY_ID",
      options: [JSON_OUT, HELP, ...KMS_OPTIONS],
      examples: ["kmsenv key enable 1234abcd-12ab-34cd-56ef-1234567890ab"],
    },
    {
      name: "disable",
      summary: "Disable a key (its ciphertexts cannot be decrypted until it is enabled)",
      synopsis: "key disable KEY_ID",
      options: [JSON_OUT, HELP, ...KMS_OPTIONS],
      examples: ["kmsenv key disable 1234abcd-12ab-34cd-56ef-1234567890ab"],
    },
    {
      name: "schedule-deletion",
      summary: "Schedule a key for deletion after a waiting period",
      synopsis: "key schedule-deletion KEY_ID --days N",
      options: [
        { name: "days", type: "string", arg: "N", help: "Waiting period, 7 to 366 days" },
        JSON_OUT,
        HELP,
        ...KMS_OPTIONS,
      ],
      examples: ["kmsenv key schedule-deletion 1234abcd-12ab-34cd-56ef-1234567890ab --days 7"],
    },
  ],
  load: () => import("./cmd/key.ts"),
};

export const ENCRYPT_SPEC: CommandSpec = {
  name: "encrypt",
  summary: "Encrypt files with a fresh data key from KMS (streaming AES-256-GCM)",
  synopsis: "encrypt FILE|DIR|- … --key KEY [--context K=V]… [-o OUT] [options]",
  description: "Each FILE becomes FILE.kmsenv next to it (or under -o DIR). One GenerateDataKey " +
    "serves the whole run; every file gets its own salt and so its own payload key. Output is " +
    "written to a temporary file and renamed into place only when complete. With -r, symbolic " +
    "links are not followed and files already ending in the suffix are skipped.",
  options: [
    KEY_OPTION,
    CONTEXT_OPTION,
    ...FILE_OUTPUT,
    {
      name: "segment-size",
      type: "string",
      arg: "BYTES",
      help: "Plaintext bytes per authenticated segment [1048576]",
    },
    JSON_OUT,
    QUIET,
    HELP,
    ...KMS_OPTIONS,
  ],
  positionals: "file",
  examples: [
    "kmsenv encrypt data/sales.csv --key alias/Apollo/WorkKey",
    "kmsenv encrypt -r data/ --key alias/Apollo/WorkKey --context dept=sales",
    "tar c docs | kmsenv encrypt - --key alias/Apollo/WorkKey > docs.tar.kmsenv",
    "kmsenv encrypt db.dump --key cn-hangzhou:alias/a --key cn-shanghai:alias/b",
  ],
  load: () => import("./cmd/encrypt.ts"),
};

export const DECRYPT_SPEC: CommandSpec = {
  name: "decrypt",
  summary: "Decrypt kmsenv files (and the KMS documentation sample's line-based files)",
  synopsis: "decrypt FILE|DIR|- … [-o OUT] [--context K=V]… [options]",
  description: "FILE.kmsenv becomes FILE. The data key is decrypted by KMS with the " +
    "encryption context stored in the file; --context additionally requires those pairs. " +
    "Plaintext is renamed into place only after every segment is authenticated. To stdout " +
    "(FILE -o - or stdin), each segment is released once its tag verifies, before the end of " +
    "the input is checked (like age): a truncated or modified file is reported on stderr and " +
    "with exit status 1 after earlier plaintext was written.",
  options: [CONTEXT_OPTION, ...FILE_OUTPUT, JSON_OUT, QUIET, HELP, ...KMS_OPTIONS],
  positionals: "file",
  examples: [
    "kmsenv decrypt data/sales.csv.kmsenv",
    "kmsenv decrypt -r data/ --context dept=sales",
    "kmsenv decrypt - < docs.tar.kmsenv | tar x",
  ],
  load: () => import("./cmd/decrypt.ts"),
};

export const REWRAP_SPEC: CommandSpec = {
  name: "rewrap",
  summary: "Replace or add key slots (key rotation) without touching the payload",
  synopsis: "rewrap FILE|DIR … --key NEW [--remove-key OLD]… [--add] [--new-data-key]",
  options: [
    KEY_OPTION,
    {
      name: "remove-key",
      type: "string",
      multiple: true,
      arg: "KEY",
      help: "Remove the slot(s) of this CMK",
    },
    { name: "add", type: "boolean", help: "Keep existing slots and add slots for --key" },
    {
      name: "new-data-key",
      type: "boolean",
      help: "Re-encrypt the payload under a fresh data key (for a leaked data key)",
    },
    { name: "recursive", short: "r", type: "boolean", help: "Process directories recursively" },
    { name: "suffix", type: "string", arg: "SUFFIX", help: "Suffix of encrypted files [.kmsenv]" },
    JSON_OUT,
    QUIET,
    HELP,
    ...KMS_OPTIONS,
  ],
  positionals: "file",
  examples: [
    "kmsenv rewrap data/sales.csv.kmsenv --key alias/Apollo/NewKey",
    "kmsenv rewrap -r data/ --add --key cn-shanghai:alias/backup",
  ],
  load: () => import("./cmd/rewrap.ts"),
};

export const INSPECT_SPEC: CommandSpec = {
  name: "inspect",
  summary: "Show a file's header without calling KMS",
  synopsis: "inspect FILE… [--json]",
  options: [JSON_OUT, HELP],
  positionals: "file",
  examples: ["kmsenv inspect data/sales.csv.kmsenv", "kmsenv inspect --json a.kmsenv"],
  load: () => import("./cmd/inspect.ts"),
};

export const UPGRADE_SPEC: CommandSpec = {
  name: "upgrade",
  summary: "Turn KMS documentation-sample files into kmsenv files",
  synopsis: "upgrade FILE… [-o OUT] [--rm] [--force]",
  options: [
    { name: "key", short: "k", type: "string", arg: "KEY", help: "CMK for the new file [same]" },
    CONTEXT_OPTION,
    ...FILE_OUTPUT,
    JSON_OUT,
    QUIET,
    HELP,
    ...KMS_OPTIONS,
  ],
  positionals: "file",
  examples: ["kmsenv upgrade sales.csv.encrypted"],
  load: () => import("./cmd/upgrade.ts"),
};

export const SERVE_SPEC: CommandSpec = {
  name: "serve",
  summary: "Run a localhost HTTP API for envelope encryption",
  synopsis:
    "serve [--host 127.0.0.1] [--port 8787] [--socket PATH] [--key KEY] [--token-file PATH]",
  description: "Every route but /healthz needs 'Authorization: Bearer TOKEN'. The token comes " +
    "from KMSENV_SERVE_TOKEN, or is generated and written (0600) to --token-file " +
    "[$XDG_RUNTIME_DIR/kmsenv/serve.token or ~/.kmsenv/serve.token]. Routes: POST /v1/encrypt, " +
    "POST /v1/decrypt (application/json or application/octet-stream), GET /healthz, " +
    "GET /metrics. See docs/SERVE.md. SIGINT/SIGTERM finish in-flight requests, then exit.",
  options: [
    { name: "host", type: "string", arg: "HOST", help: "Address to bind [127.0.0.1]" },
    { name: "port", type: "string", arg: "PORT", help: "TCP port [8787]" },
    { name: "socket", type: "string", arg: "PATH", help: "Listen on a unix socket instead" },
    {
      name: "key",
      short: "k",
      type: "string",
      arg: "KEY[,KEY…]",
      help: "Default CMK(s) for /v1/encrypt when a request names none",
    },
    {
      name: "token-file",
      type: "string",
      arg: "PATH",
      help: "Where the generated bearer token is written (0600)",
    },
    {
      name: "allow-remote",
      type: "boolean",
      help: "Allow a non-loopback address (needs --cert and --key-file)",
    },
    { name: "cert", type: "string", arg: "PATH", help: "TLS certificate (PEM)" },
    { name: "key-file", type: "string", arg: "PATH", help: "TLS private key (PEM)" },
    HELP,
    ...KMS_OPTIONS,
  ],
  examples: [
    "kmsenv serve --key alias/Apollo/WorkKey",
    "KMSENV_SERVE_TOKEN=… kmsenv serve --socket /run/kmsenv.sock",
  ],
  load: () => import("./cmd/serve.ts"),
};

export const EMULATOR_SPEC: CommandSpec = {
  name: "kms-emulator",
  summary: "Run a local KMS that speaks the real RPC API (for tests and offline work)",
  synopsis: "kms-emulator [--port N] [--region R] [--state FILE] [fault options]",
  description: "Listens on loopback only and prints one JSON line with endpoint and " +
    "credentials, then serves until SIGINT/SIGTERM. Not for production: keys are plain " +
    "software keys, in memory or (with --state) in a 0600 file. See docs/EMULATOR.md.",
  options: [
    { name: "host", type: "string", arg: "HOST", help: "Loopback address to bind [127.0.0.1]" },
    { name: "port", type: "string", arg: "PORT", help: "TCP port, 0 for any free port [0]" },
    {
      name: "region",
      type: "string",
      arg: "REGION",
      help: "Region it pretends to be [cn-hangzhou]",
    },
    {
      name: "state",
      type: "string",
      arg: "FILE",
      help: "Keep keys in FILE (0600) across restarts",
    },
    { name: "access-key-id", type: "string", arg: "ID", help: "Accepted AccessKey id" },
    {
      name: "access-key-secret",
      type: "string",
      arg: "SECRET",
      help: "Accepted AccessKey secret (env KMSENV_EMULATOR_SECRET); generated when absent",
    },
    { name: "account-id", type: "string", arg: "UID", help: "Account uid used in ARNs" },
    { name: "latency-ms", type: "string", arg: "N", help: "Delay every response by N ms" },
    {
      name: "throttle-rate",
      type: "string",
      arg: "0..1",
      help: "Share of requests answered Rejected.Throttling (429)",
    },
    {
      name: "error-rate",
      type: "string",
      arg: "0..1",
      help: "Share of requests answered ServiceUnavailableTemporary (503)",
    },
    HELP,
  ],
  examples: [
    "kmsenv kms-emulator --port 0",
    "kmsenv kms-emulator --port 9999 --state ~/.kmsenv-emulator.json --throttle-rate 0.2",
  ],
  load: () => import("./cmd/kms_emulator.ts"),
};

export const COMPLETIONS_SPEC: CommandSpec = {
  name: "completions",
  summary: "Print shell completions",
  synopsis: "completions bash|zsh|fish",
  options: [HELP],
  positionals: ["bash", "zsh", "fish"],
  examples: ["kmsenv completions bash > /etc/bash_completion.d/kmsenv"],
  load: () => import("./cmd/completions.ts"),
};

export const VERSION_SPEC: CommandSpec = {
  name: "version",
  summary: "Print version, Deno/V8 versions and the git commit",
  synopsis: "version [--json]",
  options: [JSON_OUT, HELP],
  examples: ["kmsenv version --json"],
  load: () => import("./cmd/version.ts"),
};

/** Every top-level command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  ENCRYPT_SPEC,
  DECRYPT_SPEC,
  KEY_SPEC,
  REWRAP_SPEC,
  INSPECT_SPEC,
  UPGRADE_SPEC,
  SERVE_SPEC,
  EMULATOR_SPEC,
  COMPLETIONS_SPEC,
  VERSION_SPEC,
];
