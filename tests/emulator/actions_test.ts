/**
 * The emulator's KMS actions over loopback HTTP with raw signed requests:
 * response shapes (KMS-API.md §3), KeyId forms, alias rules, the key-state
 * table (§3.1), NumberOfBytes/KeySpec, encryption contexts, Encrypt limits,
 * Decrypt failures (§4.4) and ReEncrypt.
 */

import assert from "node:assert/strict";
import type { EmulatorServer } from "../../src/emulator/server.ts";
import { startEmulator } from "../helpers/emulator.ts";
import { call, createKey, expectError, type Json, ok } from "./rpc.ts";

let shared: EmulatorServer | undefined;
async function emulator(): Promise<EmulatorServer> {
  return shared ??= await startEmulator({ region: "cn-shanghai", accountId: "1234567890123456" });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function noCode(body: Json): void {
  assert.ok(!("Code" in body), `success bodies carry no Code: ${JSON.stringify(body)}`);
  assert.match(body.RequestId, /^[0-9A-F-]{36}$/);
}

Deno.test("CreateKey and DescribeKey return the documented KeyMetadata", async () => {
  const server = await emulator();
  const created = await ok(server, "CreateKey", { Description: "orders db" });
  noCode(created);
  const m = created.KeyMetadata;
  assert.match(m.KeyId, UUID);
  assert.match(m.PrimaryKeyVersion, UUID);
  assert.match(m.CreationDate, DATE);
  assert.deepEqual(m, {
    KeyId: m.KeyId,
    Arn: `acs:kms:cn-shanghai:1234567890123456:key/${m.KeyId}`,
    CreationDate: m.CreationDate,
    Creator: "1234567890123456",
    Description: "orders db",
    KeySpec: "Aliyun_AES_256",
    KeyUsage: "ENCRYPT/DECRYPT",
    KeyState: "Enabled",
    Origin: "Aliyun_KMS",
    ProtectionLevel: "SOFTWARE",
    PrimaryKeyVersion: m.PrimaryKeyVersion,
    LastRotationDate: m.CreationDate,
    AutomaticRotation: "Disabled",
    DeleteDate: "",
    MaterialExpireTime: "",
  });
  await ok(server, "CreateAlias", { AliasName: "alias/orders", KeyId: m.KeyId });
  for (
    const ref of [
      m.KeyId,
      "alias/orders",
      m.Arn,
      "acs:kms:cn-shanghai:1234567890123456:alias/orders",
    ]
  ) {
    const described = await ok(server, "DescribeKey", { KeyId: ref });
    noCode(described);
    assert.deepEqual(described.KeyMetadata, { ...m, DeletionProtection: "Disabled" });
  }
  // An ARN of another region or account is not this key.
  for (
    const ref of [
      `acs:kms:cn-hangzhou:1234567890123456:key/${m.KeyId}`,
      `acs:kms:cn-shanghai:999:key/${m.KeyId}`,
    ]
  ) {
    expectError(await call(server, "DescribeKey", { KeyId: ref }), "Forbidden.KeyNotFound", 404);
  }
  expectError(await call(server, "DescribeKey"), "MissingKeyId", 400);
});

Deno.test("CreateKey: EXTERNAL origin waits for import; unsupported options are refused", async () => {
  const server = await emulator();
  const external = await ok(server, "CreateKey", { Origin: "EXTERNAL" });
  assert.equal(external.KeyMetadata.KeyState, "PendingImport");
  assert.equal(external.KeyMetadata.Origin, "EXTERNAL");
  const cases: [Record<string, string>, string][] = [
    [{ KeySpec: "RSA_2048" }, "UnsupportedOperation"],
    [{ KeySpec: "AES_256" }, "InvalidParameter"],
    [{ KeyUsage: "SIGN/VERIFY" }, "UnsupportedOperation"],
    [{ KeyUsage: "WRAP" }, "InvalidParameter"],
    [{ Origin: "aliyun_kms" }, "InvalidParameter"],
    [{ EnableAutomaticRotation: "true", RotationInterval: "30d" }, "UnsupportedOperation"],
    [{ RotationInterval: "a year" }, "InvalidParameter"],
    [{ Description: "x".repeat(8193) }, "InvalidParameter"],
  ];
  for (const [params, code] of cases) {
    expectError(await call(server, "CreateKey", params), code, 400);
  }
});

Deno.test("ListKeys pages in creation order, counts, and filters by state", async () => {
  const server = await startEmulator();
  try {
    const empty = await ok(server, "ListKeys");
    noCode(empty);
    assert.deepEqual(empty, {
      RequestId: empty.RequestId,
      Keys: { Key: [] },
      TotalCount: 0,
      PageNumber: 1,
      PageSize: 10,
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createKey(server));
    await ok(server, "DisableKey", { KeyId: ids[1]! });
    const page2 = await ok(server, "ListKeys", { PageNumber: "2", PageSize: "2" });
    assert.equal(page2.TotalCount, 5);
    assert.equal(page2.PageNumber, 2);
    assert.equal(page2.PageSize, 2);
    assert.deepEqual(
      page2.Keys.Key,
      ids.slice(2, 4).map((id) => ({
        KeyId: id,
        KeyArn: `acs:kms:cn-hangzhou:${server.accountId}:key/${id}`,
      })),
    );
    const disabled = await ok(server, "ListKeys", {
      Filters: JSON.stringify([{ Key: "KeyState", Values: ["Disabled", "PendingDeletion"] }]),
    });
    assert.deepEqual(disabled.Keys.Key.map((k: Json) => k.KeyId), [ids[1]]);
    const bad: Record<string, string>[] = [{ PageSize: "0" }, { PageSize: "101" }, {
      PageNumber: "x",
    }];
    for (const params of bad) {
      expectError(await call(server, "ListKeys", params), "InvalidParameter", 400);
    }
    expectError(
      await call(server, "ListKeys", { Filters: '[{"Key":"Color","Values":["red"]}]' }),
      "InvalidParameter",
      400,
    );
  } finally {
    await server.close();
  }
});

Deno.test("alias names: prefix, characters, length, reserved prefix, uniqueness", async () => {
  const server = await emulator();
  const keyId = await createKey(server);
  const bad = [
    "orders",
    "alias/",
    "alias/has space",
    "alias/emoji✓",
    "alias/" + "a".repeat(256),
    "alias/acs-managed",
  ];
  for (const name of bad) {
    expectError(
      await call(server, "CreateAlias", { AliasName: name, KeyId: keyId }),
      "InvalidParameter",
      400,
    );
  }
  await ok(server, "CreateAlias", { AliasName: "alias/" + "a".repeat(255), KeyId: keyId });
  await ok(server, "CreateAlias", { AliasName: "alias/team/app_1-x", KeyId: keyId });
  const dup = expectError(
    await call(server, "CreateAlias", { AliasName: "alias/team/app_1-x", KeyId: keyId }),
    "AliasAlreadyExists",
    400,
  );
  assert.equal(dup.Message, "AliasName Already Exists.");
  // The management actions take a key id or ARN, not an alias (emulator choice).
  expectError(
    await call(server, "CreateAlias", { AliasName: "alias/other", KeyId: "alias/team/app_1-x" }),
    "Forbidden.KeyNotFound",
    404,
  );
  expectError(await call(server, "CreateAlias", { KeyId: keyId }), "MissingAliasName", 400);
});

Deno.test("UpdateAlias re-points, DeleteAlias removes, both need an existing alias", async () => {
  const server = await emulator();
  const a = await createKey(server, "alias/moving");
  const b = await createKey(server);
  assert.equal((await ok(server, "DescribeKey", { KeyId: "alias/moving" })).KeyMetadata.KeyId, a);
  noCode(await ok(server, "UpdateAlias", { AliasName: "alias/moving", KeyId: b }));
  assert.equal((await ok(server, "DescribeKey", { KeyId: "alias/moving" })).KeyMetadata.KeyId, b);
  expectError(
    await call(server, "UpdateAlias", { AliasName: "alias/never-made", KeyId: b }),
    "Forbidden.AliasNotFound",
    404,
  );
  expectError(
    await call(server, "UpdateAlias", { AliasName: "alias/moving", KeyId: crypto.randomUUID() }),
    "Forbidden.KeyNotFound",
    404,
  );
  noCode(await ok(server, "DeleteAlias", { AliasName: "alias/moving" }));
  expectError(
    await call(server, "DescribeKey", { KeyId: "alias/moving" }),
    "Forbidden.AliasNotFound",
    404,
  );
  expectError(
    await call(server, "DeleteAlias", { AliasName: "alias/moving" }),
    "Forbidden.AliasNotFound",
    404,
  );
  // Deleting the alias leaves the key alone.
  assert.equal((await ok(server, "DescribeKey", { KeyId: b })).KeyMetadata.KeyState, "Enabled");
});

Deno.test("ListAliases and ListAliasesByKeyId return the documented shape", async () => {
  const server = await startEmulator({ accountId: "42" });
  try {
    const a = await createKey(server, "alias/one");
    await ok(server, "CreateAlias", { AliasName: "alias/two", KeyId: a });
    const b = await createKey(server, "alias/three");
    const all = await ok(server, "ListAliases");
    noCode(all);
    assert.deepEqual(all, {
      RequestId: all.RequestId,
      Aliases: {
        Alias: [
          { AliasName: "alias/one", AliasArn: "acs:kms:cn-hangzhou:42:alias/one", KeyId: a },
          { AliasName: "alias/two", AliasArn: "acs:kms:cn-hangzhou:42:alias/two", KeyId: a },
          { AliasName: "alias/three", AliasArn: "acs:kms:cn-hangzhou:42:alias/three", KeyId: b },
        ],
      },
      TotalCount: 3,
      PageNumber: 1,
      PageSize: 10,
    });
    const byKey = await ok(server, "ListAliasesByKeyId", { KeyId: a, PageSize: "1" });
    assert.equal(byKey.TotalCount, 2);
    assert.deepEqual(byKey.Aliases.Alias.map((x: Json) => x.AliasName), ["alias/one"]);
  } finally {
    await server.close();
  }
});

Deno.test("GenerateDataKey: KeySpec and NumberOfBytes, NumberOfBytes wins", async () => {
  const server = await emulator();
  const keyId = await createKey(server, "alias/dk");
  const sizes: [Record<string, string>, number][] = [
    [{}, 32],
    [{ KeySpec: "AES_256" }, 32],
    [{ KeySpec: "AES_128" }, 16],
    [{ NumberOfBytes: "1" }, 1],
    [{ NumberOfBytes: "1024" }, 1024],
    [{ KeySpec: "AES_128", NumberOfBytes: "64" }, 64],
  ];
  for (const [params, size] of sizes) {
    const r = await ok(server, "GenerateDataKey", { KeyId: "alias/dk", ...params });
    noCode(r);
    assert.deepEqual(Object.keys(r).sort(), [
      "CiphertextBlob",
      "KeyId",
      "KeyVersionId",
      "Plaintext",
      "RequestId",
    ]);
    assert.equal(r.KeyId, keyId);
    assert.equal(Uint8Array.fromBase64(r.Plaintext).length, size, JSON.stringify(params));
    const d = await ok(server, "Decrypt", { CiphertextBlob: r.CiphertextBlob });
    assert.equal(d.Plaintext, r.Plaintext);
  }
  const invalid: Record<string, string>[] = [
    { NumberOfBytes: "0" },
    { NumberOfBytes: "1025" },
    { NumberOfBytes: "3.5" },
    { KeySpec: "AES_512" },
  ];
  for (const params of invalid) {
    expectError(
      await call(server, "GenerateDataKey", { KeyId: keyId, ...params }),
      "InvalidParameter",
      400,
    );
  }
  const bare = await ok(server, "GenerateDataKeyWithoutPlaintext", {
    KeyId: keyId,
    KeySpec: "AES_128",
  });
  assert.deepEqual(Object.keys(bare).sort(), [
    "CiphertextBlob",
    "KeyId",
    "KeyVersionId",
    "RequestId",
  ]);
  const opened = await ok(server, "Decrypt", { CiphertextBlob: bare.CiphertextBlob });
  assert.equal(Uint8Array.fromBase64(opened.Plaintext).length, 16);
  const dry = await call(server, "GenerateDataKey", { KeyId: keyId, DryRun: "true" });
  expectError(dry, "DryRunOperationError", 400);
});

Deno.test("EncryptionContext: equivalent contexts decrypt, different or invalid ones do not", async () => {
  const server = await emulator();
  const keyId = await createKey(server);
  const { CiphertextBlob: blob, Plaintext } = await ok(server, "GenerateDataKey", {
    KeyId: keyId,
    EncryptionContext: '{"b":"2","a":"1","名":"值 +/"}',
  });
  for (
    const same of ['{"a":"1","b":"2","名":"值 +/"}', ' { "名" : "值 +/", "b":"2" , "a":"1" } ']
  ) {
    const d = await ok(server, "Decrypt", { CiphertextBlob: blob, EncryptionContext: same });
    assert.equal(d.Plaintext, Plaintext);
  }
  for (const other of ['{"a":"1","b":"2"}', '{"a":"1","b":"2","名":"值"}', "", "{}"]) {
    const r = await call(server, "Decrypt", { CiphertextBlob: blob, EncryptionContext: other });
    expectError(r, "InvalidParameter", 400);
  }
  // Absent and {} are the same empty context.
  const plain = await ok(server, "GenerateDataKey", { KeyId: keyId });
  await ok(server, "Decrypt", { CiphertextBlob: plain.CiphertextBlob, EncryptionContext: "{}" });
  for (
    const invalid of [
      '["a"]',
      '{"a":1}',
      '{"a":{"b":"c"}}',
      "null",
      "{",
      '"text"',
      JSON.stringify({ k: "v".repeat(8200) }),
    ]
  ) {
    expectError(
      await call(server, "GenerateDataKey", { KeyId: keyId, EncryptionContext: invalid }),
      "InvalidParameter",
      400,
    );
  }
});

Deno.test("Encrypt: base64 plaintext up to 6 KiB, returned exactly by Decrypt", async () => {
  const server = await emulator();
  const keyId = await createKey(server, "alias/enc");
  const max = crypto.getRandomValues(new Uint8Array(6144)).toBase64();
  for (const plaintext of ["YWJj", "YQ", "YQ==", max]) {
    const e = await ok(server, "Encrypt", { KeyId: "alias/enc", Plaintext: plaintext });
    noCode(e);
    assert.deepEqual(Object.keys(e).sort(), [
      "CiphertextBlob",
      "KeyId",
      "KeyVersionId",
      "RequestId",
    ]);
    assert.equal(e.KeyId, keyId);
    const d = await ok(server, "Decrypt", { CiphertextBlob: e.CiphertextBlob });
    assert.equal(d.Plaintext, plaintext);
  }
  const tooBig = crypto.getRandomValues(new Uint8Array(6145)).toBase64();
  for (const plaintext of [tooBig, "not base64!", "YW Jj", "Y"]) {
    const r = await call(server, "Encrypt", { KeyId: keyId, Plaintext: plaintext });
    expectError(r, "InvalidParameter", 400);
  }
  expectError(await call(server, "Encrypt", { KeyId: keyId }), "MissingPlaintext", 400);
});

Deno.test("Decrypt: garbage is InvalidParameter, an unknown version is KeyNotFound, tampering fails", async () => {
  const server = await emulator();
  const keyId = await createKey(server);
  const { CiphertextBlob } = await ok(server, "Encrypt", { KeyId: keyId, Plaintext: "aGVsbG8=" });
  const bytes = Uint8Array.fromBase64(CiphertextBlob);
  // The blob starts with the key version id, as real KMS blobs do.
  const version = new TextDecoder().decode(bytes.subarray(0, 36));
  assert.equal(
    version,
    (await ok(server, "DescribeKey", { KeyId: keyId })).KeyMetadata.PrimaryKeyVersion,
  );
  for (const garbage of ["%%%", "aGVsbG8=", bytes.subarray(0, 60).toBase64()]) {
    expectError(
      await call(server, "Decrypt", { CiphertextBlob: garbage }),
      "InvalidParameter",
      400,
    );
  }
  const unknown = bytes.slice();
  unknown.set(new TextEncoder().encode(crypto.randomUUID()), 0);
  expectError(
    await call(server, "Decrypt", { CiphertextBlob: unknown.toBase64() }),
    "Forbidden.KeyNotFound",
    404,
  );
  for (const index of [40, bytes.length - 1]) {
    const flipped = bytes.slice();
    flipped[index]! ^= 1;
    expectError(
      await call(server, "Decrypt", { CiphertextBlob: flipped.toBase64() }),
      "InvalidParameter",
      400,
    );
  }
  expectError(await call(server, "Decrypt"), "MissingCiphertextBlob", 400);
});

Deno.test("ReEncrypt moves a blob to the destination key and context", async () => {
  const server = await emulator();
  const source = await createKey(server, "alias/re-src");
  const destination = await createKey(server, "alias/re-dst");
  const dk = await ok(server, "GenerateDataKey", { KeyId: source, EncryptionContext: '{"v":"1"}' });
  const re = await ok(server, "ReEncrypt", {
    CiphertextBlob: dk.CiphertextBlob,
    SourceEncryptionContext: '{"v":"1"}',
    DestinationKeyId: "alias/re-dst",
    DestinationEncryptionContext: '{"v":"2"}',
  });
  noCode(re);
  assert.deepEqual(Object.keys(re).sort(), [
    "CiphertextBlob",
    "KeyId",
    "KeyVersionId",
    "RequestId",
  ]);
  // Emulator choice: the destination key and version, which the new blob is bound to.
  const dst = (await ok(server, "DescribeKey", { KeyId: destination })).KeyMetadata;
  assert.equal(re.KeyId, destination);
  assert.equal(re.KeyVersionId, dst.PrimaryKeyVersion);
  const d = await ok(server, "Decrypt", {
    CiphertextBlob: re.CiphertextBlob,
    EncryptionContext: '{"v":"2"}',
  });
  assert.equal(d.Plaintext, dk.Plaintext);
  assert.equal(d.KeyId, destination);
  expectError(
    await call(server, "ReEncrypt", {
      CiphertextBlob: dk.CiphertextBlob,
      SourceEncryptionContext: '{"v":"2"}',
      DestinationKeyId: destination,
    }),
    "InvalidParameter",
    400,
  );
  expectError(
    await call(server, "ReEncrypt", { CiphertextBlob: dk.CiphertextBlob }),
    "MissingDestinationKeyId",
    400,
  );
  await ok(server, "DisableKey", { KeyId: destination });
  expectError(
    await call(server, "ReEncrypt", {
      CiphertextBlob: dk.CiphertextBlob,
      SourceEncryptionContext: '{"v":"1"}',
      DestinationKeyId: destination,
    }),
    "Rejected.Disabled",
    409,
  );
  await ok(server, "EnableKey", { KeyId: destination });
  await ok(server, "DisableKey", { KeyId: source });
  expectError(
    await call(server, "ReEncrypt", {
      CiphertextBlob: dk.CiphertextBlob,
      SourceEncryptionContext: '{"v":"1"}',
      DestinationKeyId: destination,
    }),
    "Rejected.Disabled",
    409,
  );
});

/** Puts a fresh key into `state` and returns its id and a blob made while it was Enabled. */
async function keyIn(
  server: EmulatorServer,
  state: string,
): Promise<{ id: string; blob?: string }> {
  if (state === "PendingImport") {
    return { id: (await ok(server, "CreateKey", { Origin: "EXTERNAL" })).KeyMetadata.KeyId };
  }
  const id = await createKey(server);
  const blob = (await ok(server, "GenerateDataKey", { KeyId: id })).CiphertextBlob;
  if (state === "Disabled") await ok(server, "DisableKey", { KeyId: id });
  if (state === "PendingDeletion") {
    await ok(server, "ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: "7" });
  }
  return { id, blob };
}

Deno.test("the key-state table of KMS-API.md §3.1 holds for every state", async () => {
  const server = await emulator();
  const OK = "ok";
  const table: Record<string, Record<string, string>> = {
    Enabled: {
      crypto: OK,
      enable: OK,
      disable: OK,
      schedule: OK,
      cancel: "Rejected.StateModifiedFailed",
      alias: OK,
    },
    Disabled: {
      crypto: "Rejected.Disabled",
      enable: OK,
      disable: OK,
      schedule: OK,
      cancel: "Rejected.StateModifiedFailed",
      alias: OK,
    },
    PendingDeletion: {
      crypto: "Rejected.PendingDeletion",
      enable: "Rejected.StateModifiedFailed",
      disable: "Rejected.StateModifiedFailed",
      schedule: "Rejected.StateModifiedFailed",
      cancel: OK,
      alias: "Rejected.StateModifiedFailed",
    },
    PendingImport: {
      crypto: "Rejected.PendingImport",
      enable: "Rejected.StateModifiedFailed",
      disable: "Rejected.StateModifiedFailed",
      schedule: OK,
      cancel: "Rejected.StateModifiedFailed",
      alias: OK,
    },
  };
  const check = (r: Json, expected: string, what: string) => {
    if (expected === OK) assert.equal(r.status, 200, `${what}: ${JSON.stringify(r.body)}`);
    else expectError(r, expected, 409);
  };
  for (const [state, rules] of Object.entries(table)) {
    const crypto_ = [
      (id: string) => call(server, "GenerateDataKey", { KeyId: id }),
      (id: string) => call(server, "GenerateDataKeyWithoutPlaintext", { KeyId: id }),
      (id: string) => call(server, "Encrypt", { KeyId: id, Plaintext: "YWJj" }),
    ];
    const { id, blob } = await keyIn(server, state);
    assert.equal((await ok(server, "DescribeKey", { KeyId: id })).KeyMetadata.KeyState, state);
    for (const f of crypto_) check(await f(id), rules.crypto!, `${state} crypto`);
    if (blob) {
      check(
        await call(server, "Decrypt", { CiphertextBlob: blob }),
        rules.crypto!,
        `${state} Decrypt`,
      );
    }
    check(
      await call(server, "CreateAlias", { AliasName: `alias/state-${state}`, KeyId: id }),
      rules.alias!,
      `${state} CreateAlias`,
    );
    for (const [action, rule] of [["EnableKey", "enable"], ["DisableKey", "disable"]] as const) {
      const fresh = await keyIn(server, state);
      check(
        await call(server, action, { KeyId: fresh.id }),
        rules[rule]!,
        `${state} ${action}`,
      );
    }
    const forSchedule = await keyIn(server, state);
    check(
      await call(server, "ScheduleKeyDeletion", {
        KeyId: forSchedule.id,
        PendingWindowInDays: "30",
      }),
      rules.schedule!,
      `${state} ScheduleKeyDeletion`,
    );
    const forCancel = await keyIn(server, state);
    check(
      await call(server, "CancelKeyDeletion", { KeyId: forCancel.id }),
      rules.cancel!,
      `${state} CancelKeyDeletion`,
    );
    // DescribeKey, ListKeys and ListAliases work in every state.
    await ok(server, "DescribeKey", { KeyId: id });
  }
});

Deno.test("ScheduleKeyDeletion sets DeleteDate; CancelKeyDeletion brings the key back Enabled", async () => {
  const server = await emulator();
  const id = await createKey(server);
  await ok(server, "DisableKey", { KeyId: id });
  await ok(server, "DisableKey", { KeyId: id }); // idempotent
  for (const days of ["6", "367", "seven"]) {
    expectError(
      await call(server, "ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: days }),
      "InvalidParameter",
      400,
    );
  }
  expectError(
    await call(server, "ScheduleKeyDeletion", { KeyId: id }),
    "MissingPendingWindowInDays",
    400,
  );
  const before = Date.now();
  await ok(server, "ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: "10" });
  const m = (await ok(server, "DescribeKey", { KeyId: id })).KeyMetadata;
  assert.equal(m.KeyState, "PendingDeletion");
  const deleteAt = Date.parse(m.DeleteDate);
  assert.ok(Math.abs(deleteAt - (before + 10 * 86_400_000)) < 5_000, m.DeleteDate);
  // UpdateAlias to a key pending deletion is refused with the target's state.
  await createKey(server, "alias/pd-target");
  expectError(
    await call(server, "UpdateAlias", { AliasName: "alias/pd-target", KeyId: id }),
    "Rejected.PendingDeletion",
    409,
  );
  await ok(server, "CancelKeyDeletion", { KeyId: id });
  const back = (await ok(server, "DescribeKey", { KeyId: id })).KeyMetadata;
  assert.equal(back.KeyState, "Enabled");
  assert.equal(back.DeleteDate, "");
  // The management actions take an id or ARN, not an alias (emulator choice).
  expectError(
    await call(server, "DisableKey", { KeyId: "alias/pd-target" }),
    "Forbidden.KeyNotFound",
    404,
  );
  await ok(server, "DisableKey", { KeyId: back.Arn });
});

Deno.test("close the shared actions emulator", async () => {
  await shared?.close();
});
