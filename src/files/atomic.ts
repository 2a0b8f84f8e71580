/**
 * Safe output files (DESIGN.md §4). Output is written to a temporary file in
 * the destination directory — created with mode 0600, an unpredictable name
 * and exclusive-create semantics — flushed and fsynced, and only then moved
 * into place. Until {@link AtomicFile.commit} the destination is untouched, so
 * a reader never sees a partial or unauthenticated file.
 *
 * Without `force`, the move is a hard link followed by an unlink of the
 * temporary name: `link(2)` fails if the destination appeared in the meantime,
 * which makes "never overwrite" race-free (the effect of
 * `renameat2(RENAME_NOREPLACE)`, which Deno does not expose). With `force` it
 * is a plain `rename(2)`, which atomically replaces the destination.
 *
 * Every live temporary file is in a process-wide registry. While it is not
 * empty, SIGINT and SIGTERM handlers are installed that remove them all and
 * exit with 130 / 143, as a shell reports a process killed by that signal.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { InputError } from "../errors.ts";

/** Infix of temporary file names: `.NAME.kmsenv-tmp-RANDOM` next to the destination. */
export const TEMP_INFIX = ".kmsenv-tmp-";

/** Mode of every file kmsenv creates (plaintext and ciphertext alike). */
export const OUTPUT_MODE = 0o600;

const live = new Set<string>();
const SIGNALS: { name: Deno.Signal; status: number }[] = [
  { name: "SIGINT", status: 130 },
  { name: "SIGTERM", status: 143 },
];
const handlers = new Map<Deno.Signal, () => void>();

function removeLiveTempFiles(): void {
  for (const path of live) {
    try {
      Deno.removeSync(path);
    } catch { /* already gone */ }
  }
  live.clear();
}

function installSignalHandlers(): void {
  if (handlers.size > 0) return;
  for (const { name, status } of SIGNALS) {
    const handler = () => {
      removeLiveTempFiles();
      try {
        Deno.stderr.writeSync(new TextEncoder().encode(`kmsenv: interrupted by ${name}\n`));
      } catch { /* stderr closed */ }
      Deno.exit(status);
    };
    try {
      Deno.addSignalListener(name, handler);
      handlers.set(name, handler);
    } catch {
      // SIGTERM cannot be listened for on Windows; SIGINT still is.
    }
  }
}

// The listeners are removed again when no temporary file is live, so a
// process that is done writing does not keep intercepting signals (and the
// listener does not keep the event loop alive).
function uninstallSignalHandlers(): void {
  for (const [name, handler] of handlers) {
    try {
      Deno.removeSignalListener(name, handler);
    } catch { /* not installed */ }
  }
  handlers.clear();
}

function register(path: string): void {
  live.add(path);
  installSignalHandlers();
}

function unregister(path: string): void {
  live.delete(path);
  if (live.size === 0) uninstallSignalHandlers();
}

/** Number of temporary files currently registered (for tests). */
export function liveTempFileCount(): number {
  return live.size;
}

/** The temporary name used for `dest`: hidden, in the same directory, random suffix. */
export function tempPathFor(dest: string): string {
  const random = crypto.getRandomValues(new Uint8Array(8)).toHex();
  return join(dirname(dest), `.${basename(dest)}${TEMP_INFIX}${random}`);
}

/** True for names made by {@link tempPathFor} (skipped when walking directories). */
export function isTempName(name: string): boolean {
  return name.startsWith(".") && name.includes(TEMP_INFIX);
}

/** Options for {@link AtomicFile.create}. */
export interface AtomicFileOptions {
  /** Replace an existing destination. @default false */
  force?: boolean | undefined;
}

/**
 * An output file under construction. Write to {@link AtomicFile.file}, then
 * call {@link AtomicFile.commit}, or {@link AtomicFile.abort} on failure
 * (abort is idempotent and safe after commit, so use it in `finally`).
 */
export class AtomicFile {
  /** The open temporary file (write-only). */
  readonly file: Deno.FsFile;
  /** Final path. */
  readonly dest: string;
  /** Temporary path, in the destination's directory. */
  readonly tempPath: string;
  readonly #force: boolean;
  #state: "open" | "committed" | "aborted" = "open";

  private constructor(file: Deno.FsFile, dest: string, tempPath: string, force: boolean) {
    this.file = file;
    this.dest = dest;
    this.tempPath = tempPath;
    this.#force = force;
  }

