/**
 * Version facts. `BUILD_COMMIT` is rewritten by `scripts/compile.ts` into the
 * compiled binary; when running from source it is read from git lazily.
 *
 * @module
 */

export const VERSION = "0.1.0";

/** Replaced at compile time by scripts/compile.ts; empty when running from source. */
export const BUILD_COMMIT: string = "";

export interface VersionInfo {
  kmsenv: string;
  deno: string;
  v8: string;
  typescript: string;
  commit: string;
}

function gitCommit(): string {
  if (BUILD_COMMIT) return BUILD_COMMIT;
  try {
    const dir = new URL("../..", import.meta.url);
    if (dir.protocol !== "file:") return "unknown";
    const out = new Deno.Command("git", {
      args: ["rev-parse", "--short=12", "HEAD"],
      cwd: dir,
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}

export function versionInfo(): VersionInfo {
  return {
    kmsenv: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    commit: gitCommit(),
  };
}

export function versionText(info: VersionInfo = versionInfo()): string {
  return `kmsenv ${info.kmsenv} (commit ${info.commit})\ndeno ${info.deno}\nv8 ${info.v8}\n`;
}
