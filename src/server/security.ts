/**
 * The request gate of `kmsenv serve`: the Host check against DNS rebinding,
 * the refusal of browser preflights, and the constant-time bearer-token check.
 *
 * A browser page on evil.example can make the browser send requests to
 * 127.0.0.1 by rebinding its own name to that address; such requests carry
 * `Host: evil.example`. Accepting only loopback names in Host defeats it.
 * Without CORS headers a page can never read an answer either, and the token
 * is the real gate: nothing else on the machine knows it.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Reports whether a Host header value names the loopback interface:
 * `localhost`, `*.localhost`, `127.x.y.z` or `[::1]`, each with an optional port.
 */
export function isLoopbackHost(host: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return false;
  const name = m[1]!.toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (name === "[::1]" || name === "[0:0:0:0:0:0:0:1]") return true;
  return isLoopbackAddress(name);
}

/** Reports whether a bind address (no port) is a loopback address or name. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (a === "localhost" || a === "::1" || a === "0:0:0:0:0:0:0:1") return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  return v4 !== null && v4.slice(1).every((o) => Number(o) <= 255);
}

/**
 * Compares a presented token with the expected one in time that depends only
 * on the expected token's length (the length is public: always 43 characters
 * for a generated token).
 */
export function tokenMatches(presented: string, expected: Uint8Array): boolean {
  const got = encoder.encode(presented);
  let diff = got.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= (got[i] ?? 0) ^ expected[i]!;
  }
  return diff === 0;
}

/** Extracts the token from `Authorization: Bearer TOKEN` (scheme case-insensitive). */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer +([A-Za-z0-9._~+\/=-]+) *$/i.exec(header);
  return m?.[1];
}

/** Generates a token: 32 random bytes, base64url without padding (43 characters). */
export function generateToken(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/** The shortest token accepted from KMSENV_SERVE_TOKEN. */
export const MIN_TOKEN_LENGTH = 16;
