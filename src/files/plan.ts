/**
 * Turning `FILE|DIR|-` arguments into jobs (input → output pairs), before any
 * KMS call or any write, so that usage mistakes and existing outputs are
 * reported up front rather than after half the files were processed.
 *
 * Naming: encrypt adds the suffix (`a.csv` → `a.csv.kmsenv`); decrypt strips
 * it. `-o FILE` names the output of a single input; with several inputs or
 * `-r`, `-o DIR` receives the outputs, mirroring each directory argument's
 * tree below it. `-` is stdin as input and stdout as output.
 *
 * Walking (`-r`): symbolic links are not followed (a link inside a tree may
 * point anywhere, and following it could encrypt or delete files outside the
 * tree); they are reported as skipped. Encrypt skips files that already have
 * the suffix and kmsenv's own temporary files; decrypt takes only files with
 * the suffix.
 *
 * @module
 */

import { basename, join, relative, resolve } from "node:path";
import { InputError, UsageError } from "../errors.ts";
import { existsError, isTempName } from "./atomic.ts";

/** Default suffix of encrypted files. */
export const DEFAULT_SUFFIX = ".kmsenv";

/** `-`: stdin as an input, stdout as an output. */
export const STDIO = "-";

/** One input and where its output goes. */
export interface Job {
  /** Input path, or `-` for stdin. */
  input: string;
  /** Output path, or `-` for stdout. */
  output: string;
}

/** A planned run. */
export interface Plan {
  jobs: Job[];
  /** Paths skipped while walking, with the reason (for a note on stderr). */
  skipped: { path: string; reason: string }[];
}

/** Options for {@link planJobs}. */
export interface PlanOptions {
  mode: "encrypt" | "decrypt";
  /** The `-o` value. */
  output?: string | undefined;
  /** @default ".kmsenv" */
  suffix?: string | undefined;
  recursive?: boolean | undefined;
  force?: boolean | undefined;
}

