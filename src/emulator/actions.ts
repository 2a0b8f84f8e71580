/**
 * The KMS actions the emulator serves (KMS-API.md §3): request validation,
 * KeyId resolution, the key-state table of §3.1, and the documented response
 * shapes. Every handler takes the merged request parameters and returns the
 * response body without `RequestId`; errors are thrown as {@link KmsApiFault}.
 *
 * @module
 */

import {
  aliasNotFound,
  invalidParameter,
  keyNotFound,
  KmsApiFault,
  missing,
  rejectedState,
  stateModifiedFailed,
  unsupported,
} from "./api_error.ts";
import {
  checkBase64Plaintext,
  type Context,
  openBlob,
  parseBlob,
  parseContext,
  sealBlob,
} from "./crypto.ts";
import type { KeyRecord, KeyState, KeyStore } from "./store.ts";

type Params = Record<string, string>;
type Body = Record<string, unknown>;

/** Largest Encrypt plaintext, in decoded bytes (6 KiB). */
export const MAX_ENCRYPT_BYTES = 6 * 1024;
const ALIAS_NAME = /^alias\/[A-Za-z0-9_/-]{1,255}$/;
const SYMMETRIC_SPECS = ["Aliyun_AES_256"];
const OTHER_SPECS = [
  "Aliyun_AES_128",
  "Aliyun_AES_192",
  "Aliyun_SM4",
  "RSA_2048",
  "RSA_3072",
  "RSA_4096",
  "EC_P256",
  "EC_P256K",
  "EC_SM2",
];

/** Everything an action needs besides its parameters. */
export interface ActionEnv {
  store: KeyStore;
  region: string;
  now(): number;
}

/** The action table: name → handler. */
export const ACTIONS: Record<string, (env: ActionEnv, p: Params) => Promise<Body>> = {
  CreateKey: createKey,
  DescribeKey,
  ListKeys,
  ListAliases,
  ListAliasesByKeyId,
  CreateAlias,
  UpdateAlias,
  DeleteAlias,
  GenerateDataKey: (env, p) => generateDataKey(env, p, true),
  GenerateDataKeyWithoutPlaintext: (env, p) => generateDataKey(env, p, false),
  Encrypt,
  Decrypt,
  ReEncrypt,
  EnableKey: (env, p) => setEnabled(env, p, "Enabled"),
  DisableKey: (env, p) => setEnabled(env, p, "Disabled"),
  ScheduleKeyDeletion,
  CancelKeyDeletion,
};

/** Names of the actions the emulator serves. */
export const ACTION_NAMES: readonly string[] = Object.keys(ACTIONS);

