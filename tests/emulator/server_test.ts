/**
 * The emulator as a server: state file persistence (atomic, 0600) across a
 * restart, fault injection, the stats counters (in process and over HTTP),
 * the loopback-only rule, and the `kmsenv kms-emulator` subprocess.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { KmsenvError } from "../../src/errors.ts";
import { startEmulatorServer } from "../../src/emulator/server.ts";
import { spawnEmulator, startEmulator } from "../helpers/emulator.ts";
import { call, createKey, expectError, ok } from "./rpc.ts";

const creds = { accessKeyId: "LTAIpersist0000000001", accessKeySecret: "persist-secret" };

Deno.test("keys, aliases and blobs survive a restart with statePath; the file is 0600", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = join(dir, "kms.json");
  let blob: string;
  let plaintext: string;
  let keyId: string;
  let accountId: string;
  {
    await using server = await startEmulator({ ...creds, statePath });
    keyId = await createKey(server, "alias/persisted");
    ({ CiphertextBlob: blob, Plaintext: plaintext } = await ok(server, "GenerateDataKey", {
      KeyId: "alias/persisted",
      EncryptionContext: '{"app":"x"}',
    }));
    await ok(server, "DisableKey", { KeyId: keyId });
    accountId = server.accountId;
  }
  assert.equal((await Deno.stat(statePath)).mode! & 0o777, 0o600);
  // Only the state file is left behind: the temporary files were renamed into place.
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["kms.json"]);
  const state = JSON.parse(await Deno.readTextFile(statePath));
  assert.equal(state.format, "kmsenv-emulator-state");
  assert.equal(state.keys.length, 1);
  assert.equal(state.keys[0].state, "Disabled");
  assert.equal(Uint8Array.fromBase64(state.keys[0].versions[0].material).length, 32);

  await using again = await startEmulator({ ...creds, statePath });
  assert.equal(again.accountId, accountId, "the account id comes from the file");
  const described = await ok(again, "DescribeKey", { KeyId: "alias/persisted" });
  assert.equal(described.KeyMetadata.KeyId, keyId);
  assert.equal(described.KeyMetadata.KeyState, "Disabled");
  await ok(again, "EnableKey", { KeyId: keyId });
  const d = await ok(again, "Decrypt", { CiphertextBlob: blob, EncryptionContext: '{"app":"x"}' });
  assert.equal(d.Plaintext, plaintext);
  assert.equal((await Deno.stat(statePath)).mode! & 0o777, 0o600);
});

Deno.test("a key whose deletion window has passed is gone after a restart", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = join(dir, "kms.json");
  let keyId: string;
  {
    await using server = await startEmulator({ ...creds, statePath });
    keyId = await createKey(server, "alias/doomed");
    await ok(server, "ScheduleKeyDeletion", { KeyId: keyId, PendingWindowInDays: "7" });
  }
  const state = JSON.parse(await Deno.readTextFile(statePath));
  state.keys[0].deleteDate = "2020-01-01T00:00:00Z";
  await Deno.writeTextFile(statePath, JSON.stringify(state));
  await using server = await startEmulator({ ...creds, statePath });
  expectError(await call(server, "DescribeKey", { KeyId: keyId }), "Forbidden.KeyNotFound", 404);
  expectError(
    await call(server, "DescribeKey", { KeyId: "alias/doomed" }),
    "Forbidden.AliasNotFound",
    404,
  );
  const after = JSON.parse(await Deno.readTextFile(statePath));
  assert.deepEqual([after.keys, after.aliases], [[], []]);
});

Deno.test("a state file that is not the emulator's is refused with a clear error", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = join(dir, "kms.json");
  for (const content of ["not json", '{"format":"other"}']) {
    await Deno.writeTextFile(statePath, content);
    await assert.rejects(
      startEmulator({ statePath }),
      (err: unknown) =>
        err instanceof KmsenvError && /^Cannot read emulator state .*kms\.json/.test(err.message),
    );
  }
});

Deno.test("the state file is created 0600 at start; an unwritable place fails at start", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = join(dir, "kms.json");
  {
    await using _server = await startEmulator({ statePath });
    assert.equal((await Deno.stat(statePath)).mode! & 0o777, 0o600);
  }
  // A file someone made readable to others is tightened again on start.
  await Deno.chmod(statePath, 0o644);
  {
    await using _server = await startEmulator({ statePath });
    assert.equal((await Deno.stat(statePath)).mode! & 0o777, 0o600);
  }
  await assert.rejects(
    startEmulator({ statePath: join(dir, "missing", "kms.json") }),
    (err: unknown) =>
      err instanceof KmsenvError && /its directory does not exist$/.test(err.message),
  );
});

Deno.test("a port in use and an oversized body are refused cleanly", async () => {
  await using server = await startEmulator();
  const port = Number(new URL(server.endpoint).port);
  await assert.rejects(
    startEmulator({ port }),
    (err: unknown) =>
      err instanceof KmsenvError && /Cannot start the KMS emulator/.test(err.message),
  );
  // Streamed without Content-Length, so the limit must hold while reading.
  const body = new Blob(["a=" + "x".repeat(300_000)]).stream();
  const res = await fetch(`${server.endpoint}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  expectError(
    { status: res.status, headers: res.headers, body: await res.json() },
    "InvalidParameter",
    400,
  );
});

Deno.test("throttleRate 1 answers Rejected.Throttling 429 with x-acs-retry-after", async () => {
  await using server = await startEmulator({ throttleRate: 1, retryAfterMs: 250 });
  const nonce = crypto.randomUUID();
  const r = await call(server, "ListKeys", {}, { nonce });
  const body = expectError(r, "Rejected.Throttling", 429);
  assert.equal(body.Message, "The QPS upper limit is exceeded.");
  assert.equal(r.headers.get("x-acs-retry-after"), "250");
  // The faulted request did not burn its nonce: the same request again is throttled, not a replay.
  expectError(await call(server, "ListKeys", {}, { nonce }), "Rejected.Throttling", 429);
  assert.deepEqual(server.stats().faults, { throttled: 2, unavailable: 0 });
});

Deno.test("errorRate 1 answers ServiceUnavailableTemporary 503; faults come after authentication", async () => {
  await using server = await startEmulator({ errorRate: 1 });
  expectError(await call(server, "ListKeys"), "ServiceUnavailableTemporary", 503);
  expectError(
    await call({ ...server, accessKeySecret: "wrong" }, "ListKeys"),
    "SignatureDoesNotMatch",
    400,
  );
});

Deno.test("throttleFirst/errorFirst fault exactly the next N requests; setFaults() changes faults live", async () => {
  await using server = await startEmulator({ throttleFirst: 2, errorFirst: 1 });
  const codes = [];
  for (let i = 0; i < 5; i++) codes.push((await call(server, "ListKeys")).body.Code ?? "ok");
  assert.deepEqual(codes, [
    "Rejected.Throttling",
    "Rejected.Throttling",
    "ServiceUnavailableTemporary",
    "ok",
    "ok",
  ]);
  server.setFaults({ errorRate: 1 });
  expectError(await call(server, "ListKeys"), "ServiceUnavailableTemporary", 503);
  server.setFaults({ errorRate: 0, throttleFirst: 1 });
  expectError(await call(server, "ListKeys"), "Rejected.Throttling", 429);
  assert.equal((await call(server, "ListKeys")).status, 200);
  assert.throws(() => server.setFaults({ throttleRate: 2 }), KmsenvError);
  assert.deepEqual(server.stats().faults, { throttled: 3, unavailable: 2 });
});

Deno.test("latencyMs delays responses (lower bound only)", async () => {
  await using server = await startEmulator({ latencyMs: 120 });
  const start = performance.now();
  assert.equal((await call(server, "ListKeys")).status, 200);
  assert.ok(performance.now() - start >= 110);
});

Deno.test("stats() and GET /__emulator/stats count authenticated requests per action", async () => {
  await using server = await startEmulator();
  const keyId = await createKey(server);
  await ok(server, "GenerateDataKey", { KeyId: keyId });
  await call(server, "GenerateDataKey", { KeyId: crypto.randomUUID() }); // fails, still counted
  await call({ ...server, accessKeySecret: "wrong" }, "Encrypt"); // not authenticated
  const expected = {
    actions: { CreateKey: 1, GenerateDataKey: 2 },
    faults: { throttled: 0, unavailable: 0 },
    rejected: 1,
  };
  assert.deepEqual(server.stats(), expected);
  const res = await fetch(`${server.endpoint}/__emulator/stats`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), expected);
});

Deno.test("startEmulatorServer() refuses non-loopback addresses and bad options", async () => {
  for (const hostname of ["0.0.0.0", "192.168.1.10", "::", "example.com", "127.0.0.1.nip.io"]) {
    await assert.rejects(
      startEmulatorServer({ hostname }),
      (err: unknown) => err instanceof KmsenvError && /not a loopback address/.test(err.message),
      hostname,
    );
  }
  for (
    const bad of [{ throttleRate: 1.5 }, { errorRate: -0.1 }, { port: 70000 }, { latencyMs: -1 }]
  ) {
    await assert.rejects(startEmulatorServer(bad), KmsenvError, JSON.stringify(bad));
  }
  await using server = await startEmulatorServer({ hostname: "localhost" });
  assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
});

Deno.test("generated credentials look like Alibaba ones and differ per start", async () => {
  await using a = await startEmulator();
  await using b = await startEmulator();
  assert.match(a.accessKeyId, /^LTAI[A-Za-z0-9]{20}$/);
  assert.match(a.accessKeySecret, /^[A-Za-z0-9_-]{30}$/);
  assert.notEqual(a.accessKeySecret, b.accessKeySecret);
  // Each emulator accepts only its own credentials.
  expectError(
    await call({ ...b, endpoint: a.endpoint }, "ListKeys"),
    "InvalidAccessKeyId.NotFound",
    404,
  );
});

/** Runs `kmsenv kms-emulator ARGS` to completion (for the cases that exit at once). */
async function runEmulatorCommand(args: string[]) {
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", main, "kms-emulator", ...args],
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("kmsenv kms-emulator prints one JSON line, serves, and exits 0 on SIGTERM", async () => {
  const emulator = await spawnEmulator(
    [
      "--access-key-id",
      "LTAIcli0000000000000001",
      "--region",
      "cn-beijing",
      "--throttle-rate",
      "0",
    ],
    { env: { KMSENV_EMULATOR_SECRET: "cli-secret-from-env" } },
  );
  assert.match(emulator.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(emulator.accessKeyId, "LTAIcli0000000000000001");
  assert.equal(emulator.accessKeySecret, "cli-secret-from-env");
  assert.equal(emulator.region, "cn-beijing");
  const keyId = await createKey(emulator);
  const described = await ok(emulator, "DescribeKey", { KeyId: keyId });
  assert.match(described.KeyMetadata.Arn, /^acs:kms:cn-beijing:\d{16}:key\//);
  await emulator.close();
  assert.equal((await emulator.child.status).code, 0);
  const stderr = await emulator.stderr();
  assert.match(stderr, /Not for production/);
  assert.doesNotMatch(stderr, /cli-secret-from-env/);
});

Deno.test("kmsenv kms-emulator: fault flags, SIGINT, bad flags are usage errors, 0.0.0.0 is refused", async () => {
  const emulator = await spawnEmulator(["--error-rate", "1"]);
  try {
    expectError(await call(emulator, "ListKeys"), "ServiceUnavailableTemporary", 503);
  } finally {
    await emulator.close();
  }
  const interrupted = await spawnEmulator();
  interrupted.child.kill("SIGINT");
  assert.equal((await interrupted.child.status).code, 0);
  await interrupted.close();
  const bad = await runEmulatorCommand(["--throttle-rate", "2"]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /^kmsenv: error: Invalid --throttle-rate '2'/);
  const open = await runEmulatorCommand(["--host", "0.0.0.0"]);
  assert.equal(open.code, 1, open.stderr);
  assert.match(
    open.stderr,
    /^kmsenv: error: Cannot bind the KMS emulator to 0\.0\.0\.0: not a loopback/,
  );
  assert.equal(open.stdout, "");
});
