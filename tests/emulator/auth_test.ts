/**
 * Request authentication of the emulator, with raw requests signed by
 * src/kms/sign.ts and sent with fetch: the published vectors, the real HTTP
 * method, where parameters travel, form decoding, Missing<Param>, timestamp
 * window, nonce replay (and what does not burn a nonce), STS tokens, Action
 * and Version (KMS-API.md §1, §1.7, §4.3).
 */

import assert from "node:assert/strict";
import { encodeForm, rpcTimestamp, signRpc, stringToSign } from "../../src/kms/sign.ts";
import { Credentials } from "../../src/emulator/auth.ts";
import type { EmulatorServer } from "../../src/emulator/server.ts";
import { startEmulator } from "../helpers/emulator.ts";
import { call, expectError, send, signedRequest } from "./rpc.ts";

let shared: EmulatorServer | undefined;
async function emulator(): Promise<EmulatorServer> {
  return shared ??= await startEmulator();
}

/** Signs an arbitrary parameter set (no defaults added) and returns it with Signature. */
async function signAll(
  server: EmulatorServer,
  method: string,
  params: Record<string, string>,
): Promise<Record<string, string>> {
  return { ...params, Signature: await signRpc(method, params, server.accessKeySecret) };
}

function common(server: EmulatorServer, action = "ListKeys"): Record<string, string> {
  return {
    Action: action,
    Version: "2016-01-20",
    Format: "JSON",
    AccessKeyId: server.accessKeyId,
    SignatureMethod: "HMAC-SHA1",
    SignatureVersion: "1.0",
    SignatureNonce: crypto.randomUUID(),
    Timestamp: rpcTimestamp(),
  };
}

Deno.test("Credentials.verify() accepts the published KMS-shaped vectors (KMS-API.md §1.6 D)", async () => {
  const creds = new Credentials("testid", "testsecret");
  const params: Record<string, string> = {
    AccessKeyId: "testid",
    Action: "GenerateDataKey",
    Format: "JSON",
    SignatureMethod: "HMAC-SHA1",
    SignatureNonce: "00000000-0000-4000-8000-000000000001",
    SignatureVersion: "1.0",
    Timestamp: "2024-01-02T03:04:05Z",
    Version: "2016-01-20",
    KeyId: "alias/my-app_key",
    KeySpec: "AES_256",
    EncryptionContext: '{"purpose":"unit test","tenant":"a+b/c"}',
  };
  const at = Date.parse("2024-01-02T03:10:00Z");
  const get = { ...params, Signature: "N+F9Mf6xSjzb0+CMKgQEYtGRYH0=" };
  const post = { ...params, Signature: "GvZXuZ0qkYot/mz+fSGfM7iR3bw=" };
  assert.equal(await creds.verify("GET", get, at), "testid");
  assert.equal(await creds.verify("POST", post, at), "testid");
  // The real method counts: a GET signature sent as POST does not verify.
  await assert.rejects(creds.verify("POST", get, at), { code: "SignatureDoesNotMatch" });
});

Deno.test("GET, POST with a form body, and POST with everything in the query all verify", async () => {
  const server = await emulator();
  for (
    const [method, placement] of [["GET", "query"], ["POST", "body"], ["POST", "query"]] as const
  ) {
    const r = await call(server, "ListKeys", {}, { method, placement });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(!("Code" in r.body));
    assert.match(
      r.body.RequestId,
      /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/,
    );
    assert.equal(r.headers.get("x-acs-request-id"), r.body.RequestId);
  }
});

