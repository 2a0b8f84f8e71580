/**
 * Runs the KMS emulator on `Deno.serve`, bound to a loopback address only.
 * This is the one entry point other code uses: the `kms-emulator` command,
 * the test helpers and the demo.
 *
 * The emulator keeps raw key material in memory and, with `statePath`, in a
 * file. It is a development and test tool, not a key management service.
 *
 * @module
 */

import { KmsenvError } from "../errors.ts";
import {
  createEmulatorApp,
  type EmulatorAppOptions,
  EmulatorStats,
  type EmulatorStatsSnapshot,
  type FaultOptions,
} from "./app.ts";
import { Credentials, randomText, type StsCredentials } from "./auth.ts";
import { KeyStore } from "./store.ts";

export type { EmulatorStatsSnapshot, FaultOptions, StsCredentials };

/** Options of {@link startEmulatorServer}. */
export interface EmulatorOptions extends FaultOptions {
  /** Loopback address to bind: 127.0.0.1 (default), another 127.x address, ::1 or localhost. */
  hostname?: string | undefined;
  /** TCP port; 0 (default) picks a free one. */
  port?: number | undefined;
  /** Region it pretends to be, used in ARNs and HostId [cn-hangzhou]. */
  region?: string | undefined;
  /** JSON state file (mode 0600) kept across restarts; in memory when absent. */
  statePath?: string | undefined;
  /** Accepted AccessKey id; generated (`LTAI…`) when absent. */
  accessKeyId?: string | undefined;
  /** Accepted AccessKey secret; generated when absent. */
  accessKeySecret?: string | undefined;
  /** Account uid used in ARNs and as Creator; random 16 digits (or the state file's) when absent. */
  accountId?: string | undefined;
  /** Whether {@link EmulatorServer.issueStsCredentials} may be used [true]. */
  stsTokens?: boolean | undefined;
}

/** A running emulator. */
export interface EmulatorServer {
  /** `http://127.0.0.1:PORT` (or `http://[::1]:PORT`). */
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  region: string;
  /** Account uid used in ARNs. */
  accountId: string;
  /** Request counters, also served at `GET {endpoint}/__emulator/stats`. */
  stats(): EmulatorStatsSnapshot;
  /**
   * Issues STS credentials (`STS.` AccessKey, secret and SecurityToken)
   * valid until `expiresAt` (default: in one hour). A request with the STS
   * AccessKey must carry exactly this token.
   */
  issueStsCredentials(options?: { expiresAt?: Date }): StsCredentials;
  /**
   * Changes fault injection while running (fields left out keep their
   * value), e.g. `setFaults({throttleFirst: 2})` before a call whose
   * retries a test wants to see.
   */
  setFaults(faults: FaultOptions): void;
  /** Stops listening and waits for pending state writes. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Whether `hostname` names a loopback address. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname === "[::1]" ||
    /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(hostname);
}

function checkRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new KmsenvError(`Invalid ${name} ${value}: expected a number from 0 to 1`);
  }
}

function checkFaults(options: FaultOptions): void {
  checkRate("throttle rate", options.throttleRate);
  checkRate("error rate", options.errorRate);
  const counts = [
    ["latency", options.latencyMs],
    ["retry-after", options.retryAfterMs],
    ["throttleFirst", options.throttleFirst],
    ["errorFirst", options.errorFirst],
  ] as const;
  for (const [name, value] of counts) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new KmsenvError(`Invalid ${name} ${value}: expected a number, 0 or more`);
    }
  }
}

function checkOptions(options: EmulatorOptions): void {
  const hostname = options.hostname ?? "127.0.0.1";
  if (!isLoopback(hostname)) {
    throw new KmsenvError(`Cannot bind the KMS emulator to ${hostname}: not a loopback address`, {
      hint: "the emulator listens on 127.0.0.1, ::1 or localhost only",
    });
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new KmsenvError(`Invalid port ${port}: expected an integer from 0 to 65535`);
  }
  checkFaults(options);
  if (options.region !== undefined && !/^[a-z0-9-]{1,64}$/.test(options.region)) {
    throw new KmsenvError(`Invalid region '${options.region}'`, {
      hint: "regions look like cn-hangzhou",
    });
  }
  if (options.accountId !== undefined && !/^\d{1,32}$/.test(options.accountId)) {
    throw new KmsenvError("Invalid account id: expected digits");
  }
  if (options.accessKeyId !== undefined && !/^[\x21-\x7e]{1,128}$/.test(options.accessKeyId)) {
    throw new KmsenvError("Invalid AccessKey id: expected 1-128 printable ASCII characters");
  }
  if (options.accessKeySecret !== undefined && options.accessKeySecret === "") {
    throw new KmsenvError("Invalid AccessKey secret: it is empty");
  }
}

/** A random AccessKey secret: 30 characters of base64url. */
function randomSecret(): string {
  return crypto.getRandomValues(new Uint8Array(24)).toBase64({ alphabet: "base64url" }).slice(
    0,
    30,
  );
}

/**
 * Starts the emulator. Resolves once it listens; the returned endpoint has
 * the real port when `port` is 0.
 */
export async function startEmulatorServer(options: EmulatorOptions = {}): Promise<EmulatorServer> {
  checkOptions(options);
  const region = options.region ?? "cn-hangzhou";
  // localhost may resolve to ::1 first; bind and advertise one address so clients agree.
  const requested = options.hostname ?? "127.0.0.1";
  const hostname = requested === "localhost" ? "127.0.0.1" : requested.replace(/^\[|\]$/g, "");
  const accessKeyId = options.accessKeyId ?? "LTAI" + randomText(20);
  const accessKeySecret = options.accessKeySecret ?? randomSecret();
  const store = await KeyStore.open({ path: options.statePath, accountId: options.accountId });
  const credentials = new Credentials(accessKeyId, accessKeySecret);
  const stats = new EmulatorStats();
  const appOptions: EmulatorAppOptions = {
    region,
    credentials,
    stats,
    latencyMs: options.latencyMs,
    throttleRate: options.throttleRate,
    errorRate: options.errorRate,
    retryAfterMs: options.retryAfterMs,
    throttleFirst: options.throttleFirst,
    errorFirst: options.errorFirst,
  };
  const app = createEmulatorApp(store, appOptions);
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port: options.port ?? 0,
      onListen: (addr) => listening.resolve(addr),
      onError: () => new Response("Internal Failure", { status: 500 }),
    }, app.fetch);
  } catch (err) {
    throw new KmsenvError(
      `Cannot start the KMS emulator on ${hostname}:${options.port ?? 0}: ${
        (err as Error).message
      }`,
      { cause: err, hint: "choose another port, or --port 0 for any free one" },
    );
  }
  const addr = await listening.promise;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      await server.shutdown();
      await store.flush();
    })();
  return {
    endpoint: `http://${host}:${addr.port}`,
    accessKeyId,
    accessKeySecret,
    region,
    accountId: store.accountId,
    stats: () => stats.snapshot(),
    issueStsCredentials(sts = {}) {
      if (options.stsTokens === false) {
        throw new KmsenvError("This KMS emulator was started without STS tokens");
      }
      return credentials.issueSts(sts.expiresAt ?? new Date(Date.now() + 3600_000));
    },
    setFaults(faults) {
      checkFaults(faults);
      const names = [
        "latencyMs",
        "throttleRate",
        "errorRate",
        "retryAfterMs",
        "throttleFirst",
        "errorFirst",
      ] as const;
      for (const name of names) {
        if (faults[name] !== undefined) appOptions[name] = faults[name];
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
