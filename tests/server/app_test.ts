/**
 * The HTTP layer through `app.request()`: auth, Host check, content types,
 * JSON validation and limits, error mapping and metrics, with a fake crypto
 * service (the real one is covered in integration_test.ts).
 */

import assert from "node:assert/strict";
import { createApp } from "../../src/server/app.ts";
import { Metrics } from "../../src/server/metrics.ts";
import { FAKE_SEGMENT, FakeService } from "./fake_service.ts";

const TOKEN = "test-token-0123456789abcdef";
const AUTH = { authorization: `Bearer ${TOKEN}`, host: "127.0.0.1:8787" };

function setup(opts: { defaultKeys?: string[]; jsonBodyBytes?: number } = {}) {
  const service = new FakeService();
  const metrics = new Metrics();
  const app = createApp({
    service,
    token: TOKEN,
    metrics,
    defaultKeys: opts.defaultKeys ?? ["alias/default"],
    limits: { jsonBodyBytes: opts.jsonBodyBytes ?? 4096 },
  });
  return { app, service, metrics };
}

function jsonPost(body: unknown, headers: Record<string, string> = AUTH) {
  return {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  assert.equal(res.headers.get("content-type"), "application/json");
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message"]);
  return body.error;
}

const secret = new TextEncoder().encode("hunter2-very-secret");

Deno.test("POST /v1/encrypt and /v1/decrypt round-trip a JSON secret with its context", async () => {
  const { app } = setup();
  const enc = await app.request(
    "/v1/encrypt",
    jsonPost({ plaintext: secret.toBase64(), context: { app: "billing" } }),
  );
  assert.equal(enc.status, 200);
  assert.equal(enc.headers.get("cache-control"), "no-store");
  assert.equal(enc.headers.get("access-control-allow-origin"), null);
  const { ciphertext } = await enc.json();
  const dec = await app.request(
    "/v1/decrypt",
    jsonPost({ ciphertext, context: { app: "billing" } }),
  );
  assert.equal(dec.status, 200);
  const body = await dec.json();
  assert.deepEqual(Uint8Array.fromBase64(body.plaintext), secret);
  assert.deepEqual(body.context, { app: "billing" });
});

Deno.test("POST /v1/decrypt refuses a JSON ciphertext with a different context", async () => {
  const { app } = setup();
  const enc = await app.request(
    "/v1/encrypt",
    jsonPost({ plaintext: secret.toBase64(), context: { app: "a" } }),
  );
  const { ciphertext } = await enc.json();
  const dec = await app.request(
    "/v1/decrypt",
    jsonPost({ ciphertext, context: { app: "b" } }),
  );
  assert.equal(dec.status, 422);
  assert.equal((await errorOf(dec)).code, "invalid_ciphertext");
});

Deno.test("POST /v1/decrypt answers 422 for a tampered JSON ciphertext", async () => {
  const { app } = setup();
  const enc = await app.request("/v1/encrypt", jsonPost({ plaintext: "AAAA" }));
  const bytes = Uint8Array.fromBase64((await enc.json()).ciphertext);
  bytes[bytes.length - 1]! ^= 1;
  const dec = await app.request(
    "/v1/decrypt",
    jsonPost({ ciphertext: bytes.toBase64() }),
  );
  assert.equal(dec.status, 422);
  const err = await errorOf(dec);
  assert.equal(err.code, "invalid_ciphertext");
});

Deno.test("POST /v1/encrypt streams octet-stream with key and context from query or headers", async () => {
  const { app } = setup({ defaultKeys: [] });
  const plaintext = crypto.getRandomValues(new Uint8Array(3 * FAKE_SEGMENT + 5));
  const viaQuery = await app.request("/v1/encrypt?key=alias/a&context=app=x&context=env=p%3Dq", {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/octet-stream" },
    body: plaintext,
  });
  assert.equal(viaQuery.status, 200);
  assert.equal(viaQuery.headers.get("content-type"), "application/octet-stream");
  const ct = new Uint8Array(await viaQuery.arrayBuffer());

  const viaHeaders = await app.request("/v1/decrypt", {
    method: "POST",
    headers: {
      ...AUTH,
      "content-type": "application/octet-stream",
      "x-kmsenv-context": "app=x, env=p%3Dq",
    },
    body: ct,
  });
  assert.equal(viaHeaders.status, 200);
  assert.deepEqual(new Uint8Array(await viaHeaders.arrayBuffer()), plaintext);

  const wrongContext = await app.request("/v1/decrypt?context=app=y", {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/octet-stream" },
    body: ct,
  });
  assert.equal(wrongContext.status, 422);
});

Deno.test("POST /v1/encrypt without a key and without --key answers 400", async () => {
  const { app } = setup({ defaultKeys: [] });
  const res = await app.request("/v1/encrypt", jsonPost({ plaintext: "AAAA" }));
  assert.equal(res.status, 400);
  assert.match((await errorOf(res)).message, /--key/);
});

Deno.test("POST /v1/decrypt errors a streamed body whose later segment was tampered", async () => {
  const { app, metrics } = setup();
  const enc = await app.request("/v1/encrypt", {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/octet-stream" },
    body: new Uint8Array(3 * FAKE_SEGMENT),
  });
  const ct = new Uint8Array(await enc.arrayBuffer());
  ct[ct.length - 3]! ^= 0x80; // inside the last segment
  const dec = await app.request("/v1/decrypt", {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/octet-stream" },
    body: ct,
  });
  // The first segment authenticates, so the status is already 200; the body must then fail.
  assert.equal(dec.status, 200);
  await assert.rejects(() => dec.arrayBuffer());
  assert.match(metrics.render(), /kmsenv_http_stream_aborts_total\{route="\/v1\/decrypt"\} 1/);
});

Deno.test("every route but /healthz needs the bearer token", async (t) => {
  const { app } = setup();
  const cases: [string, Record<string, string>][] = [
    ["no token", { host: "localhost" }],
    ["wrong token", { host: "localhost", authorization: `Bearer ${TOKEN}x` }],
    ["short token", { host: "localhost", authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ["wrong scheme", { host: "localhost", authorization: `Basic ${TOKEN}` }],
  ];
  for (const [name, headers] of cases) {
    await t.step(name, async () => {
      for (
        const [method, path] of [["POST", "/v1/encrypt"], ["POST", "/v1/decrypt"], [
          "GET",
          "/metrics",
        ]]
      ) {
        const res = await app.request(path!, {
          method,
          headers: { ...headers, "content-type": "application/json" },
          ...(method === "POST" ? { body: "{}" } : {}),
        });
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="kmsenv"');
        assert.equal((await errorOf(res)).code, "unauthorized");
      }
    });
  }
  const health = await app.request("/healthz", { headers: { host: "localhost:1" } });
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });
});

Deno.test("a foreign Host header or authority is refused with 403 (DNS rebinding)", async () => {
  const { app } = setup();
  for (const host of ["evil.example", "evil.example:8787", "127.0.0.1.evil.example", "10.0.0.1"]) {
    const res = await app.request("/healthz", { headers: { ...AUTH, host } });
    assert.equal(res.status, 403, host);
    assert.equal((await errorOf(res)).code, "forbidden_host");
  }
  // Without a Host header (HTTP/2, HTTP/1.0), the URL's authority is checked instead.
  assert.equal((await app.request("http://evil.example/healthz")).status, 403);
  assert.equal((await app.request("http://127.0.0.1:8787/healthz")).status, 200);
  for (const host of ["localhost", "localhost:8787", "127.0.0.1", "127.1.2.3:9", "[::1]:8787"]) {
    const res = await app.request("/healthz", { headers: { host } });
    assert.equal(res.status, 200, host);
  }
});

Deno.test("browser preflights and wrong methods are refused without CORS headers", async () => {
  const { app } = setup();
  const pre = await app.request("/v1/encrypt", {
    method: "OPTIONS",
    headers: {
      host: "localhost",
      origin: "https://evil.example",
      "access-control-request-method": "POST",
    },
  });
  assert.equal(pre.status, 405);
  assert.equal(pre.headers.get("access-control-allow-origin"), null);
  await pre.body?.cancel();
  const get = await app.request("/v1/encrypt", { headers: AUTH });
  assert.equal(get.status, 405);
  assert.equal((await errorOf(get)).code, "method_not_allowed");
  const missing = await app.request("/v2/nothing", { headers: AUTH });
  assert.equal(missing.status, 404);
  assert.equal((await errorOf(missing)).code, "not_found");
});

Deno.test("a wrong or missing Content-Type answers 415", async () => {
  const { app } = setup();
  for (const type of ["text/plain", "application/x-www-form-urlencoded", undefined]) {
    for (const path of ["/v1/encrypt", "/v1/decrypt"]) {
      const res = await app.request(path, {
        method: "POST",
        headers: { ...AUTH, ...(type ? { "content-type": type } : {}) },
        body: '{"plaintext":"AAAA"}',
      });
      assert.equal(res.status, 415, `${path} ${type}`);
      assert.equal((await errorOf(res)).code, "unsupported_media_type");
    }
  }
});

Deno.test("malformed, invalid and oversized JSON bodies answer 400/413 without echoing input", async (t) => {
  const { app } = setup({ jsonBodyBytes: 1024 });
  const sentinel = "c2VjcmV0LXNlbnRpbmVs"; // must never come back
  const cases: [string, string, number, string, RegExp][] = [
    ["malformed", `{"plaintext": "${sentinel}"`, 400, "malformed_json", /not valid JSON/],
    ["not an object", `["${sentinel}"]`, 400, "invalid_request", /must be an object/],
    ["missing field", `{"key": "alias/x"}`, 400, "invalid_request", /'plaintext'/],
    ["wrong type", `{"plaintext": 12}`, 400, "invalid_request", /'plaintext' must be a string/],
    ["not base64", `{"plaintext": "${sentinel}!!"}`, 400, "invalid_request", /not base64/],
    [
      "unknown field",
      `{"plaintext": "${sentinel}", "extra": 1}`,
      400,
      "invalid_request",
      /unknown field 'extra'/,
    ],
    [
      "bad context",
      `{"plaintext": "${sentinel}", "context": {"a": 1}}`,
      400,
      "invalid_request",
      /'context.a'/,
    ],
    [
      "oversized",
      JSON.stringify({ plaintext: "A".repeat(2048) }),
      413,
      "payload_too_large",
      /1024 bytes/,
    ],
  ];
  for (const [name, body, status, code, message] of cases) {
    await t.step(name, async () => {
      const res = await app.request("/v1/encrypt", jsonPost(body));
      assert.equal(res.status, status);
      const text = await res.text();
      assert.ok(!text.includes(sentinel), "the input must not be echoed");
      assert.ok(!text.includes("issues"), "no raw zod output");
      const err = JSON.parse(text).error;
      assert.equal(err.code, code);
      assert.match(err.message, message);
    });
  }
});

Deno.test("an oversized JSON body without Content-Length is cut off at the limit", async () => {
  const { app } = setup({ jsonBodyBytes: 1024 });
  const chunk = new TextEncoder().encode("x".repeat(512));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent++;
      controller.enqueue(chunk);
      if (sent > 1000) controller.close();
    },
  });
  const res = await app.request("/v1/encrypt", {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/json" },
    body,
  });
  assert.equal(res.status, 413);
  assert.ok(sent < 10, `read ${sent} chunks`);
});

