/** The pure pieces of the request gate and the concurrency limit. */

import assert from "node:assert/strict";
import {
  bearerToken,
  generateToken,
  isLoopbackAddress,
  isLoopbackHost,
  tokenMatches,
} from "../../src/server/security.ts";
import { Semaphore } from "../../src/server/semaphore.ts";

Deno.test("isLoopbackHost() accepts loopback names with optional ports and nothing else", () => {
  const yes = [
    "localhost",
    "LOCALHOST:8787",
    "app.localhost",
    "127.0.0.1",
    "127.0.0.1:1",
    "127.255.0.9:65535",
    "[::1]",
    "[::1]:8787",
  ];
  const no = [
    "",
    "evil.example",
    "localhost.evil.example",
    "127.0.0.1.nip.io",
    "127.0.0.256",
    "128.0.0.1",
    "0.0.0.0",
    "10.0.0.1:8787",
    "[::2]",
    "::1",
    "localhost:80:80",
    "user@localhost",
  ];
  for (const h of yes) assert.ok(isLoopbackHost(h), h);
  for (const h of no) assert.ok(!isLoopbackHost(h), h);
});

Deno.test("isLoopbackAddress() accepts loopback bind addresses only", () => {
  for (const a of ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost"]) {
    assert.ok(isLoopbackAddress(a), a);
  }
  for (const a of ["0.0.0.0", "::", "192.168.0.1", "127.0.0.1.example", "1.127.0.0"]) {
    assert.ok(!isLoopbackAddress(a), a);
  }
});

Deno.test("tokenMatches() and bearerToken() accept exactly the token", () => {
  const expected = new TextEncoder().encode("abcdefghijklmnop");
  assert.ok(tokenMatches("abcdefghijklmnop", expected));
  for (const t of ["", "abcdefghijklmno", "abcdefghijklmnopq", "abcdefghijklmnoP"]) {
    assert.ok(!tokenMatches(t, expected), t);
  }
  assert.equal(bearerToken("Bearer abc.DEF_-~+/="), "abc.DEF_-~+/=");
  assert.equal(bearerToken("bearer   tok "), "tok");
  assert.equal(bearerToken("Basic tok"), undefined);
  assert.equal(bearerToken("Bearer a b"), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

Deno.test("generateToken() returns 43 base64url characters, different each time", () => {
  const a = generateToken();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, generateToken());
});

Deno.test("Semaphore hands slots over in order and refuses beyond the queue", async () => {
  const s = new Semaphore({ limit: 1, queue: 1 });
  const first = s.acquire();
  assert.equal(typeof first, "function");
  const second = s.acquire();
  assert.ok(second instanceof Promise);
  assert.equal(s.acquire(), null);
  (first as () => void)();
  (first as () => void)(); // idempotent: must not free a second slot
  const release2 = await second;
  assert.equal(s.active, 1);
  assert.equal(s.waiting, 0);
  release2!();
  assert.equal(s.active, 0);
  assert.throws(() => new Semaphore({ limit: 0, queue: 0 }), RangeError);
});
