"""Schemathesis hooks for scripts/api-contract.sh: what a fuzzer cannot make up, for cases meant
to be valid (cases meant to be invalid keep what was generated).

- A real client sends a fresh Idempotency-Key with every new request; the fuzzer draws keys from
  the declared pattern and so reuses a few short ones for different bodies, which the server
  rightly refuses (422 idempotency-key-reused). The key is replaced by a fresh one.
- Uploads (attachments, identity documents) are judged by their bytes: random bytes are not a
  photo, and the server says so. The body is replaced by a real one-pixel PNG.
"""

import re
import struct
import uuid
import zlib

import schemathesis
from schemathesis.generation import GenerationMode

KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
UPLOADS = re.compile(r"^/(attachments|verifications/[^/]+/document)$")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")


PNG = _png()


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    if meta is not None and meta.generation.mode != GenerationMode.POSITIVE:
        return
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and KEY.match(str(headers[name])):
            headers[name] = f"st-{uuid.uuid4()}"
    if case.method.upper() == "POST" and UPLOADS.match(case.operation.path):
        case.body = PNG