Deno.test("KMS errors map to 403, 429 and 503 with a JSON error", async () => {
  const { app } = setup();
  const cases: [string, number, string][] = [
    ["alias/disabled", 403, "key_refused"],
    ["alias/throttled", 429, "kms_throttled"],
    ["alias/down", 503, "kms_unavailable"],
  ];
  for (const [key, status, code] of cases) {
    const json = await app.request(
      "/v1/encrypt",
      jsonPost({ plaintext: "AAAA", key }),
    );
    assert.equal(json.status, status, key);
    assert.equal((await errorOf(json)).code, code);
    const stream = await app.request(`/v1/encrypt?key=${key}`, {
      method: "POST",
      headers: { ...AUTH, "content-type": "application/octet-stream" },
      body: "abc",
    });
    assert.equal(stream.status, status, `${key} (stream)`);
    assert.equal((await errorOf(stream)).code, code);
  }
});

Deno.test("GET /metrics counts requests, bytes, KMS calls and cache hits", async () => {
  const { app } = setup();
  for (let i = 0; i < 3; i++) {
    const res = await app.request("/v1/encrypt", jsonPost({ plaintext: "AAAA" }));
    await res.body?.cancel();
  }
  await (await app.request("/v1/encrypt", { method: "POST", headers: AUTH })).body?.cancel();
  const res = await app.request("/metrics", { headers: AUTH });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(
    text,
    /kmsenv_http_requests_total\{route="\/v1\/encrypt",method="POST",status="200"\} 3/,
  );
  assert.match(
    text,
    /kmsenv_http_requests_total\{route="\/v1\/encrypt",method="POST",status="415"\} 1/,
  );
  assert.match(text, /kmsenv_http_request_bytes_total\{route="\/v1\/encrypt"\} 60\n/);
  assert.match(text, /kmsenv_http_response_bytes_total\{route="\/v1\/encrypt"\} \d+/);
  assert.match(text, /kmsenv_kms_calls_total\{action="GenerateDataKey"\} 1\n/);
  assert.match(text, /kmsenv_cache_hits_total\{cache="data_key"\} 2\n/);
  assert.match(text, /kmsenv_http_in_flight_requests 1\n/); // this scrape itself
});

