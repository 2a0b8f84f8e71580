/**
 * The emulator's HTTP face: a hono app that answers the KMS RPC API on `/`
 * (GET with a query, POST with a query and/or form body) and the emulator's
 * own `GET /__emulator/stats`. It never listens by itself; see server.ts.
 *
 * Request flow: parse and merge parameters → authenticate (auth.ts) → reject
 * a replayed nonce → injected faults → record the nonce → Action and Version
 * → the action (actions.ts). Every response is JSON with a `RequestId`;
 * errors add `HostId, Code, Message, Recommend, HttpStatus`.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { KmsApiFault } from "./api_error.ts";
import { type ActionEnv, ACTIONS } from "./actions.ts";
import { type Credentials, parseTimestamp } from "./auth.ts";
import type { KeyStore } from "./store.ts";

/** The only API version KMS's RPC API has. */
export const KMS_API_VERSION = "2016-01-20";
/** Request bodies larger than this are refused (the largest real request is ~25 KiB). */
const MAX_BODY_BYTES = 256 * 1024;

/** Fault injection, for exercising client retries. */
export interface FaultOptions {
  /** Delay every RPC response by this many milliseconds. */
  latencyMs?: number | undefined;
  /** Share (0..1) of authenticated requests answered `Rejected.Throttling` 429. */
  throttleRate?: number | undefined;
  /** Share (0..1) of authenticated requests answered `ServiceUnavailableTemporary` 503. */
  errorRate?: number | undefined;
  /** Value of `x-acs-retry-after` (milliseconds) on throttled answers [100]. */
  retryAfterMs?: number | undefined;
  /**
   * Answer the next N authenticated requests `Rejected.Throttling`, before
   * any rate applies: a deterministic way to test that a client retries.
   */
  throttleFirst?: number | undefined;
  /** Answer the next N authenticated requests (after throttleFirst) with 503. */
  errorFirst?: number | undefined;
}

/** Options of {@link createEmulatorApp}. */
export interface EmulatorAppOptions extends FaultOptions {
  // The fault fields are read on every request, so the owner of this object
  // may change them while the app runs (EmulatorServer.setFaults does).
  region: string;
  credentials: Credentials;
  stats: EmulatorStats;
  /** Clock, for tests of the timestamp window. */
  now?: () => number;
  /** Random source in [0, 1) for fault injection. */
  random?: () => number;
}

/** What `GET /__emulator/stats` returns. */
export interface EmulatorStatsSnapshot {
  /** Authenticated requests per action (including ones that then failed). */
  actions: Record<string, number>;
  /** Answers with injected faults. */
  faults: { throttled: number; unavailable: number };
  /** Requests rejected before or by signature verification. */
  rejected: number;
}

/** Request counters, shared by the app and the server that exposes them. */
export class EmulatorStats {
  #actions = new Map<string, number>();
  #throttled = 0;
  #unavailable = 0;
  #rejected = 0;

