/**
 * Interop with the official Alibaba Cloud client `@alicloud/pop-core` (a
 * dev-only test oracle): it signs and sends requests its own way, over real
 * loopback HTTP, and the emulator must accept them with GET and POST, with
 * and without an STS token, and reject the bad ones with the documented
 * codes and statuses (KMS-API.md §4.2).
 */

import assert from "node:assert/strict";
import RPCClient from "@alicloud/pop-core";
import { startEmulator } from "../helpers/emulator.ts";
import type { EmulatorServer } from "../../src/emulator/server.ts";

// pop-core keeps a keep-alive agent; its sockets outlive single tests.
const opts = { sanitizeResources: false, sanitizeOps: false };

interface PopCoreError extends Error {
  code: string;
  data: Record<string, unknown>;
  entry: { response: { statusCode: number } };
}

interface PopCoreClient {
  request(
    action: string,
    params?: Record<string, unknown>,
    options?: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
}

function client(
  server: EmulatorServer,
  creds: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string } = {},
): PopCoreClient {
  const Client = RPCClient as unknown as new (config: Record<string, unknown>) => PopCoreClient;
  return new Client({
    accessKeyId: creds.accessKeyId ?? server.accessKeyId,
    accessKeySecret: creds.accessKeySecret ?? server.accessKeySecret,
    ...(creds.securityToken ? { securityToken: creds.securityToken } : {}),
    endpoint: server.endpoint,
    apiVersion: "2016-01-20",
  });
}

/** Runs a pop-core call that must fail; returns the error with code and HTTP status. */
async function rejects(
  promise: Promise<unknown>,
  code: string,
  status: number,
): Promise<PopCoreError> {
  try {
    await promise;
  } catch (err) {
    const e = err as PopCoreError;
    assert.equal(e.code, code, e.message);
    assert.equal(e.entry.response.statusCode, status);
    assert.equal(e.data.HttpStatus, status);
    assert.match(
      String(e.data.RequestId),
      /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-/,
    );
    assert.equal(e.data.HostId, "kms.cn-hangzhou.aliyuncs.com");
    return e;
  }
  assert.fail(`expected ${code}`);
}

let shared: EmulatorServer | undefined;
async function emulator(): Promise<EmulatorServer> {
  return shared ??= await startEmulator();
}