Deno.test("POST with common parameters in the query and business ones in the body verifies", async () => {
  const server = await emulator();
  const params = await signAll(server, "POST", {
    ...common(server, "DescribeKey"),
    KeyId: "alias/does-not-exist",
  });
  const { KeyId, ...query } = params;
  const res = await fetch(`${server.endpoint}/?${encodeForm(query)}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: encodeForm({ KeyId: KeyId! }),
  });
  // Authentication passed; the alias is simply unknown.
  expectError(
    { status: res.status, headers: res.headers, body: await res.json() },
    "Forbidden.AliasNotFound",
    404,
  );
});

Deno.test("a form body with '+' for spaces (Go url.Values style) verifies", async () => {
  const server = await emulator();
  const params = await signAll(server, "POST", {
    ...common(server, "DescribeKey"),
    KeyId: "alias/no such alias",
    Description: "a b+c",
  });
  const body = new URLSearchParams(params).toString();
  assert.match(body, /KeyId=alias%2Fno\+such\+alias/);
  const res = await fetch(`${server.endpoint}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  const json = await res.json();
  assert.equal(json.Code, "Forbidden.AliasNotFound", JSON.stringify(json));
});

Deno.test("a tampered parameter gets SignatureDoesNotMatch ending in the server's StringToSign", async () => {
  const server = await emulator();
  let sent: Record<string, string> = {};
  const r = await call(server, "DescribeKey", { KeyId: "alias/a" }, {
    tamper: (p) => {
      p.KeyId = "alias/b";
      sent = { ...p };
    },
  });
  const body = expectError(r, "SignatureDoesNotMatch", 400);
  assert.equal(
    body.Message,
    "Specified signature is not matched with our calculation. server string to sign is:" +
      stringToSign("POST", sent),
  );
});

Deno.test("a GET-signed request sent as POST gets SignatureDoesNotMatch", async () => {
  const server = await emulator();
  const { url } = await signedRequest(server, "ListKeys", {}, { method: "GET" });
  const query = new URL(url).search.slice(1);
  const res = await fetch(`${server.endpoint}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: query,
  });
  const body = await res.json();
  assert.equal(res.status, 400);
  assert.equal(body.Code, "SignatureDoesNotMatch");
  const sent = Object.fromEntries(new URLSearchParams(query));
  assert.ok(body.Message.endsWith("server string to sign is:" + stringToSign("POST", sent)));
});

Deno.test("each missing common parameter gets Missing<Name> 400", async () => {
  const server = await emulator();
  for (
    const name of [
      "AccessKeyId",
      "Signature",
      "SignatureMethod",
      "SignatureVersion",
      "SignatureNonce",
      "Timestamp",
    ]
  ) {
    const r = await call(server, "ListKeys", {}, { tamper: (p) => delete p[name] });
    const body = expectError(r, `Missing${name}`, 400);
    assert.equal(body.Message, `${name} is mandatory for this action.`);
  }
});

Deno.test("a wrong SignatureMethod or SignatureVersion gets InvalidParameter", async () => {
  const server = await emulator();
  for (const [name, value] of [["SignatureMethod", "HMAC-SHA256"], ["SignatureVersion", "2.0"]]) {
    const params = await signAll(server, "POST", { ...common(server), [name!]: value! });
    const r = await send({
      url: `${server.endpoint}/`,
      init: {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: encodeForm(params),
      },
    });
    expectError(r, "InvalidParameter", 400);
  }
});

Deno.test("Timestamp: ±15 minutes pass, beyond is Expired, malformed is Format", async () => {
  const server = await emulator();
  const at = (minutes: number) => rpcTimestamp(new Date(Date.now() + minutes * 60_000));
  assert.equal((await call(server, "ListKeys", {}, { timestamp: at(-14) })).status, 200);
  assert.equal((await call(server, "ListKeys", {}, { timestamp: at(14) })).status, 200);
  expectError(
    await call(server, "ListKeys", {}, { timestamp: at(-16) }),
    "InvalidTimeStamp.Expired",
    400,
  );
  expectError(
    await call(server, "ListKeys", {}, { timestamp: at(16) }),
    "InvalidTimeStamp.Expired",
    400,
  );
  for (
    const bad of [
      "2024-02-30T00:00:00Z",
      "2024-01-02T03:04:05.000Z",
      "1704164645",
      "2024-01-02T25:00:00Z",
    ]
  ) {
    expectError(
      await call(server, "ListKeys", {}, { timestamp: bad }),
      "InvalidTimeStamp.Format",
      400,
    );
  }
});

Deno.test("a nonce is burned only by a verified request, and only for its AccessKey", async () => {
  const server = await emulator();
  const nonce = crypto.randomUUID();
  // A forged request with someone's nonce must not make their real request fail.
  const forged = await call(server, "ListKeys", {}, {
    nonce,
    tamper: (p) => (p.Signature = "AAAA"),
  });
  expectError(forged, "SignatureDoesNotMatch", 400);
  assert.equal((await call(server, "ListKeys", {}, { nonce })).status, 200);
  const replay = expectError(
    await call(server, "ListKeys", {}, { nonce }),
    "SignatureNonceUsed",
    400,
  );
  assert.equal(replay.Message, "Specified signature nonce was used already.");
  // Replaying the identical bytes is refused too.
  const request = await signedRequest(server, "ListKeys");
  assert.equal((await send(request)).status, 200);
  expectError(await send(request), "SignatureNonceUsed", 400);
  // Nonces are per AccessKey.
  const sts = server.issueStsCredentials();
  const stsSigner = {
    endpoint: server.endpoint,
    accessKeyId: sts.AccessKeyId,
    accessKeySecret: sts.AccessKeySecret,
    securityToken: sts.SecurityToken,
  };
  assert.equal((await call(stsSigner, "ListKeys", {}, { nonce })).status, 200);
});

Deno.test("a permanent AccessKey sent with a SecurityToken is refused", async () => {
  const server = await emulator();
  const r = await call({ ...server, securityToken: "some-token" }, "ListKeys");
  expectError(r, "InvalidSecurityToken.Malformed", 400);
  const sts = server.issueStsCredentials();
  const r2 = await call({ ...server, securityToken: sts.SecurityToken }, "ListKeys");
  expectError(r2, "InvalidSecurityToken.MismatchWithAccessKey", 400);
});

Deno.test("Action and Version: missing, unknown and wrong", async () => {
  const server = await emulator();
  expectError(await call(server, "DeleteKey"), "InvalidAction.NotFound", 404);
  expectError(await call(server, "ListKeys", {}, { version: "2014-05-26" }), "InvalidVersion", 400);
  const { Action: _action, ...noAction } = common(server);
  const params = await signAll(server, "GET", noAction);
  const r = await send({
    url: `${server.endpoint}/?${encodeForm(params)}`,
    init: { method: "GET" },
  });
  expectError(r, "MissingAction", 400);
});

Deno.test("a parameter given twice is refused before anything else", async () => {
  const server = await emulator();
  const { url } = await signedRequest(server, "ListKeys", {}, { method: "GET" });
  const r = await send({ url: `${url}&PageSize=5&PageSize=6`, init: { method: "GET" } });
  expectError(r, "InvalidParameter", 400);
});

Deno.test("methods other than GET and POST get UnsupportedHTTPMethod 403", async () => {
  const server = await emulator();
  const { url } = await signedRequest(server, "ListKeys", {}, { method: "GET" });
  const r = await send({ url, init: { method: "PUT" } });
  expectError(r, "UnsupportedHTTPMethod", 403);
});

Deno.test("close the shared auth emulator", async () => {
  await shared?.close();
});
