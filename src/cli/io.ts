/**
 * The process boundary a command sees: streams, terminal facts and the
 * environment. `systemIo()` is the real one; tests may pass their own.
 *
 * @module
 */

export interface Io {
  stdin: ReadableStream<Uint8Array>;
  stdout: WritableStream<Uint8Array>;
  /** Writes text to stdout (for listings and JSON). */
  print(text: string): void;
  /** Writes text to stderr (status, warnings, errors). */
  printErr(text: string): void;
  stdinIsTerminal: boolean;
  stdoutIsTerminal: boolean;
  stderrIsTerminal: boolean;
  env(name: string): string | undefined;
}

const encoder = new TextEncoder();

function writeAllSync(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
}

/** The real process: Deno's stdio and environment. */
export function systemIo(): Io {
  return {
    get stdin() {
      return Deno.stdin.readable;
    },
    get stdout() {
      return Deno.stdout.writable;
    },
    print: (text) => writeAllSync(Deno.stdout, encoder.encode(text)),
    printErr: (text) => writeAllSync(Deno.stderr, encoder.encode(text)),
    stdinIsTerminal: Deno.stdin.isTerminal(),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    env: (name) => {
      try {
        return Deno.env.get(name);
      } catch {
        // Without --allow-env for this name (compiled binary), treat it as unset.
        return undefined;
      }
    },
  };
}