  /** Counts one authenticated request for `action`. */
  action(action: string): void {
    this.#actions.set(action, (this.#actions.get(action) ?? 0) + 1);
  }
  /** Counts an injected fault. */
  fault(kind: "throttled" | "unavailable"): void {
    if (kind === "throttled") this.#throttled++;
    else this.#unavailable++;
  }
  /** Counts a request that failed authentication. */
  rejected(): void {
    this.#rejected++;
  }
  /** A copy of the counters. */
  snapshot(): EmulatorStatsSnapshot {
    return {
      actions: Object.fromEntries(this.#actions),
      faults: { throttled: this.#throttled, unavailable: this.#unavailable },
      rejected: this.#rejected,
    };
  }
}

/** Creates the emulator's hono app over a key store. */
export function createEmulatorApp(store: KeyStore, options: EmulatorAppOptions): Hono {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const env: ActionEnv = { store, region: options.region, now };
  const hostId = `kms.${options.region}.aliyuncs.com`;
  const app = new Hono();

  app.get("/__emulator/stats", (c) => c.json(options.stats.snapshot()));

  app.all("*", async (c) => {
    const requestId = crypto.randomUUID().toUpperCase();
    let status = 200;
    let headers: Record<string, string> = {};
    let body: Record<string, unknown>;
    try {
      body = await handleRpc(c);
    } catch (err) {
      const fault = err instanceof KmsApiFault
        ? err
        : new KmsApiFault("InternalFailure", 500, "Internal Failure.");
      status = fault.status;
      headers = fault.headers;
      body = {
        HostId: hostId,
        Code: fault.code,
        Message: fault.message,
        Recommend:
          `https://api.aliyun.com/troubleshoot?q=${fault.code}&product=Kms&requestId=${requestId}`,
        HttpStatus: fault.status,
      };
    }
    const latency = options.latencyMs ?? 0;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    return new Response(JSON.stringify({ RequestId: requestId, ...body }), {
      status,
      headers: {
        "content-type": "application/json;charset=utf-8",
        "x-acs-request-id": requestId,
        ...headers,
      },
    });
  });

  async function handleRpc(c: Context): Promise<Record<string, unknown>> {
    const method = c.req.method;
    if (method !== "GET" && method !== "POST") {
      throw new KmsApiFault("UnsupportedHTTPMethod", 403, "This http method is not supported.");
    }
    const params = await readParams(c.req.raw);
    let accessKeyId: string;
    try {
      accessKeyId = await options.credentials.verify(method, params, now());
    } catch (err) {
      options.stats.rejected();
      throw err;
    }
    const nonce = params.SignatureNonce!;
    if (options.credentials.nonceUsed(accessKeyId, nonce, now())) {
      throw new KmsApiFault(
        "SignatureNonceUsed",
        400,
        "Specified signature nonce was used already.",
      );
    }
    const action = params.Action;
    const handler = action !== undefined && Object.hasOwn(ACTIONS, action)
      ? ACTIONS[action]
      : undefined;
    if (handler) options.stats.action(action!);
    // Faults come before the nonce is recorded, so a retry of the very same
    // signed request is as valid as one with a fresh nonce.
    injectFaults();
    options.credentials.recordNonce(accessKeyId, nonce, parseTimestamp(params.Timestamp!)!, now());
    if (action === undefined || action === "") {
      throw new KmsApiFault("MissingAction", 400, "Action is mandatory for this action.");
    }
    if (params.Version === undefined || params.Version === "") {
      throw new KmsApiFault("MissingVersion", 400, "Version is mandatory for this action.");
    }
    if (params.Version !== KMS_API_VERSION) {
      throw new KmsApiFault("InvalidVersion", 400, "Specified parameter Version is not valid.");
    }
    if (!handler) {
      throw new KmsApiFault(
        "InvalidAction.NotFound",
        404,
        "Specified api is not found, please check your url and method.",
      );
    }
    if (store.purgeDeleted(now())) await store.save();
    return await handler(env, params);
  }

  function injectFaults(): void {
    const throttleFirst = (options.throttleFirst ?? 0) > 0;
    if (throttleFirst) options.throttleFirst!--;
    if (throttleFirst || ((options.throttleRate ?? 0) > 0 && random() < options.throttleRate!)) {
      options.stats.fault("throttled");
      throw new KmsApiFault("Rejected.Throttling", 429, "The QPS upper limit is exceeded.", {
        "x-acs-retry-after": String(options.retryAfterMs ?? 100),
      });
    }
    const errorFirst = (options.errorFirst ?? 0) > 0;
    if (errorFirst) options.errorFirst!--;
    if (errorFirst || ((options.errorRate ?? 0) > 0 && random() < options.errorRate!)) {
      options.stats.fault("unavailable");
      throw new KmsApiFault(
        "ServiceUnavailableTemporary",
        503,
        "Service Unavailable Temporary.",
      );
    }
  }

  return app;
}

/**
 * The request's parameters: the URL query merged with an
 * `x-www-form-urlencoded` body, decoded with form rules (`+` is a space).
 * A name given twice is refused: which copy was signed would be ambiguous.
 */
async function readParams(request: Request): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const sources = [url.searchParams];
  if (request.method === "POST") {
    const bytes = await readBody(request);
    const type = request.headers.get("content-type") ?? "";
    if (bytes.length > 0) {
      if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
        throw new KmsApiFault(
          "InvalidParameter",
          400,
          "The specified parameter is not valid. The body must be application/" +
            "x-www-form-urlencoded.",
        );
      }
      sources.push(new URLSearchParams(new TextDecoder().decode(bytes)));
    }
  }
  const params: Record<string, string> = Object.create(null);
  for (const source of sources) {
    for (const [name, value] of source) {
      if (Object.hasOwn(params, name)) {
        throw new KmsApiFault(
          "InvalidParameter",
          400,
          `The specified parameter is not valid. ${
            name.replace(/[^\w.-]/g, "?").slice(0, 64)
          } is given more than once.`,
        );
      }
      params[name] = value;
    }
  }
  return params;
}

/** Reads a request body, refusing it as soon as it passes {@link MAX_BODY_BYTES}. */
async function readBody(request: Request): Promise<Uint8Array> {
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.length;
    // Checked per chunk so a chunked upload without Content-Length cannot grow unbounded.
    if (total > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

function tooLarge(): KmsApiFault {
  return new KmsApiFault(
    "InvalidParameter",
    400,
    "The specified parameter is not valid. The request is too large.",
  );
}
