#!/usr/bin/env python3
"""An independent verifier of Fiducia's reputation credentials (eddsa-jcs-2022), written from the
W3C VC Data Integrity EdDSA specification with Python's rfc8785 and cryptography packages.

Reads a credential (JSON) on standard input; prints VALID and exits 0, or prints why not and exits 1.
"""
import hashlib
import json
import sys

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text):
    number = 0
    for character in text:
        number = number * 58 + ALPHABET.index(character)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + raw


def fail(reason):
    print("NOT VALID: " + reason)
    sys.exit(1)


def main():
    document = json.load(sys.stdin)
    proof = document.pop("proof", None)
    if not proof or proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != "eddsa-jcs-2022":
        fail("no eddsa-jcs-2022 proof")
    options = dict(proof)
    proof_value = options.pop("proofValue")
    if "@context" in options and document.get("@context", [])[: len(options["@context"])] != options["@context"]:
        fail("proof @context does not prefix the document's")
    method = options["verificationMethod"]
    if not method.startswith(document["issuer"]["id"] + "#"):
        fail("not signed by the issuer")
    key_bytes = b58decode(method.split("#")[0][len("did:key:z"):])
    if key_bytes[:2] != b"\xed\x01" or len(key_bytes) != 34:
        fail("not an Ed25519 did:key")
    if not proof_value.startswith("z"):
        fail("proof value is not base58btc multibase")
    hash_data = hashlib.sha256(rfc8785.dumps(options)).digest() + hashlib.sha256(rfc8785.dumps(document)).digest()
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes[2:]).verify(b58decode(proof_value[1:]), hash_data)
    except InvalidSignature:
        fail("signature does not match")
    print("VALID")


main()
