#!/usr/bin/python3
"""Independent implementation of the kmsenv v1 format (docs/FORMAT.md) that
writes the test vectors in tests/testdata/format_vectors.json.

It shares no code with src/envelope/: HKDF is written out from RFC 5869 with
hmac/hashlib, AES-GCM comes from PyCryptodome (Debian's python3-pycryptodome,
module `Cryptodome`), and the canonical JSON is built from the spec's rules.
The TypeScript tests check that src/envelope reproduces every byte.

Run: /usr/bin/python3 scripts/format_vectors.py > tests/testdata/format_vectors.json
"""

import hashlib
import hmac
import json
import struct
import sys

from Cryptodome.Cipher import AES

MAGIC = b"KMSENV\x00" + bytes([1])
SUITE = "AES256GCM-HKDF-SHA256"
PAYLOAD_LABEL = b"kmsenv/v1 payload key"
COMMIT_LABEL = b"kmsenv/v1 key commitment"


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()  # RFC 5869 extract
    okm, t, i = b"", b"", 1
    while len(okm) < length:  # RFC 5869 expand
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    return okm[:length]


def jstr(s: str) -> str:
    # FORMAT.md §3.2: escape only '"', '\\' and U+0000..U+001F (short forms for
    # \b \t \n \f \r, else \u00xx lowercase); everything else literal UTF-8.
    out = ['"']
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
             "\r": "\\r"}
    for ch in s:
        if ch in short:
            out.append(short[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def b64(b: bytes) -> str:
    import base64
    return base64.b64encode(b).decode()


def context_json(ctx: dict) -> str:
    keys = sorted(ctx, key=lambda k: k.encode("utf-8"))  # code point order
    return "{" + ",".join(jstr(k) + ":" + jstr(ctx[k]) for k in keys) + "}"


def bound_json(seg: int, salt: bytes, prefix: bytes, ctx: dict) -> str:
    return ('{"suite":' + jstr(SUITE) + ',"segmentSize":' + str(seg) + ',"salt":' + jstr(b64(salt))
            + ',"noncePrefix":' + jstr(b64(prefix)) + ',"context":' + context_json(ctx) + "}")


def slot_json(s: dict) -> str:
    return ('{"region":' + jstr(s["region"]) + ',"keyId":' + jstr(s["keyId"]) + ',"keyVersionId":'
            + jstr(s["keyVersionId"]) + ',"ciphertextBlob":' + jstr(s["ciphertextBlob"]) + "}")


def encrypt(data_key, salt, prefix, ctx, slots, seg, plaintext):
    bound = bound_json(seg, salt, prefix, ctx)
    digest = hashlib.sha256(MAGIC + bound.encode()).digest()
    payload_key = hkdf_sha256(data_key, salt, PAYLOAD_LABEL + digest, 32)
    commitment = hkdf_sha256(data_key, salt, COMMIT_LABEL + digest, 32)
    body = (bound[:-1] + ',"commitment":' + jstr(b64(commitment)) + ',"slots":['
            + ",".join(slot_json(s) for s in slots) + "]}").encode()
    header = MAGIC + struct.pack(">I", len(body)) + body
    n = max(1, -(-len(plaintext) // seg))
    out = [header]
    for i in range(n):
        last = i == n - 1
        nonce = prefix + struct.pack(">I", i) + bytes([1 if last else 0])
        c = AES.new(payload_key, AES.MODE_GCM, nonce=nonce, mac_len=16)
        ct, tag = c.encrypt_and_digest(plaintext[i * seg:(i + 1) * seg])
        out.append(ct + tag)
    return {
        "boundDigest": digest.hex(),
        "payloadKey": payload_key.hex(),
        "commitment": commitment.hex(),
        "header": header.hex(),
        "ciphertext": b"".join(out),
    }


def pattern(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


def main():
    seg = 4096
    key32 = bytes(range(32))
    key16 = bytes(range(0xf0, 0x100))
    salt = bytes(range(0x40, 0x60))
    prefix = bytes(range(0xa0, 0xa7))
    ctx = {"purpose": "test vectors", "app": "kmsenv", "10": "ten", "2": "two",
           "名字": 'value "quoted"\n\ttab', "\U0001F511": "key", "\uFF5E": "fullwidth"}
    slots = [
        {"region": "cn-hangzhou", "keyId": "key-hzz62f1cb66fa42qo0001",
         "keyVersionId": "2ab1a983-7072-4bbc-a582-584b5bd8b001",
         "ciphertextBlob": b64(bytes(range(48)))},
        {"region": "cn-shanghai", "keyId": "acs:kms:cn-shanghai:1234567890:key/key-shh0002",
         "keyVersionId": "", "ciphertextBlob": b64(bytes(range(100, 160)))},
    ]
    cases = [
        ("empty", key32, ctx, 0),
        ("one byte", key32, ctx, 1),
        ("one segment minus one", key32, ctx, seg - 1),
        ("exactly one segment", key32, ctx, seg),
        ("one segment plus one byte", key32, ctx, seg + 1),
        ("several segments", key32, ctx, 3 * seg + 500),
        ("16-byte data key, empty context", key16, {}, 2 * seg),
    ]
    vectors = []
    for name, key, c, n in cases:
        pt = pattern(n)
        r = encrypt(key, salt, prefix, c, slots, seg, pt)
        ct = r.pop("ciphertext")
        vectors.append({
            "name": name,
            "dataKey": key.hex(),
            "salt": salt.hex(),
            "noncePrefix": prefix.hex(),
            "segmentSize": seg,
            "context": c,
            "slots": slots,
            "plaintextLength": n,
            "plaintextSha256": hashlib.sha256(pt).hexdigest(),
            **r,
            "ciphertextLength": len(ct),
            "ciphertextSha256": hashlib.sha256(ct).hexdigest(),
            "ciphertext": ct.hex(),
        })
    doc = {
        "description": "kmsenv v1 format test vectors (docs/FORMAT.md §9). Plaintext byte i is"
                       " i mod 251. Generated by scripts/format_vectors.py (Python, PyCryptodome),"
                       " independent of src/envelope.",
        "vectors": vectors,
    }
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