function required(p: Params, name: string): string {
  const value = p[name];
  if (value === undefined || value === "") throw missing(name);
  return value;
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function keyArn(env: ActionEnv, keyId: string): string {
  return `acs:kms:${env.region}:${env.store.accountId}:key/${keyId}`;
}

function aliasArn(env: ActionEnv, name: string): string {
  return `acs:kms:${env.region}:${env.store.accountId}:${name}`;
}

/** `acs:kms:REGION:UID:key/ID` or `…:alias/NAME`, for this region and account only. */
function parseArn(env: ActionEnv, text: string): { keyId?: string; alias?: string } {
  const m = /^acs:kms:([^:]*):([^:]*):(key\/.+|alias\/.+)$/.exec(text);
  if (!m || m[1] !== env.region || m[2] !== env.store.accountId) return {};
  const resource = m[3]!;
  return resource.startsWith("key/") ? { keyId: resource.slice(4) } : { alias: resource };
}

function aliasTarget(env: ActionEnv, name: string): KeyRecord {
  const keyId = env.store.alias(name);
  const key = keyId === undefined ? undefined : env.store.key(keyId);
  if (!key) throw aliasNotFound();
  return key;
}

/**
 * Resolves a KeyId in any documented form: key id, `alias/NAME`, key ARN or
 * alias ARN (crypto actions and DescribeKey).
 */
function resolveAnyKey(env: ActionEnv, keyRef: string): KeyRecord {
  if (keyRef.startsWith("alias/")) return aliasTarget(env, keyRef);
  if (keyRef.startsWith("acs:")) {
    const arn = parseArn(env, keyRef);
    if (arn.alias !== undefined) return aliasTarget(env, arn.alias);
    keyRef = arn.keyId ?? "";
  }
  const key = env.store.key(keyRef);
  if (!key) throw keyNotFound();
  return key;
}

/**
 * Resolves a KeyId given as key id or key ARN only: the management actions
 * document a "globally unique key ID" (emulator choice for aliases there:
 * `Forbidden.KeyNotFound`, KMS-API.md §3.0).
 */
function resolveKeyId(env: ActionEnv, keyRef: string): KeyRecord {
  if (keyRef.startsWith("acs:")) keyRef = parseArn(env, keyRef).keyId ?? "";
  const key = env.store.key(keyRef);
  if (!key) throw keyNotFound();
  return key;
}

/** The §3.1 rule for GenerateDataKey*, Encrypt and Decrypt: only Enabled keys. */
function requireEnabled(key: KeyRecord): void {
  if (key.state !== "Enabled") throw rejectedState(key.state);
}

function metadata(env: ActionEnv, key: KeyRecord, describe: boolean): Body {
  return {
    KeyId: key.keyId,
    Arn: keyArn(env, key.keyId),
    CreationDate: key.creationDate,
    Creator: env.store.accountId,
    Description: key.description,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    KeyState: key.state,
    Origin: key.origin,
    ProtectionLevel: key.protectionLevel,
    PrimaryKeyVersion: key.primaryKeyVersion,
    LastRotationDate: key.creationDate,
    AutomaticRotation: "Disabled",
    DeleteDate: key.deleteDate ?? "",
    MaterialExpireTime: "",
    ...(describe ? { DeletionProtection: "Disabled" } : {}),
  };
}

function oneOf(p: Params, name: string, allowed: string[], fallback: string): string {
  const value = p[name];
  if (value === undefined || value === "") return fallback;
  if (!allowed.includes(value)) throw invalidParameter(`${name} is not one of the allowed values.`);
  return value;
}

function integer(p: Params, name: string, min: number, max: number): number | undefined {
  const text = p[name];
  if (text === undefined || text === "") return undefined;
  if (!/^\d{1,10}$/.test(text)) throw invalidParameter(`${name} must be an integer.`);
  const value = Number(text);
  if (value < min || value > max) {
    throw invalidParameter(`${name} must be between ${min} and ${max}.`);
  }
  return value;
}

function boolean(p: Params, name: string): boolean {
  const text = p[name];
  if (text === undefined || text === "" || text === "false") return false;
  if (text === "true") return true;
  throw invalidParameter(`${name} must be true or false.`);
}

/**
 * DryRun=true: every check has passed, so answer as KMS does for a call that
 * would have succeeded (status [U]; emulator choice 400).
 */
function dryRun(p: Params): void {
  if (boolean(p, "DryRun")) {
    throw new KmsApiFault(
      "DryRunOperationError",
      400,
      "Request would have succeeded, but DryRun flag is set.",
    );
  }
}

async function createKey(env: ActionEnv, p: Params): Promise<Body> {
  const description = p.Description ?? "";
  if (description.length > 8192) throw invalidParameter("Description is too long.");
  const keySpec = p.KeySpec || "Aliyun_AES_256";
  if (OTHER_SPECS.includes(keySpec)) {
    throw unsupported(`The emulator only offers KeySpec Aliyun_AES_256.`);
  }
  if (!SYMMETRIC_SPECS.includes(keySpec)) throw invalidParameter("KeySpec is not valid.");
  const keyUsage = oneOf(p, "KeyUsage", ["ENCRYPT/DECRYPT", "SIGN/VERIFY"], "ENCRYPT/DECRYPT");
  if (keyUsage !== "ENCRYPT/DECRYPT") throw unsupported("Symmetric keys only encrypt/decrypt.");
  const origin = oneOf(p, "Origin", ["Aliyun_KMS", "EXTERNAL"], "Aliyun_KMS");
  const protectionLevel = oneOf(p, "ProtectionLevel", ["SOFTWARE", "HSM"], "SOFTWARE");
  if (boolean(p, "EnableAutomaticRotation")) {
    throw unsupported("The emulator does not rotate keys.");
  }
  if (p.RotationInterval && !/^\d+[dhms]$/.test(p.RotationInterval)) {
    throw invalidParameter("RotationInterval is not valid.");
  }
  if (p.DKMSInstanceId) throw unsupported("The emulator has no KMS instances.");
  const key = env.store.createKey({
    description,
    keySpec,
    keyUsage,
    origin,
    protectionLevel,
    creationDate: isoSeconds(env.now()),
    // An EXTERNAL key waits for imported material, which the emulator never receives.
    state: origin === "EXTERNAL" ? "PendingImport" : "Enabled",
  });
  await env.store.save();
  return { KeyMetadata: metadata(env, key, false) };
}

function DescribeKey(env: ActionEnv, p: Params): Promise<Body> {
  const key = resolveAnyKey(env, required(p, "KeyId"));
  return Promise.resolve({ KeyMetadata: metadata(env, key, true) });
}

function page(p: Params, minSize: number) {
  const pageNumber = integer(p, "PageNumber", 1, 1_000_000_000) ?? 1;
  const pageSize = integer(p, "PageSize", minSize, 100) ?? 10;
  return { pageNumber, pageSize, start: (pageNumber - 1) * pageSize };
}

const FILTER_FIELDS: Record<string, (k: KeyRecord) => string | undefined> = {
  KeyState: (k) => k.state,
  KeySpec: (k) => k.keySpec,
  KeyUsage: (k) => k.keyUsage,
  ProtectionLevel: (k) => k.protectionLevel,
  CreatorType: () => "User",
  DKMSInstanceId: () => undefined,
};

function parseFilters(text: string | undefined): ((k: KeyRecord) => boolean)[] {
  if (text === undefined || text === "") return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidParameter("Filters is not valid JSON.");
  }
  if (!Array.isArray(value) || value.length > 10) {
    throw invalidParameter("Filters must be a JSON array of at most 10 filters.");
  }
  return value.map((filter: unknown) => {
    const f = filter as { Key?: unknown; Values?: unknown };
    const field = typeof f?.Key === "string" ? FILTER_FIELDS[f.Key] : undefined;
    const values = f?.Values;
    if (
      !field || !Array.isArray(values) || values.length === 0 ||
      !values.every((v) => typeof v === "string")
    ) {
      throw invalidParameter("Filters has an unknown Key or bad Values.");
    }
    // Values of one key combine with OR, keys with AND (KMS-API.md §3.5).
    return (k: KeyRecord) => {
      const actual = field(k);
      return actual !== undefined && values.includes(actual);
    };
  });
}