Deno.test("a saturated server answers 503 busy instead of queueing without bound", async () => {
  let unblock!: () => void;
  const blocked = new Promise<void>((r) => unblock = r);
  const service = new FakeService();
  const slow = Object.assign(Object.create(service), {
    encryptBytes: async (p: Uint8Array, params: { keys: string[]; context: object }) => {
      await blocked;
      return service.encryptBytes(p, params as never);
    },
  });
  const app = createApp({
    service: slow,
    token: TOKEN,
    defaultKeys: ["alias/k"],
    limits: { concurrency: 1, queue: 1 },
  });
  const req = () => app.request("/v1/encrypt", jsonPost({ plaintext: "AAAA" }));
  const first = req();
  const second = req();
  const third = await req();
  assert.equal(third.status, 503);
  assert.equal((await errorOf(third)).code, "busy");
  assert.equal(third.headers.get("retry-after"), "1");
  unblock();
  assert.equal((await first).status, 200);
  assert.equal((await second).status, 200);
});

Deno.test("a draining app answers 503 and asks to close the connection", async () => {
  let draining = false;
  const app = createApp({ service: new FakeService(), token: TOKEN, isDraining: () => draining });
  assert.equal((await app.request("/healthz", { headers: AUTH })).status, 200);
  draining = true;
  const res = await app.request("/healthz", { headers: AUTH });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("connection"), "close");
  assert.equal((await errorOf(res)).code, "shutting_down");
});
