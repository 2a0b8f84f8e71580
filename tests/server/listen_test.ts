/**
 * The server on a real `Deno.serve` listener: TCP and unix socket, the bind
 * policy, TLS, raw-socket checks of the Host rule and of the mid-stream
 * abort, graceful shutdown, and the token file.
 */

import assert from "node:assert/strict";
import { UsageError } from "../../src/errors.ts";
import {
  checkBindPolicy,
  defaultTokenFile,
  resolveToken,
  startServer,
} from "../../src/server/listen.ts";
import { FAKE_SEGMENT, FakeService } from "./fake_service.ts";

const TOKEN = "listen-test-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };

function deps(service = new FakeService()) {
  return { service, token: TOKEN, defaultKeys: ["alias/k"] };
}

/** Sends one raw HTTP/1.1 request and returns everything the server sends until it closes. */
async function rawRequest(port: number, request: string, body?: Uint8Array): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    if (body) await conn.write(body);
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        break; // reset by peer: the abort we look for
      }
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    return new TextDecoder("latin1").decode(await new Blob(chunks).arrayBuffer());
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

Deno.test("startServer() serves every route over TCP on 127.0.0.1", async () => {
  await using server = await startServer(deps(), { port: 0 });
  assert.match(server.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
  const health = await fetch(`${server.url}/healthz`);
  assert.deepEqual(await health.json(), { status: "ok" });
  const enc = await fetch(`${server.url}/v1/encrypt`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/json" },
    body: JSON.stringify({ plaintext: "c2VjcmV0" }),
  });
  assert.equal(enc.status, 200);
  const dec = await fetch(`${server.url}/v1/decrypt`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/json" },
    body: JSON.stringify({ ciphertext: (await enc.json()).ciphertext }),
  });
  assert.equal((await dec.json()).plaintext, "c2VjcmV0");
  const big = crypto.getRandomValues(new Uint8Array(5 * FAKE_SEGMENT));
  const sEnc = await fetch(`${server.url}/v1/encrypt?context=a=b`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/octet-stream" },
    body: big,
  });
  const sDec = await fetch(`${server.url}/v1/decrypt`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/octet-stream" },
    body: sEnc.body,
  });
  assert.deepEqual(new Uint8Array(await sDec.arrayBuffer()), big);
  const metrics = await (await fetch(`${server.url}/metrics`, { headers: AUTH })).text();
  assert.match(metrics, /route="\/v1\/decrypt",method="POST",status="200"\} 2/);
  const noToken = await fetch(`${server.url}/metrics`);
  assert.equal(noToken.status, 401);
  await noToken.body?.cancel();
});

Deno.test("a real listener refuses a foreign Host header", async () => {
  await using server = await startServer(deps(), { port: 0 });
  const port = Number(new URL(server.url!).port);
  const foreign = await rawRequest(
    port,
    `GET /healthz HTTP/1.1\r\nHost: rebind.evil.example:${port}\r\nConnection: close\r\n\r\n`,
  );
  assert.match(foreign, /^HTTP\/1\.1 403 /);
  assert.match(foreign, /"forbidden_host"/);
  const local = await rawRequest(
    port,
    `GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`,
  );
  assert.match(local, /^HTTP\/1\.1 200 /);
});