function ListKeys(env: ActionEnv, p: Params): Promise<Body> {
  const { pageNumber, pageSize, start } = page(p, 1);
  const filters = parseFilters(p.Filters);
  const keys = env.store.keys().filter((k) => filters.every((f) => f(k)));
  return Promise.resolve({
    Keys: {
      Key: keys.slice(start, start + pageSize).map((k) => ({
        KeyId: k.keyId,
        KeyArn: keyArn(env, k.keyId),
      })),
    },
    TotalCount: keys.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
  });
}

function aliasPage(env: ActionEnv, p: Params, aliases: [string, string][]): Body {
  const { pageNumber, pageSize, start } = page(p, 1);
  return {
    Aliases: {
      Alias: aliases.slice(start, start + pageSize).map(([name, keyId]) => ({
        AliasName: name,
        AliasArn: aliasArn(env, name),
        KeyId: keyId,
      })),
    },
    TotalCount: aliases.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
  };
}

function ListAliases(env: ActionEnv, p: Params): Promise<Body> {
  return Promise.resolve(aliasPage(env, p, env.store.aliases()));
}

function ListAliasesByKeyId(env: ActionEnv, p: Params): Promise<Body> {
  const key = resolveKeyId(env, required(p, "KeyId"));
  const aliases = env.store.aliases().filter(([, keyId]) => keyId === key.keyId);
  return Promise.resolve(aliasPage(env, p, aliases));
}

function aliasName(p: Params): string {
  const name = required(p, "AliasName");
  if (!ALIAS_NAME.test(name)) {
    throw invalidParameter("AliasName must be alias/ followed by 1-255 of A-Z a-z 0-9 _ / -.");
  }
  return name;
}

async function CreateAlias(env: ActionEnv, p: Params): Promise<Body> {
  const name = aliasName(p);
  if (name.toLowerCase().startsWith("alias/acs")) {
    throw invalidParameter("AliasName must not start with the reserved prefix alias/acs.");
  }
  const key = resolveKeyId(env, required(p, "KeyId"));
  if (env.store.alias(name) !== undefined) {
    throw new KmsApiFault("AliasAlreadyExists", 400, "AliasName Already Exists.");
  }
  if (key.state === "PendingDeletion") throw stateModifiedFailed();
  env.store.setAlias(name, key.keyId);
  await env.store.save();
  return {};
}

async function UpdateAlias(env: ActionEnv, p: Params): Promise<Body> {
  const name = aliasName(p);
  const key = resolveKeyId(env, required(p, "KeyId"));
  if (env.store.alias(name) === undefined) throw aliasNotFound();
  if (key.state === "PendingDeletion") throw rejectedState("PendingDeletion");
  env.store.setAlias(name, key.keyId);
  await env.store.save();
  return {};
}

async function DeleteAlias(env: ActionEnv, p: Params): Promise<Body> {
  const name = aliasName(p);
  if (!env.store.deleteAlias(name)) throw aliasNotFound();
  await env.store.save();
  return {};
}

/** Encrypts `plaintext` (base64 text) under the key's primary version. */
async function seal(key: KeyRecord, plaintext: string, context: Context, env: ActionEnv) {
  const entry = env.store.version(key.primaryKeyVersion);
  if (!entry) throw keyNotFound();
  return {
    KeyId: key.keyId,
    KeyVersionId: key.primaryKeyVersion,
    CiphertextBlob: await sealBlob(
      key.primaryKeyVersion,
      await entry.cryptoKey,
      plaintext,
      context,
    ),
  };
}

