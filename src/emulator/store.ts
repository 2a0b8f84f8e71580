/**
 * The emulator's keys and aliases, in memory and optionally in a JSON state
 * file. The file holds raw key material (base64), which is exactly why the
 * emulator is not for production: it is written with mode 0600, atomically
 * (temporary file in the same directory, fsync, rename), after every change
 * and before the change is acknowledged to the client.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { z } from "zod";
import { KmsenvError } from "../errors.ts";
import { importMaterial } from "./crypto.ts";

/** Key states of KMS-API.md §3.1. */
export type KeyState = "Enabled" | "Disabled" | "PendingDeletion" | "PendingImport";

const keyVersionSchema = z.object({
  id: z.uuid(),
  creationDate: z.string(),
  material: z.base64(),
});

const keySchema = z.object({
  keyId: z.uuid(),
  description: z.string(),
  keySpec: z.string(),
  keyUsage: z.string(),
  origin: z.string(),
  protectionLevel: z.string(),
  creationDate: z.string(),
  state: z.enum(["Enabled", "Disabled", "PendingDeletion", "PendingImport"]),
  deleteDate: z.string().optional(),
  primaryKeyVersion: z.uuid(),
  versions: z.array(keyVersionSchema).min(1),
});

const stateSchema = z.object({
  format: z.literal("kmsenv-emulator-state"),
  version: z.literal(1),
  accountId: z.string().regex(/^\d{1,32}$/),
  keys: z.array(keySchema),
  aliases: z.array(z.object({ name: z.string(), keyId: z.uuid() })),
});

/** One key version: an id and 32 bytes of AES key material (base64). */
export type KeyVersionRecord = z.infer<typeof keyVersionSchema>;
/** One customer master key. */
export type KeyRecord = z.infer<typeof keySchema>;
type StateFile = z.infer<typeof stateSchema>;

/** Where a key version lives and its imported AES key. */
interface VersionEntry {
  key: KeyRecord;
  cryptoKey: Promise<CryptoKey>;
}

/** Keys, key versions and aliases of one emulated account and region. */
export class KeyStore {
  readonly #keys = new Map<string, KeyRecord>();
  readonly #versions = new Map<string, VersionEntry>();
  readonly #aliases = new Map<string, string>();
  readonly #path: string | undefined;
  #writing: Promise<void> = Promise.resolve();
  #accountId: string;

  private constructor(accountId: string, path: string | undefined) {
    this.#accountId = accountId;
    this.#path = path;
  }

  /**
   * Opens the store: in memory, or backed by `path` (loaded if it exists,
   * created on the first change). An account id stored in the file wins
   * over a generated one, so ARNs stay stable across restarts.
   */
  static async open(options: { path?: string | undefined; accountId?: string | undefined }) {
    const path = options.path;
    let file: StateFile | undefined;
    if (path !== undefined) file = await readState(path);
    if (file && options.accountId !== undefined && options.accountId !== file.accountId) {
      throw new KmsenvError(
        `Cannot use emulator state ${path}: it belongs to account ${file.accountId}`,
        { hint: "omit the account id, or use another state file" },
      );
    }
    const store = new KeyStore(file?.accountId ?? options.accountId ?? randomAccountId(), path);
    for (const key of file?.keys ?? []) store.#addKey(key);
    for (const { name, keyId } of file?.aliases ?? []) {
      if (!store.#keys.has(keyId)) {
        throw new KmsenvError(`Cannot use emulator state ${path}: alias ${name} has no key`);
      }
      store.#aliases.set(name, keyId);
    }
    if (path !== undefined) {
      // Written at once: a new file exists from the start (so an unwritable
      // directory fails here, not on the first CreateKey), and an existing
      // one that someone made readable to others is back to 0600.
      await store.save();
    }
    return store;
  }

  /** The account uid used in ARNs and as `Creator`. */
  get accountId(): string {
    return this.#accountId;
  }

