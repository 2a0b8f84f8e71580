/**
 * The `kmsenv serve` HTTP API as a hono app. `createApp(deps)` builds it and
 * never listens (`listen.ts` does); tests call `app.request()`.
 *
 * Routes: `POST /v1/encrypt`, `POST /v1/decrypt` (application/octet-stream
 * streams the v1 format, application/json handles small secrets),
 * `GET /healthz` (no token) and `GET /metrics` (Prometheus text).
 *
 * Order of checks on every request: draining → Host is a loopback name
 * (DNS rebinding) → no preflights → bearer token → route. See docs/SERVE.md.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { ApiError, toApiError } from "./http_error.ts";
import { Metrics } from "./metrics.ts";
import {
  contextFromRequest,
  decodeBase64Field,
  DecryptJson,
  EncryptJson,
  keyList,
  keysFromRequest,
  parseBody,
} from "./schemas.ts";
import { bearerToken, isLoopbackHost, tokenMatches } from "./security.ts";
import { Semaphore } from "./semaphore.ts";
import type { EnvelopeService } from "./service.ts";

/** Limits of the app. */
export interface AppLimits {
  /**
   * Largest JSON request body in bytes (bodies are buffered).
   * @default {1048576}
   */
  jsonBodyBytes?: number;
  /**
   * Crypto requests handled at once.
   * @default {128}
   */
  concurrency?: number;
  /**
   * Crypto requests that may wait for a slot; beyond that, 503.
   * @default {1024}
   */
  queue?: number;
}

/** What the app is built from. */
export interface AppDeps {
  /** Envelope encryption (the real one binds src/envelope and src/keyring.ts). */
  service: EnvelopeService;
  /** The bearer token every route but /healthz requires. */
  token: string;
  /** CMKs used when a request names none (`serve --key`). */
  defaultKeys?: string[] | undefined;
  /** Counters; pass one to read them from outside. */
  metrics?: Metrics | undefined;
  limits?: AppLimits | undefined;
  /** True once shutdown began: new requests get 503 and `Connection: close`. */
  isDraining?: (() => boolean) | undefined;
  /** Receives one-line diagnostics (never secrets); default: none. */
  log?: ((line: string) => void) | undefined;
}

const ROUTES = new Set(["/v1/encrypt", "/v1/decrypt", "/healthz", "/metrics"]);
const decoder = new TextDecoder();

/**
 * Builds the API.
 *
 * @param deps The crypto service, the token and options.
 * @returns A hono app; serve it with `Deno.serve(app.fetch)` or call `app.request()`.
 */