/** Finds, state-checks and opens a blob: the Decrypt half of Decrypt and ReEncrypt. */
async function open(env: ActionEnv, blobText: string, context: Context) {
  const blob = parseBlob(blobText);
  const entry = env.store.version(blob.versionId);
  if (!entry) throw keyNotFound();
  requireEnabled(entry.key);
  const plaintext = await openBlob(blob, await entry.cryptoKey, context);
  return { key: entry.key, versionId: blob.versionId, plaintext };
}

async function generateDataKey(env: ActionEnv, p: Params, withPlaintext: boolean): Promise<Body> {
  const key = resolveAnyKey(env, required(p, "KeyId"));
  const keySpec = p.KeySpec === undefined || p.KeySpec === ""
    ? undefined
    : oneOf(p, "KeySpec", ["AES_256", "AES_128"], "AES_256");
  const numberOfBytes = integer(p, "NumberOfBytes", 1, 1024);
  const context = parseContext(p.EncryptionContext);
  requireEnabled(key);
  dryRun(p);
  // NumberOfBytes wins over KeySpec when both are given (KMS-API.md §3.9).
  const size = numberOfBytes ?? (keySpec === "AES_128" ? 16 : 32);
  const dataKey = crypto.getRandomValues(new Uint8Array(size));
  const plaintext = dataKey.toBase64();
  dataKey.fill(0);
  const sealed = await seal(key, plaintext, context, env);
  return withPlaintext ? { ...sealed, Plaintext: plaintext } : sealed;
}

async function Encrypt(env: ActionEnv, p: Params): Promise<Body> {
  const key = resolveAnyKey(env, required(p, "KeyId"));
  const plaintext = required(p, "Plaintext");
  checkBase64Plaintext(plaintext, MAX_ENCRYPT_BYTES);
  const context = parseContext(p.EncryptionContext);
  requireEnabled(key);
  dryRun(p);
  return await seal(key, plaintext, context, env);
}

async function Decrypt(env: ActionEnv, p: Params): Promise<Body> {
  const blobText = required(p, "CiphertextBlob");
  const context = parseContext(p.EncryptionContext);
  const { key, versionId, plaintext } = await open(env, blobText, context);
  dryRun(p);
  return { KeyId: key.keyId, KeyVersionId: versionId, Plaintext: plaintext };
}

async function ReEncrypt(env: ActionEnv, p: Params): Promise<Body> {
  const blobText = required(p, "CiphertextBlob");
  const destinationRef = required(p, "DestinationKeyId");
  if (p.SourceKeyId || p.SourceKeyVersionId || p.SourceEncryptionAlgorithm) {
    throw unsupported("The emulator has no asymmetric keys.");
  }
  const sourceContext = parseContext(p.SourceEncryptionContext, "SourceEncryptionContext");
  const destinationContext = parseContext(
    p.DestinationEncryptionContext,
    "DestinationEncryptionContext",
  );
  const destination = resolveAnyKey(env, destinationRef);
  // Decrypt rules for the source key, Encrypt rules for the destination (KMS-API.md §3.1).
  const { plaintext } = await open(env, blobText, sourceContext);
  requireEnabled(destination);
  dryRun(p);
  // Emulator choice: the destination key and version, which the returned blob is bound to.
  return await seal(destination, plaintext, destinationContext, env);
}

async function setEnabled(env: ActionEnv, p: Params, to: KeyState): Promise<Body> {
  const key = resolveKeyId(env, required(p, "KeyId"));
  if (key.state === "PendingDeletion" || key.state === "PendingImport") {
    throw stateModifiedFailed();
  }
  if (key.state !== to) {
    key.state = to;
    await env.store.save();
  }
  return {};
}

async function ScheduleKeyDeletion(env: ActionEnv, p: Params): Promise<Body> {
  const key = resolveKeyId(env, required(p, "KeyId"));
  const days = integer(p, "PendingWindowInDays", 7, 366);
  if (days === undefined) throw missing("PendingWindowInDays");
  if (key.state === "PendingDeletion") throw stateModifiedFailed();
  key.state = "PendingDeletion";
  key.deleteDate = isoSeconds(env.now() + days * 86_400_000);
  await env.store.save();
  return {};
}

async function CancelKeyDeletion(env: ActionEnv, p: Params): Promise<Body> {
  const key = resolveKeyId(env, required(p, "KeyId"));
  if (key.state !== "PendingDeletion") throw stateModifiedFailed();
  key.state = "Enabled";
  delete key.deleteDate;
  await env.store.save();
  return {};
}