/** The main flow of the CLI: CreateKey → CreateAlias → GenerateDataKey → Decrypt. */
async function mainFlow(kms: PopCoreClient, method: "GET" | "POST", alias: string) {
  const request = { method };
  const created = await kms.request("CreateKey", { Description: `pop-core ${method}` }, request);
  const meta = created.KeyMetadata as Record<string, string>;
  assert.match(
    meta.KeyId!,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.equal(meta.KeyState, "Enabled");
  assert.ok(!("Code" in created), "success bodies carry no Code");
  await kms.request("CreateAlias", { AliasName: alias, KeyId: meta.KeyId }, request);
  // Spaces, '+', '/', '*' and non-ASCII exercise every corner of POP encoding.
  const context = { purpose: "unit test", tenant: "a+b/c*", 名字: "值 ~" };
  const generated = await kms.request("GenerateDataKey", {
    KeyId: alias,
    EncryptionContext: JSON.stringify(context),
  }, request);
  assert.equal(generated.KeyId, meta.KeyId);
  assert.equal(generated.KeyVersionId, meta.PrimaryKeyVersion);
  const dataKey = Uint8Array.fromBase64(generated.Plaintext as string);
  assert.equal(dataKey.length, 32);
  const decrypted = await kms.request("Decrypt", {
    CiphertextBlob: generated.CiphertextBlob,
    // Same pairs, other order: equivalent contexts decrypt.
    EncryptionContext: JSON.stringify({ 名字: "值 ~", tenant: "a+b/c*", purpose: "unit test" }),
  }, request);
  assert.equal(decrypted.Plaintext, generated.Plaintext);
  assert.equal(decrypted.KeyId, meta.KeyId);
}

Deno.test("pop-core GET: CreateKey, CreateAlias, GenerateDataKey, Decrypt", opts, async () => {
  await mainFlow(client(await emulator()), "GET", "alias/popcore-get");
});

Deno.test(
  "pop-core POST (form body): CreateKey, CreateAlias, GenerateDataKey, Decrypt",
  opts,
  async () => {
    await mainFlow(client(await emulator()), "POST", "alias/popcore-post");
  },
);

Deno.test("pop-core with an STS token, GET and POST", opts, async () => {
  const server = await emulator();
  const sts = server.issueStsCredentials();
  assert.match(sts.AccessKeyId, /^STS\./);
  const kms = client(server, {
    accessKeyId: sts.AccessKeyId,
    accessKeySecret: sts.AccessKeySecret,
    securityToken: sts.SecurityToken,
  });
  await mainFlow(kms, "GET", "alias/popcore-sts-get");
  await mainFlow(kms, "POST", "alias/popcore-sts-post");
});

Deno.test("pop-core with an STS key but a wrong or missing token is rejected", opts, async () => {
  const server = await emulator();
  const sts = server.issueStsCredentials();
  const other = server.issueStsCredentials();
  const base = { accessKeyId: sts.AccessKeyId, accessKeySecret: sts.AccessKeySecret };
  await rejects(client(server, base).request("ListKeys"), "MissingSecurityToken", 400);
  await rejects(
    client(server, { ...base, securityToken: other.SecurityToken }).request("ListKeys"),
    "InvalidSecurityToken.MismatchWithAccessKey",
    400,
  );
  await rejects(
    client(server, { ...base, securityToken: "bm90IGEgdG9rZW4=" }).request("ListKeys"),
    "InvalidSecurityToken.Malformed",
    400,
  );
  const expired = server.issueStsCredentials({ expiresAt: new Date(Date.now() - 1000) });
  await rejects(
    client(server, {
      accessKeyId: expired.AccessKeyId,
      accessKeySecret: expired.AccessKeySecret,
      securityToken: expired.SecurityToken,
    }).request("ListKeys"),
    "InvalidSecurityToken.Expired",
    400,
  );
});

Deno.test(
  "pop-core with a wrong secret gets SignatureDoesNotMatch and the server's StringToSign",
  opts,
  async () => {
    const server = await emulator();
    for (const method of ["GET", "POST"]) {
      const err = await rejects(
        client(server, { accessKeySecret: "wrong-secret" }).request("ListKeys", {}, { method }),
        "SignatureDoesNotMatch",
        400,
      );
      const message = String(err.data.Message);
      const prefix =
        "Specified signature is not matched with our calculation. server string to sign is:";
      assert.ok(message.startsWith(prefix), message);
      // The StringToSign is the one pop-core computed too: same method, same canonical query.
      const sts = message.slice(prefix.length);
      assert.ok(
        sts.startsWith(`${method}&%2F&AccessKeyId%3D${server.accessKeyId}%26Action%3DListKeys`),
      );
    }
  },
);

Deno.test(
  "pop-core with an unknown AccessKey id gets InvalidAccessKeyId.NotFound 404",
  opts,
  async () => {
    const server = await emulator();
    await rejects(
      client(server, { accessKeyId: "LTAInobody" }).request("ListKeys"),
      "InvalidAccessKeyId.NotFound",
      404,
    );
  },
);

Deno.test("pop-core replaying a nonce gets SignatureNonceUsed", opts, async () => {
  const server = await emulator();
  const kms = client(server);
  // pop-core lets explicit params override its defaults, so the nonce can be pinned.
  const nonce = crypto.randomUUID();
  await kms.request("ListKeys", { SignatureNonce: nonce });
  await rejects(kms.request("ListKeys", { SignatureNonce: nonce }), "SignatureNonceUsed", 400);
  await rejects(
    kms.request("ListKeys", { SignatureNonce: nonce }, { method: "POST" }),
    "SignatureNonceUsed",
    400,
  );
});

Deno.test(
  "pop-core with a stale or malformed timestamp gets InvalidTimeStamp.*",
  opts,
  async () => {
    const server = await emulator();
    const kms = client(server);
    const stale = new Date(Date.now() - 16 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    await rejects(kms.request("ListKeys", { Timestamp: stale }), "InvalidTimeStamp.Expired", 400);
    const future = new Date(Date.now() + 16 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    await rejects(kms.request("ListKeys", { Timestamp: future }), "InvalidTimeStamp.Expired", 400);
    await rejects(
      kms.request("ListKeys", { Timestamp: "2024-01-02 03:04:05" }),
      "InvalidTimeStamp.Format",
      400,
    );
  },
);

Deno.test("pop-core: unknown key and alias, disabled key", opts, async () => {
  const server = await emulator();
  const kms = client(server);
  await rejects(
    kms.request("GenerateDataKey", { KeyId: crypto.randomUUID() }),
    "Forbidden.KeyNotFound",
    404,
  );
  await rejects(
    kms.request("DescribeKey", { KeyId: "alias/popcore-missing" }),
    "Forbidden.AliasNotFound",
    404,
  );
  const created = await kms.request("CreateKey");
  const keyId = (created.KeyMetadata as Record<string, string>).KeyId!;
  const blob = (await kms.request("GenerateDataKey", { KeyId: keyId })).CiphertextBlob;
  await kms.request("DisableKey", { KeyId: keyId });
  await rejects(kms.request("GenerateDataKey", { KeyId: keyId }), "Rejected.Disabled", 409);
  await rejects(kms.request("Decrypt", { CiphertextBlob: blob }), "Rejected.Disabled", 409);
  await kms.request("EnableKey", { KeyId: keyId });
  await kms.request("Decrypt", { CiphertextBlob: blob });
});

Deno.test("close the shared pop-core emulator", opts, async () => {
  await shared?.close();
});