/** Validate a `--suffix` value. */
export function checkSuffix(suffix: string): string {
  if (suffix === "" || suffix.includes("/") || suffix.includes("\\") || suffix === ".") {
    throw new UsageError(`Invalid suffix ${JSON.stringify(suffix)}`, {
      hint: "a suffix is a non-empty file-name ending such as .kmsenv",
    });
  }
  return suffix;
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new InputError(`Cannot read ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
}

/**
 * Plan the jobs of an `encrypt` or `decrypt` run. Throws UsageError for
 * impossible combinations and InputError for missing inputs or existing
 * outputs (without `force`).
 */
export function planJobs(inputs: string[], options: PlanOptions): Plan {
  const suffix = checkSuffix(options.suffix ?? DEFAULT_SUFFIX);
  const { mode, output } = options;
  const verb = mode;
  if (inputs.length === 0) {
    throw new UsageError(`Nothing to ${verb}: no input given`, {
      hint: `give one or more files, a directory with -r, or - to read stdin`,
    });
  }
  if (inputs.filter((i) => i === STDIO).length > 0 && inputs.length > 1) {
    throw new UsageError("Cannot mix - (stdin) with other inputs");
  }
  if (output === "") throw new UsageError("Invalid output: -o needs a path, or - for stdout");

  const skipped: Plan["skipped"] = [];
  const jobs: Job[] = [];

  // stdin: output is stdout unless -o says otherwise.
  if (inputs[0] === STDIO) {
    if (output !== undefined && output !== STDIO && statOrUndefined(output)?.isDirectory) {
      throw new UsageError(`Cannot name the output of stdin inside directory ${output}`, {
        hint: "give -o a file name",
      });
    }
    jobs.push({ input: STDIO, output: output ?? STDIO });
    return finish({ jobs, skipped }, options);
  }

  const single = inputs.length === 1 && !statOrUndefined(inputs[0]!)?.isDirectory;
  if (single) {
    const input = inputs[0]!;
    const info = statOrUndefined(input);
    if (!info) throw new InputError(`Cannot ${verb} ${JSON.stringify(input)}: no such file`);
    if (!info.isFile) {
      throw new InputError(`Cannot ${verb} ${JSON.stringify(input)}: not a regular file`);
    }
    if (output === undefined) {
      jobs.push({ input, output: defaultName(input, mode, suffix) });
    } else if (output !== STDIO && statOrUndefined(output)?.isDirectory) {
      jobs.push({ input, output: join(output, defaultName(basename(input), mode, suffix)) });
    } else {
      jobs.push({ input, output });
    }
    return finish({ jobs, skipped }, options);
  }

  // Several inputs, or a directory: -o (if any) is a directory.
  if (output === STDIO) {
    throw new UsageError(`Cannot write several ${verb}ed files to stdout`, {
      hint: "give -o a directory, or run once per file",
    });
  }
  if (output !== undefined) {
    const info = statOrUndefined(output);
    if (info && !info.isDirectory) {
      throw new UsageError(`Cannot use ${JSON.stringify(output)} as the output directory`, {
        hint: "with several inputs or -r, -o must name a directory (it is created if needed)",
      });
    }
  }
  for (const input of inputs) {
    if (input === STDIO) throw new UsageError("Cannot mix - (stdin) with other inputs");
    const info = statOrUndefined(input);
    if (!info) throw new InputError(`Cannot ${verb} ${JSON.stringify(input)}: no such file`);
    if (info.isDirectory) {
      if (!options.recursive) {
        throw new UsageError(`Cannot ${verb} ${JSON.stringify(input)}: it is a directory`, {
          hint: `use -r to ${verb} the files in it`,
        });
      }
      for (const file of walk(input, skipped)) {
        const name = basename(file);
        if (isTempName(name)) continue;
        const hasSuffix = name.endsWith(suffix) && name.length > suffix.length;
        if (mode === "encrypt" && hasSuffix) {
          skipped.push({ path: file, reason: `already has the ${suffix} suffix` });
          continue;
        }
        if (mode === "decrypt" && !hasSuffix) continue; // not ours; not worth a note
        const rel = relative(input, file);
        const out = output === undefined
          ? defaultName(file, mode, suffix)
          : join(output, defaultName(rel, mode, suffix));
        jobs.push({ input: file, output: out });
      }
    } else if (info.isFile) {
      const out = output === undefined
        ? defaultName(input, mode, suffix)
        : join(output, defaultName(basename(input), mode, suffix));
      jobs.push({ input, output: out });
    } else {
      throw new InputError(`Cannot ${verb} ${JSON.stringify(input)}: not a regular file`);
    }
  }
  return finish({ jobs, skipped }, options);
}

/** `a.csv` → `a.csv.kmsenv` (encrypt); `a.csv.kmsenv` → `a.csv` (decrypt). */
export function defaultName(path: string, mode: "encrypt" | "decrypt", suffix: string): string {
  if (mode === "encrypt") return path + suffix;
  if (!path.endsWith(suffix) || basename(path).length <= suffix.length) {
    throw new UsageError(
      `Cannot choose an output name for ${JSON.stringify(path)}: it does not end in ${suffix}`,
      { hint: `give the output name with -o, or the suffix with --suffix` },
    );
  }
  return path.slice(0, -suffix.length);
}

/** Regular files below `dir`, sorted, without following symbolic links. */
function* walk(dir: string, skipped: Plan["skipped"]): Generator<string> {
  const entries = [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isSymlink) {
      skipped.push({ path, reason: "symbolic link (not followed)" });
    } else if (entry.isDirectory) {
      yield* walk(path, skipped);
    } else if (entry.isFile) {
      yield path;
    } else {
      skipped.push({ path, reason: "not a regular file" });
    }
  }
}

function finish(plan: Plan, options: PlanOptions): Plan {
  // Two inputs must not map to one output (e.g. a/x and b/x into -o out/).
  const seen = new Map<string, string>();
  for (const job of plan.jobs) {
    if (job.output === STDIO) continue;
    const key = resolve(job.output);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new UsageError(
        `Cannot write both ${JSON.stringify(other)} and ${JSON.stringify(job.input)} to ${
          JSON.stringify(job.output)
        }`,
        { hint: "run them separately, or use -r on their common directory" },
      );
    }
    seen.set(key, job.input);
  }
  if (!options.force) {
    const existing = plan.jobs.filter((j) => j.output !== STDIO && statOrUndefined(j.output));
    if (existing.length > 0) {
      const err = existsError(existing[0]!.output);
      if (existing.length === 1) throw err;
      throw new InputError(`${err.message} (and ${existing.length - 1} more outputs)`, {
        hint: err.hint,
      });
    }
  }
  return plan;
}
