import assert from "node:assert/strict";
import { canonicalQuery, popEncode, signRpc, stringToSign } from "../../src/kms/sign.ts";

interface Vector {
  name: string;
  method: string;
  secret: string;
  params: Record<string, string>;
  canonical?: string;
  stringToSign?: string;
  signature: string;
}

const { vectors } = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/rpc_signatures.json", import.meta.url)),
) as { vectors: Vector[] };

Deno.test("signRpc() reproduces every vector in testdata/rpc_signatures.json", async (t) => {
  assert.ok(vectors.length >= 9);
  for (const v of vectors) {
    await t.step(v.name, async () => {
      if (v.canonical) assert.equal(canonicalQuery(v.params), v.canonical);
      if (v.stringToSign) assert.equal(stringToSign(v.method, v.params), v.stringToSign);
      assert.equal(await signRpc(v.method, v.params, v.secret), v.signature);
    });
  }
});

Deno.test("signRpc() ignores a Signature parameter already present", async () => {
  const v = vectors[0]!;
  const withSig = { ...v.params, Signature: "bogus" };
  assert.equal(await signRpc(v.method, withSig, v.secret), v.signature);
});

Deno.test("popEncode() follows the POP percent-encoding table", () => {
  const rows: [string, string][] = [
    ["a b", "a%20b"],
    ["*", "%2A"],
    ["~", "~"],
    ["!'()", "%21%27%28%29"],
    ["/", "%2F"],
    ["+", "%2B"],
    ["=", "%3D"],
    ["中", "%E4%B8%AD"],
    ['{"k":"v"}', "%7B%22k%22%3A%22v%22%7D"],
    ["AZaz09-_.", "AZaz09-_."],
  ];
  for (const [input, expected] of rows) assert.equal(popEncode(input), expected, input);
});