export function createApp(deps: AppDeps): Hono {
  const metrics = deps.metrics ?? new Metrics();
  const expected = new TextEncoder().encode(deps.token);
  const jsonLimit = deps.limits?.jsonBodyBytes ?? 1024 * 1024;
  const gate = new Semaphore({
    limit: deps.limits?.concurrency ?? 128,
    queue: deps.limits?.queue ?? 1024,
  });
  const log = deps.log ?? (() => {});
  const service = deps.service;
  const app = new Hono();

  app.use(async function accounting(c, next) {
    const route = ROUTES.has(c.req.path) ? c.req.path : "other";
    const done = metrics.begin();
    try {
      await next();
    } finally {
      metrics.countRequest(route, c.req.method, c.res.status);
      // Streaming bodies end later; they call their own done (idempotent) when they do.
      if (!streamingResponses.has(c.res)) done();
      else streamingResponses.get(c.res)!.push(done);
    }
    // Set in place: c.header() after the fact would copy the Response each time.
    c.res.headers.set("cache-control", "no-store");
    c.res.headers.set("x-content-type-options", "nosniff");
  });

  app.use(async function guard(c, next) {
    if (deps.isDraining?.()) {
      throw new ApiError(503, "shutting_down", "Server is shutting down", {
        connection: "close",
      });
    }
    // HTTP/2 has no Host header: Deno puts :authority into the URL instead. A request
    // without either (HTTP/1.0) cannot come from a browser, so cannot be rebinding.
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!isLoopbackHost(host)) {
      throw new ApiError(403, "forbidden_host", "Host header must name the loopback interface");
    }
    if (c.req.method === "OPTIONS") {
      // No CORS: a browser preflight must fail, so no page can call this API.
      throw new ApiError(405, "method_not_allowed", "Method not allowed", { allow: "GET, POST" });
    }
    if (c.req.path !== "/healthz") {
      const presented = bearerToken(c.req.header("authorization"));
      if (presented === undefined || !tokenMatches(presented, expected)) {
        throw new ApiError(401, "unauthorized", "Missing or wrong bearer token", {
          "www-authenticate": 'Bearer realm="kmsenv"',
        });
      }
    }
    await next();
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/metrics", (c) => {
    return c.body(metrics.render(service.stats?.()), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });

  async function withSlot(work: (release: () => void) => Promise<Response>) {
    const slot = gate.acquire();
    const release = slot instanceof Promise ? await slot : slot;
    if (release === null) {
      metrics.countBusy();
      throw new ApiError(503, "busy", "Server is saturated, retry later", { "retry-after": "1" });
    }
    try {
      return await work(release);
    } catch (err) {
      release();
      throw err;
    }
  }

  app.post("/v1/encrypt", (c) =>
    withSlot(async (release) => {
      const route = "/v1/encrypt";
      const type = mediaType(c);
      if (type === "application/json") {
        const body = parseBody(EncryptJson, await readJson(c, jsonLimit, metrics, route));
        const keys = keyList(body.key);
        const plaintext = decodeBase64Field(body.plaintext, "plaintext");
        try {
          const ct = await service.encryptBytes(plaintext, {
            keys: keys.length > 0 ? keys : requireDefaultKeys(deps.defaultKeys),
            context: body.context ?? {},
          });
          release();
          return json(c, { ciphertext: ct.toBase64() }, metrics, route);
        } finally {
          plaintext.fill(0);
        }
      }
      if (type === "application/octet-stream") {
        const url = new URL(c.req.url);
        const keys = keysFromRequest(url, c.req.header("x-kmsenv-key"));
        const context = contextFromRequest(url, c.req.header("x-kmsenv-context")) ?? {};
        const input = countBytes(c.req.raw.body ?? emptyStream(), (n) =>
          metrics.addBytesIn(route, n));
        const output = service.encrypt(input, {
          keys: keys.length > 0 ? keys : requireDefaultKeys(deps.defaultKeys),
          context,
        });
        return await streamResponse(output, release, metrics, route, log);
      }
      throw unsupported();
    }));

  app.post("/v1/decrypt", (c) =>
    withSlot(async (release) => {
      const route = "/v1/decrypt";
      const type = mediaType(c);
      if (type === "application/json") {
        const body = parseBody(DecryptJson, await readJson(c, jsonLimit, metrics, route));
        const ciphertext = decodeBase64Field(body.ciphertext, "ciphertext");
        const { plaintext, context } = await service.decryptBytes(ciphertext, {
          context: body.context,
        });
        release();
        try {
          return json(c, { plaintext: plaintext.toBase64(), context }, metrics, route);
        } finally {
          plaintext.fill(0);
        }
      }
      if (type === "application/octet-stream") {
        const url = new URL(c.req.url);
        const context = contextFromRequest(url, c.req.header("x-kmsenv-context"));
        const input = countBytes(c.req.raw.body ?? emptyStream(), (n) =>
          metrics.addBytesIn(route, n));
        const output = service.decrypt(input, { context });
        return await streamResponse(output, release, metrics, route, log);
      }
      throw unsupported();
    }));

  const methodNotAllowed = (allow: string) => () => {
    throw new ApiError(405, "method_not_allowed", "Method not allowed", { allow });
  };
  app.all("/v1/encrypt", methodNotAllowed("POST"));
  app.all("/v1/decrypt", methodNotAllowed("POST"));
  app.all("/healthz", methodNotAllowed("GET"));
  app.all("/metrics", methodNotAllowed("GET"));

  app.notFound(() => new ApiError(404, "not_found", "No such route").toResponse());

  app.onError((err, c) => {
    const api = toApiError(err);
    if (api.status === 500) log(`internal error on ${c.req.method} ${c.req.path}: ${errName(err)}`);
    return api.toResponse();
  });

  return app;
}