  /** Every key, in creation order. */
  keys(): KeyRecord[] {
    return [...this.#keys.values()];
  }

  /** A key by id. */
  key(keyId: string): KeyRecord | undefined {
    return this.#keys.get(keyId);
  }

  /** The key id an alias points to. */
  alias(name: string): string | undefined {
    return this.#aliases.get(name);
  }

  /** Every alias as `[name, keyId]`, in creation order. */
  aliases(): [string, string][] {
    return [...this.#aliases.entries()];
  }

  /** The key that owns a version, and the version's AES key. */
  version(versionId: string): VersionEntry | undefined {
    return this.#versions.get(versionId);
  }

  /** Creates a key with one fresh version of 32 random bytes. */
  createKey(fields: Omit<KeyRecord, "keyId" | "primaryKeyVersion" | "versions">): KeyRecord {
    const versionId = crypto.randomUUID();
    const material = crypto.getRandomValues(new Uint8Array(32));
    const key: KeyRecord = {
      ...fields,
      keyId: crypto.randomUUID(),
      primaryKeyVersion: versionId,
      versions: [{
        id: versionId,
        creationDate: fields.creationDate,
        material: material.toBase64(),
      }],
    };
    material.fill(0);
    this.#addKey(key);
    return key;
  }

  #addKey(key: KeyRecord): void {
    this.#keys.set(key.keyId, key);
    for (const version of key.versions) {
      const raw = Uint8Array.fromBase64(version.material);
      const cryptoKey = importMaterial(raw).finally(() => raw.fill(0));
      // Imported eagerly; a rejection is surfaced to the request that uses it.
      cryptoKey.catch(() => {});
      this.#versions.set(version.id, { key, cryptoKey });
    }
  }

  /** Points `name` at `keyId` (creates or re-points). */
  setAlias(name: string, keyId: string): void {
    this.#aliases.set(name, keyId);
  }

  /** Removes an alias; returns whether it existed. */
  deleteAlias(name: string): boolean {
    return this.#aliases.delete(name);
  }

  /**
   * Removes keys whose deletion window has passed, with their aliases, as
   * KMS does at `DeleteDate`. Returns whether anything was removed.
   */
  purgeDeleted(now: number): boolean {
    let changed = false;
    for (const key of this.#keys.values()) {
      if (key.state !== "PendingDeletion" || key.deleteDate === undefined) continue;
      if (Date.parse(key.deleteDate) > now) continue;
      this.#keys.delete(key.keyId);
      for (const v of key.versions) this.#versions.delete(v.id);
      for (const [name, id] of this.#aliases) if (id === key.keyId) this.#aliases.delete(name);
      changed = true;
    }
    return changed;
  }

  /**
   * Writes the state file (when there is one) and resolves once it is on
   * disk. Writes are serialized; each one snapshots the state when called.
   */
  save(): Promise<void> {
    const path = this.#path;
    if (path === undefined) return Promise.resolve();
    const state: StateFile = {
      format: "kmsenv-emulator-state",
      version: 1,
      accountId: this.#accountId,
      keys: this.keys(),
      aliases: this.aliases().map(([name, keyId]) => ({ name, keyId })),
    };
    const text = JSON.stringify(state, null, 2) + "\n";
    const write = this.#writing.then(() => writeAtomic(path, text));
    this.#writing = write.catch(() => {});
    return write;
  }

  /** Resolves once every pending write has finished. */
  async flush(): Promise<void> {
    await this.#writing;
  }
}

function randomAccountId(): string {
  // 16 digits like a real Alibaba Cloud uid, never starting with 0.
  const digits = crypto.getRandomValues(new Uint8Array(16));
  return [...digits].map((d, i) => (i === 0 ? 1 + (d % 9) : d % 10)).join("");
}

async function readState(path: string): Promise<StateFile | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new KmsenvError(`Cannot read emulator state ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KmsenvError(`Cannot read emulator state ${path}: not JSON`, { cause: err });
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KmsenvError(
      `Cannot read emulator state ${path}: unexpected content at ${issue?.path.join(".") || "top"}`,
      { hint: "the file was not written by 'kmsenv kms-emulator', or by another version" },
    );
  }
  return parsed.data;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${crypto.randomUUID()}.kms-emulator.tmp`);
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      const bytes = new TextEncoder().encode(text);
      let offset = 0;
      while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
      await file.sync();
    } finally {
      file.close();
    }
    // The mode given to open is masked by the umask; make sure it is 0600 exactly.
    await Deno.chmod(temp, 0o600);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    const reason = err instanceof Deno.errors.NotFound
      ? "its directory does not exist"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (err as Error).message;
    throw new KmsenvError(`Cannot write emulator state ${path}: ${reason}`, { cause: err });
  }
}
