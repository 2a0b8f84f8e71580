/**
 * A small, real (AES-GCM, tamper-evident) `EnvelopeService` for testing the
 * HTTP layer without KMS: one fixed key, a toy segmented format, and CMK
 * names that make it fail the way KMS does (`alias/disabled` → Rejected.Disabled,
 * `alias/throttled` → Rejected.Throttling, `alias/down` → network error).
 * The real service is tested against the emulator in integration_test.ts.
 *
 * @module
 */

import { EnvelopeError } from "../../src/errors.ts";
import { type EncryptionContext, KmsApiError } from "../../src/kms/types.ts";
import type { CryptoStats } from "../../src/server/metrics.ts";
import type { DecryptParams, EncryptParams, EnvelopeService } from "../../src/server/service.ts";

const MAGIC = new TextEncoder().encode("FAKE1");
/** Plaintext bytes per segment: small, so tests can tamper with a later segment. */
export const FAKE_SEGMENT = 4096;

const key = await crypto.subtle.importKey(
  "raw",
  new Uint8Array(32).fill(7),
  "AES-GCM",
  false,
  ["encrypt", "decrypt"],
);

function nonce(i: number, last: boolean): Uint8Array<ArrayBuffer> {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(7, i);
  n[11] = last ? 1 : 0;
  return n;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function checkKeys(keys: string[]): void {
  for (const k of keys) {
    if (k === "alias/disabled") {
      throw new KmsApiError("Cannot use key alias/disabled: Rejected.Disabled", {
        code: "Rejected.Disabled",
        status: 409,
        action: "GenerateDataKey",
        region: "cn-hangzhou",
      });
    }
    if (k === "alias/throttled") {
      throw new KmsApiError("KMS throttled GenerateDataKey", {
        code: "Rejected.Throttling",
        status: 429,
        action: "GenerateDataKey",
        region: "cn-hangzhou",
        attempts: 4,
      });
    }
    if (k === "alias/down") {
      throw new KmsApiError("Cannot reach KMS", {
        code: "NetworkError",
        status: 0,
        action: "GenerateDataKey",
        region: "cn-hangzhou",
      });
    }
  }
}

/** The fake service; `calls` counts "KMS" calls (one per encrypt, cached per key set). */
export class FakeService implements EnvelopeService {
  kmsCalls = 0;
  hits = 0;
  #seen = new Set<string>();

  async #seal(plaintext: Uint8Array, params: EncryptParams): Promise<Uint8Array> {
    checkKeys(params.keys);
    const id = params.keys.join(",");
    if (this.#seen.has(id)) this.hits++;
    else {
      this.#seen.add(id);
      this.kmsCalls++;
    }
    const ctx = new TextEncoder().encode(JSON.stringify(params.context));
    const parts: Uint8Array[] = [MAGIC, new Uint8Array([ctx.length >> 8, ctx.length & 255]), ctx];
    const count = Math.max(1, Math.ceil(plaintext.length / FAKE_SEGMENT));
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      const seg = plaintext.subarray(i * FAKE_SEGMENT, (i + 1) * FAKE_SEGMENT);
      const ct = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-GCM", iv: nonce(i, last), additionalData: ctx },
          key,
          seg.slice(),
        ),
      );
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, ct.length);
      parts.push(len, ct);
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Yields plaintext segments; throws EnvelopeError on the first bad one. */
  async *#open(
    data: Uint8Array,
    params: DecryptParams,
  ): AsyncGenerator<Uint8Array, EncryptionContext> {
    if (data.length < 7 || MAGIC.some((b, i) => data[i] !== b)) {
      throw new EnvelopeError("Cannot decrypt: not a kmsenv message");
    }
    const ctxLen = (data[5]! << 8) | data[6]!;
    const ctxBytes = data.subarray(7, 7 + ctxLen);
    let context: EncryptionContext;
    try {
      context = JSON.parse(new TextDecoder().decode(ctxBytes));
    } catch {
      throw new EnvelopeError("Cannot decrypt: bad header");
    }
    if (params.context && JSON.stringify(params.context) !== JSON.stringify(context)) {
      throw new EnvelopeError("Cannot decrypt: the encryption context does not match");
    }
    let o = 7 + ctxLen;
    for (let i = 0;; i++) {
      if (o + 4 > data.length) throw new EnvelopeError("Cannot decrypt: truncated message");
      const len = new DataView(data.buffer, data.byteOffset + o).getUint32(0);
      const ct = data.slice(o + 4, o + 4 + len);
      o += 4 + len;
      const last = o >= data.length;
      try {
        yield new Uint8Array(
          await crypto.subtle.decrypt(
            { name: "AES-GCM", iv: nonce(i, last), additionalData: ctxBytes.slice() },
            key,
            ct,
          ),
        );
      } catch {
        throw new EnvelopeError(`Cannot decrypt: segment ${i} failed authentication`);
      }
      if (last) return context;
    }
  }

  encrypt(plaintext: ReadableStream<Uint8Array>, params: EncryptParams) {
    const promise = collect(plaintext).then((p) => this.#seal(p, params));
    return new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          controller.enqueue(await promise);
          controller.close();
        } catch (err) {
          controller.error(err);
        }
      },
    });
  }

  decrypt(ciphertext: ReadableStream<Uint8Array>, params: DecryptParams) {
    let it: AsyncGenerator<Uint8Array, EncryptionContext> | undefined;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        it ??= this.#open(await collect(ciphertext), params);
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
    });
  }

  encryptBytes(plaintext: Uint8Array, params: EncryptParams) {
    return this.#seal(plaintext, params);
  }

  async decryptBytes(ciphertext: Uint8Array, params: DecryptParams) {
    const parts: Uint8Array[] = [];
    const it = this.#open(ciphertext, params);
    for (;;) {
      const r = await it.next();
      if (r.done) {
        const plaintext = new Uint8Array(
          await new Blob(parts as Uint8Array<ArrayBuffer>[]).arrayBuffer(),
        );
        return { plaintext, context: r.value };
      }
      parts.push(r.value);
    }
  }

  stats(): CryptoStats {
    return {
      kmsCalls: { GenerateDataKey: this.kmsCalls },
      cacheHits: { data_key: this.hits },
      cacheMisses: { data_key: this.kmsCalls },
    };
  }
}
