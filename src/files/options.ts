/**
 * Parsing of the option values `encrypt` and `decrypt` share: encryption
 * context pairs and byte sizes. Problems are UsageErrors (exit status 2).
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { EncryptionContext } from "../kms/types.ts";
import { MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE } from "../envelope/mod.ts";

/**
 * Parse repeated `--context K=V` values into a context. The value may contain
 * `=` (only the first one splits); the key must not be empty, and a key may
 * appear only once. Values may be empty. Values are not echoed in errors,
 * since people sometimes put identifiers there that they consider sensitive.
 */
export function parseContextArgs(pairs: readonly string[] | undefined): EncryptionContext {
  const context: EncryptionContext = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    if (eq < 0) {
      throw new UsageError(`Invalid --context ${JSON.stringify(pair)}: expected K=V`, {
        hint: "for example --context dept=sales --context year=2025",
      });
    }
    const key = pair.slice(0, eq);
    if (key === "") {
      throw new UsageError("Invalid --context: the key before '=' is empty", {
        hint: "for example --context dept=sales",
      });
    }
    if (Object.hasOwn(context, key)) {
      throw new UsageError(`Invalid --context: key ${JSON.stringify(key)} is given twice`);
    }
    context[key] = pair.slice(eq + 1);
  }
  return context;
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1 << 20,
  mb: 1 << 20,
  mib: 1 << 20,
};

/** Parse `--segment-size`: bytes, or with a binary unit (`64KiB`, `1M`). */
export function parseSegmentSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(`Invalid --segment-size ${JSON.stringify(text)}`, {
      hint: "give bytes, optionally with KiB or MiB, e.g. --segment-size 4MiB",
    });
  }
  const size = Number(m[1]) * unit;
  if (size < MIN_SEGMENT_SIZE || size > MAX_SEGMENT_SIZE) {
    throw new UsageError(
      `Invalid --segment-size ${JSON.stringify(text)}: use ${MIN_SEGMENT_SIZE} bytes (4KiB) ` +
        `to ${MAX_SEGMENT_SIZE} bytes (64MiB)`,
    );
  }
  return size;
}
