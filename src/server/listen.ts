/**
 * Running the API: the bind policy (loopback only unless asked, with TLS),
 * unix sockets created 0600, the bearer-token file, and graceful shutdown.
 * `createApp` stays free of all of this so it can be tested without sockets.
 *
 * @module
 */

import { InputError, UsageError } from "../errors.ts";
import { type AppDeps, createApp } from "./app.ts";
import { Metrics } from "./metrics.ts";
import { generateToken, isLoopbackAddress, MIN_TOKEN_LENGTH } from "./security.ts";

/** Where and how to listen. */
export interface ListenOptions {
  /**
   * Address to bind. Always passed to Deno.serve, whose own default is every interface.
   * @default {"127.0.0.1"}
   */
  hostname?: string | undefined;
  /** @default {8787} (0 picks a free port) */
  port?: number | undefined;
  /** Listen on this unix socket instead of TCP (created with mode 0600). */
  socket?: string | undefined;
  /** Permit a non-loopback `hostname`; requires `cert` and `key`. */
  allowRemote?: boolean | undefined;
  /** TLS certificate chain, PEM text. */
  cert?: string | undefined;
  /** TLS private key, PEM text. */
  key?: string | undefined;
}

/** A listening server. */
export interface RunningServer {
  /** `http(s)://HOST:PORT` for TCP; `undefined` on a unix socket. */
  url: string | undefined;
  /** The socket path, on a unix socket. */
  socket: string | undefined;
  metrics: Metrics;
  /** Stops accepting, answers 503 to new requests on open connections, waits for in-flight ones. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Refuses a bind that would expose the API beyond this machine, unless the
 * caller asked for it and gave TLS material.
 *
 * @throws {UsageError} For a non-loopback address without `allowRemote`, cert and key.
 */
export function checkBindPolicy(options: ListenOptions): void {
  if (options.socket !== undefined) {
    if (options.hostname !== undefined || options.port !== undefined) {
      throw new UsageError("Cannot listen: --socket excludes --host and --port");
    }
    return;
  }
  const host = options.hostname ?? "127.0.0.1";
  const tls = options.cert !== undefined || options.key !== undefined;
  if (tls && (options.cert === undefined || options.key === undefined)) {
    throw new UsageError("Cannot listen with TLS: give both --cert and --key-file");
  }
  if (isLoopbackAddress(host)) return;
  if (!options.allowRemote) {
    throw new UsageError(`Cannot listen on '${host}': not a loopback address`, {
      hint: "the API is for local programs; to expose it anyway, add --allow-remote with " +
        "--cert and --key-file (TLS)",
    });
  }
  if (!tls) {
    throw new UsageError(`Cannot listen on '${host}' without TLS`, {
      hint: "--allow-remote needs --cert and --key-file: the token must not cross a network " +
        "in clear text",
    });
  }
}

/**
 * Builds the app and serves it.
 *
 * @param deps What `createApp` needs (`isDraining` is set here).
 * @param options Where to listen.
 * @returns The running server; call `shutdown()` to stop it.
 */
export async function startServer(
  deps: Omit<AppDeps, "isDraining">,
  options: ListenOptions = {},
): Promise<RunningServer> {
  checkBindPolicy(options);
  const metrics = deps.metrics ?? new Metrics();
  let draining = false;
  const app = createApp({
    ...deps,
    metrics,
    isDraining: () => draining,
  });
  const log = deps.log ?? (() => {});
  const onError = (err: unknown) => {
    log(`request failed: ${err instanceof Error ? err.name : typeof err}`);
    return new Response(null, { status: 500 });
  };

  let server: Deno.HttpServer<Deno.NetAddr> | Deno.HttpServer<Deno.UnixAddr>;
  let url: string | undefined;
  if (options.socket !== undefined) {
    await clearStaleSocket(options.socket);
    // Create the socket with no group/other access from the start (no chmod race).
    const oldMask = trySetUmask(0o177);
    try {
      server = Deno.serve(
        { path: options.socket, onListen: () => {}, onError },
        app.fetch,
      );
    } finally {
      if (oldMask !== undefined) trySetUmask(oldMask);
    }
    await Deno.chmod(options.socket, 0o600);
  } else {
    const hostname = options.hostname ?? "127.0.0.1";
    const base = { hostname, port: options.port ?? 8787, onListen: () => {}, onError };
    const tcp = options.cert !== undefined && options.key !== undefined
      ? Deno.serve({ ...base, cert: options.cert, key: options.key }, app.fetch)
      : Deno.serve(base, app.fetch);
    server = tcp;
    const addr = tcp.addr;
    const h = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    url = `${options.cert ? "https" : "http"}://${h}:${addr.port}`;
  }

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      draining = true;
      await server.shutdown();
    })();
    return stopping;
  };
  return {
    url,
    socket: options.socket,
    metrics,
    shutdown,
    finished: server.finished,
    [Symbol.asyncDispose]: shutdown,
  };
}

function trySetUmask(mask: number): number | undefined {
  try {
    return Deno.umask(mask);
  } catch {
    return undefined; // Not available (e.g. Windows); the chmod below still applies.
  }
}

/** Removes a socket file left by a dead server; refuses a live one or a non-socket. */
async function clearStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  if (!info.isSocket) {
    throw new InputError(`Cannot listen on '${path}': it exists and is not a socket`);
  }
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
  } catch {
    await Deno.remove(path);
    return;
  }
  throw new InputError(`Cannot listen on '${path}': another server is listening there`);
}

/** Where the token comes from and where it was written. */
export interface TokenSource {
  token: string;
  /** The file holding a generated token; undefined when it came from the environment. */
  file: string | undefined;
}

/**
 * Gets the bearer token: `envToken` if set (at least 16 characters), else a
 * new random one written to `file` (mode 0600, directory 0700, never
 * following a symlink at the file's place).
 *
 * @throws {UsageError} For a too-short `envToken`.
 */
export async function resolveToken(
  envToken: string | undefined,
  file: string,
): Promise<TokenSource> {
  if (envToken !== undefined && envToken !== "") {
    if (envToken.length < MIN_TOKEN_LENGTH || /\s/.test(envToken)) {
      throw new UsageError(
        `Cannot use KMSENV_SERVE_TOKEN: it must have at least ${MIN_TOKEN_LENGTH} characters ` +
          "and no spaces",
        { hint: "unset it to have a random token generated" },
      );
    }
    return { token: envToken, file: undefined };
  }
  const token = generateToken();
  const dir = file.slice(0, Math.max(file.lastIndexOf("/"), 0)) || ".";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await Deno.remove(file);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  // createNew: fails instead of following a symlink planted at this name.
  const f = await Deno.open(file, { write: true, createNew: true, mode: 0o600 });
  try {
    await f.write(new TextEncoder().encode(token + "\n"));
    await Deno.chmod(file, 0o600);
  } finally {
    f.close();
  }
  return { token, file };
}

/** The default token file: `$XDG_RUNTIME_DIR/kmsenv/serve.token`, else `~/.kmsenv/serve.token`. */
export function defaultTokenFile(env: (name: string) => string | undefined): string {
  const runtime = env("XDG_RUNTIME_DIR");
  if (runtime) return `${runtime}/kmsenv/serve.token`;
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) {
    throw new UsageError("Cannot place the token file: HOME is not set", {
      hint: "give --token-file PATH or set KMSENV_SERVE_TOKEN",
    });
  }
  return `${home}/.kmsenv/serve.token`;
}