  /**
   * Create the temporary file for `dest`. Fails early (before any byte is
   * written) when `dest` exists and `force` is not set, or is a directory.
   */
  static create(dest: string, options: AtomicFileOptions = {}): AtomicFile {
    const force = options.force ?? false;
    checkDestination(dest, force);
    for (let attempt = 0;; attempt++) {
      const tempPath = tempPathFor(dest);
      let file: Deno.FsFile;
      try {
        // Registered before the open returns, so a signal between the two
        // cannot leave the file behind.
        register(tempPath);
        file = Deno.openSync(tempPath, { write: true, createNew: true, mode: OUTPUT_MODE });
      } catch (err) {
        unregister(tempPath);
        // A name collision (2^-64) or a leftover: try another name.
        if (err instanceof Deno.errors.AlreadyExists && attempt < 3) continue;
        throw outputError(dest, err);
      }
      return new AtomicFile(file, dest, tempPath, force);
    }
  }

  /**
   * Flush the data to disk, move the file into place and fsync the directory,
   * so that after a crash either the old state or the complete file exists.
   */
  commit(): void {
    if (this.#state !== "open") throw new Error(`AtomicFile.commit() after ${this.#state}`);
    try {
      this.file.syncSync();
      this.file.close();
    } catch (err) {
      this.abort();
      throw outputError(this.dest, err);
    }
    try {
      if (this.#force) {
        Deno.renameSync(this.tempPath, this.dest);
      } else {
        moveNoReplace(this.tempPath, this.dest);
      }
    } catch (err) {
      this.#state = "committed"; // the file is closed already
      this.#removeTemp();
      if (err instanceof Deno.errors.AlreadyExists) throw existsError(this.dest);
      throw outputError(this.dest, err);
    }
    this.#state = "committed";
    unregister(this.tempPath);
    syncDirectory(dirname(this.dest));
  }

  /** Close and remove the temporary file; the destination is untouched. */
  abort(): void {
    if (this.#state !== "open") return;
    this.#state = "aborted";
    try {
      this.file.close();
    } catch { /* already closed */ }
    this.#removeTemp();
  }

  #removeTemp(): void {
    try {
      Deno.removeSync(this.tempPath);
    } catch { /* already gone */ }
    unregister(this.tempPath);
  }

  [Symbol.dispose](): void {
    this.abort();
  }
}

function moveNoReplace(from: string, to: string): void {
  try {
    Deno.linkSync(from, to);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) throw err;
    // Some file systems (FAT, some network mounts) have no hard links: fall
    // back to check-then-rename, which has a small race window.
    if (exists(to)) throw new Deno.errors.AlreadyExists(to);
    Deno.renameSync(from, to);
    return;
  }
  Deno.removeSync(from);
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** fsync a directory so a rename in it is durable; not possible everywhere (Windows), so best effort. */
function syncDirectory(dir: string): void {
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch { /* best effort */ }
}

function checkDestination(dest: string, force: boolean): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(dest);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw outputError(dest, err);
  }
  if (info.isDirectory) {
    throw new InputError(`Cannot write output: ${JSON.stringify(dest)} is a directory`);
  }
  if (!force) throw existsError(dest);
}

/** The error for an existing output without `--force`. */
export function existsError(dest: string): InputError {
  return new InputError(`Cannot write output: ${JSON.stringify(dest)} already exists`, {
    hint: "use --force to overwrite it, or -o to choose another name",
  });
}

function outputError(dest: string, err: unknown): InputError {
  const detail = err instanceof Error ? err.message : String(err);
  return new InputError(`Cannot write output ${JSON.stringify(dest)}: ${detail}`, { cause: err });
}

/**
 * Throw when `input` and `output` are the same file (same path after
 * resolving links, or the same inode through a hard link), which would
 * destroy the input.
 */
export function checkNotSameFile(input: string, output: string): void {
  let a: Deno.FileInfo;
  let b: Deno.FileInfo;
  try {
    a = Deno.statSync(input);
    b = Deno.statSync(output);
  } catch {
    return; // the output does not exist yet
  }
  const sameInode = a.ino !== null && a.ino === b.ino && a.dev === b.dev;
  let samePath = false;
  try {
    samePath = Deno.realPathSync(input) === Deno.realPathSync(output);
  } catch { /* keep the inode answer */ }
  if (sameInode || samePath) {
    throw new InputError(
      `Cannot write output: ${JSON.stringify(output)} is the input file itself`,
      { hint: "choose another output name with -o" },
    );
  }
}