/** Responses whose bodies are still streaming, with the callbacks to run when they end. */
const streamingResponses = new WeakMap<Response, (() => void)[]>();

function requireDefaultKeys(keys: string[] | undefined): string[] {
  if (!keys || keys.length === 0) {
    throw new ApiError(400, "invalid_request", "No key given: name one or start serve with --key");
  }
  return keys;
}

function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";", 1)[0]!.trim().toLowerCase();
}

function unsupported(): ApiError {
  return new ApiError(
    415,
    "unsupported_media_type",
    "Content-Type must be application/json or application/octet-stream",
  );
}

function json(c: Context, value: unknown, metrics: Metrics, route: string): Response {
  const text = JSON.stringify(value);
  metrics.addBytesOut(route, text.length); // base64 and JSON punctuation: ASCII only
  return c.body(text, 200, { "content-type": "application/json" });
}

/** Reads and parses a JSON body of at most `limit` bytes. */
async function readJson(c: Context, limit: number, metrics: Metrics, route: string) {
  const declared = c.req.header("content-length");
  const tooLarge = () =>
    new ApiError(413, "payload_too_large", `JSON body larger than ${limit} bytes`, {
      connection: "close",
    });
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  const body = c.req.raw.body;
  let bytes: Uint8Array;
  if (body === null) {
    bytes = new Uint8Array(0);
  } else {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
    bytes = chunks.length === 1 ? chunks[0]! : concat(chunks, total);
  }
  metrics.addBytesIn(route, bytes.length);
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ApiError(400, "malformed_json", "Request body is not valid JSON");
  } finally {
    // The body may hold a secret; the parsed copy is the caller's to drop.
    bytes.fill(0);
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
    chunk.fill(0);
  }
  return out;
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}

function countBytes(
  stream: ReadableStream<Uint8Array>,
  add: (n: number) => void,
): ReadableStream<Uint8Array> {
  return stream.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        add(chunk.length);
        controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * Turns a crypto output stream into a response. The first chunk is awaited
 * before answering, so header and KMS errors still become a proper error
 * status; a failure after that errors the body, which makes the HTTP server
 * abort the response (no terminating chunk), so a client sees an error,
 * never a clean but truncated body.
 */
async function streamResponse(
  output: ReadableStream<Uint8Array>,
  release: () => void,
  metrics: Metrics,
  route: string,
  log: (line: string) => void,
): Promise<Response> {
  const reader = output.getReader();
  const first = await reader.read(); // throws → mapped by onError; release() by withSlot
  const onEnd: (() => void)[] = [release];
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    for (const f of onEnd) f();
  };
  let pending: Uint8Array | undefined = first.done ? undefined : first.value;
  let finished = first.done;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (pending) {
          const chunk = pending;
          pending = undefined;
          metrics.addBytesOut(route, chunk.length);
          controller.enqueue(chunk);
          return;
        }
        if (finished) {
          controller.close();
          end();
          return;
        }
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          end();
        } else {
          metrics.addBytesOut(route, value.length);
          controller.enqueue(value);
        }
      } catch (err) {
        const api = toApiError(err);
        metrics.countAbort(route);
        log(`${route}: response aborted mid-stream: ${api.code}`);
        controller.error(err);
        end();
      }
    },
    async cancel(reason) {
      finished = true;
      await reader.cancel(reason).catch(() => {});
      end();
    },
  }, { highWaterMark: 0 });
  const response = new Response(body, {
    status: 200,
    headers: { "content-type": "application/octet-stream" },
  });
  streamingResponses.set(response, onEnd);
  return response;
}

function errName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