Deno.test("a tampered streamed ciphertext aborts the response: the client sees an error, not EOF", async () => {
  await using server = await startServer(deps(), { port: 0 });
  const enc = await fetch(`${server.url}/v1/encrypt`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/octet-stream" },
    body: new Uint8Array(4 * FAKE_SEGMENT),
  });
  const ct = new Uint8Array(await enc.arrayBuffer());
  ct[ct.length - 2]! ^= 1;
  const dec = await fetch(`${server.url}/v1/decrypt`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/octet-stream" },
    body: ct,
  });
  assert.equal(dec.status, 200); // the first segments were authentic and are already on the way
  await assert.rejects(() => dec.arrayBuffer());

  // On the wire: chunked encoding without the terminating zero-length chunk.
  const port = Number(new URL(server.url!).port);
  const head = `POST /v1/decrypt HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    `Authorization: Bearer ${TOKEN}\r\nContent-Type: application/octet-stream\r\n` +
    `Content-Length: ${ct.length}\r\nConnection: close\r\n\r\n`;
  const raw = await rawRequest(port, head, ct);
  assert.match(raw, /^HTTP\/1\.1 200 /);
  assert.match(raw, /transfer-encoding: chunked/i);
  assert.ok(!raw.endsWith("\r\n0\r\n\r\n"), "the body must not end like a complete chunked body");
});

Deno.test("startServer() on a unix socket creates it 0600 and serves without TCP", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kmsenv.sock`;
  try {
    await using server = await startServer(deps(), { socket: path });
    assert.equal(server.url, undefined);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    using client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
    const health = await fetch("http://localhost/healthz", { client });
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const enc = await fetch("http://localhost/v1/encrypt", {
      client,
      method: "POST",
      headers: { ...AUTH, "content-type": "application/json" },
      body: JSON.stringify({ plaintext: "AQID" }),
    });
    assert.equal(enc.status, 200);
    assert.ok((await enc.json()).ciphertext);
    const noToken = await fetch("http://localhost/metrics", { client });
    assert.equal(noToken.status, 401);
    await noToken.body?.cancel();
    // A second server on the same live socket is refused.
    await assert.rejects(() => startServer(deps(), { socket: path }), /another server/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkBindPolicy() refuses non-loopback addresses unless --allow-remote with TLS", () => {
  for (const hostname of ["127.0.0.1", "127.0.0.2", "::1", "localhost"]) {
    checkBindPolicy({ hostname });
  }
  assert.throws(() => checkBindPolicy({ hostname: "0.0.0.0" }), UsageError);
  assert.throws(() => checkBindPolicy({ hostname: "192.168.1.10" }), /not a loopback address/);
  assert.throws(() => checkBindPolicy({ hostname: "0.0.0.0", allowRemote: true }), /without TLS/);
  assert.throws(
    () => checkBindPolicy({ hostname: "0.0.0.0", allowRemote: true, cert: "x" }),
    /both --cert and --key-file/,
  );
  checkBindPolicy({ hostname: "0.0.0.0", allowRemote: true, cert: "c", key: "k" });
  assert.throws(() => checkBindPolicy({ socket: "/tmp/x", port: 1 }), /excludes/);
});

Deno.test("startServer() refuses 0.0.0.0 before binding anything", async () => {
  await assert.rejects(
    () => startServer(deps(), { hostname: "0.0.0.0", port: 0 }),
    UsageError,
  );
});

Deno.test("startServer() serves HTTPS with --cert/--key-file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-days",
        "1",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.ok(out.success, "openssl must be installed");
    const cert = await Deno.readTextFile(`${dir}/cert.pem`);
    const key = await Deno.readTextFile(`${dir}/key.pem`);
    await using server = await startServer(deps(), { port: 0, cert, key });
    assert.match(server.url!, /^https:\/\//);
    using client = Deno.createHttpClient({ caCerts: [cert] });
    const res = await fetch(`${server.url}/metrics`, { client, headers: AUTH });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shutdown() lets in-flight requests finish and refuses new connections", async () => {
  let unblock!: () => void;
  const blocked = new Promise<void>((r) => unblock = r);
  let started!: () => void;
  const isStarted = new Promise<void>((r) => started = r);
  const service = new FakeService();
  const slow = Object.assign(Object.create(service), {
    encryptBytes: async (p: Uint8Array, params: never) => {
      started();
      await blocked;
      return service.encryptBytes(p, params);
    },
  });
  const server = await startServer(deps(slow), { port: 0 });
  const inFlight = fetch(`${server.url}/v1/encrypt`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/json" },
    body: JSON.stringify({ plaintext: "AAAA" }),
  });
  await isStarted;
  const stopped = server.shutdown();
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(() => fetch(`${server.url}/healthz`));
  unblock();
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.ok((await res.json()).ciphertext);
  await stopped;
  await server.finished;
});

Deno.test("resolveToken() writes a generated token 0600 and checks one from the environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/sub/serve.token`;
    await Deno.writeTextFile(`${dir}/target`, "do not touch");
    await Deno.mkdir(`${dir}/sub`);
    await Deno.symlink(`${dir}/target`, file); // a planted symlink is replaced, not followed
    const first = await resolveToken(undefined, file);
    assert.equal(first.file, file);
    assert.match(first.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await Deno.readTextFile(file), first.token + "\n");
    assert.equal((await Deno.lstat(file)).mode! & 0o777, 0o600);
    assert.equal(await Deno.readTextFile(`${dir}/target`), "do not touch");
    const second = await resolveToken("", file);
    assert.notEqual(second.token, first.token);

    const env = await resolveToken("a-long-enough-env-token", `${dir}/unused`);
    assert.deepEqual(env, { token: "a-long-enough-env-token", file: undefined });
    await assert.rejects(() => Deno.stat(`${dir}/unused`), Deno.errors.NotFound);
    await assert.rejects(() => resolveToken("short", file), UsageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("defaultTokenFile() prefers XDG_RUNTIME_DIR, then HOME", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(
    defaultTokenFile(env({ XDG_RUNTIME_DIR: "/run/user/1", HOME: "/h" })),
    "/run/user/1/kmsenv/serve.token",
  );
  assert.equal(defaultTokenFile(env({ HOME: "/h" })), "/h/.kmsenv/serve.token");
  assert.throws(() => defaultTokenFile(env({})), UsageError);
});
