"""Interop driver for national cryptography in Python (see tests/interop.rs, "Guomi"): PyPI `gmssl`
(SM2 signatures, SM3) and `cryptography` (SM4-GCM, OpenSSL's).

Reads one JSON request {"op": "...", ...} on stdin, answers one JSON object on stdout. Every
operation is done by the peers' own functions; this file only moves data. Keys are hex: the private
scalar, the public point x‖y. Messages are UTF-8 text, binary values hex. Exit 77: not installed.
"""
import json
import os
import sys

try:
    from gmssl import sm2, sm3, func
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from importlib.metadata import version
except ImportError as error:
    print(f"gmssl not importable (PYTHONPATH={os.environ.get('PYTHONPATH')}): {error}", file=sys.stderr)
    sys.exit(77)


def crypt(r):
    # asn1=True: DER signatures (RS_ASN1), as WeChat Pay writes them; sign_with_sm3 uses the
    # standard signer id 1234567812345678.
    return sm2.CryptSM2(private_key=r.get("private_key", ""), public_key=r.get("public_key", ""), asn1=True)


def sm4_gcm_seal(r):
    encryptor = Cipher(algorithms.SM4(bytes.fromhex(r["key"])), modes.GCM(r["nonce"].encode())).encryptor()
    encryptor.authenticate_additional_data(r["associated_data"].encode())
    sealed = encryptor.update(bytes.fromhex(r["plaintext"])) + encryptor.finalize() + encryptor.tag
    return {"sealed": sealed.hex()}


def sm4_gcm_open(r):
    sealed = bytes.fromhex(r["sealed"])
    decryptor = Cipher(algorithms.SM4(bytes.fromhex(r["key"])), modes.GCM(r["nonce"].encode(), sealed[-16:])).decryptor()
    decryptor.authenticate_additional_data(r["associated_data"].encode())
    try:
        return {"plaintext": (decryptor.update(sealed[:-16]) + decryptor.finalize()).hex()}
    except Exception as error:  # the peer's InvalidTag
        return {"error": type(error).__name__}


OPS = {
    "version": lambda r: {"peer": "gmssl", "version": version("gmssl"), "runtime": f"python {sys.version.split()[0]}"},
    "sm2_sign": lambda r: {"signature": crypt(r).sign_with_sm3(r["message"].encode())},
    "sm2_verify": lambda r: {"valid": bool(crypt(r).verify_with_sm3(r["signature"], r["message"].encode()))},
    "sm3": lambda r: {"digest": sm3.sm3_hash(func.bytes_to_list(r["message"].encode()))},
    "sm4_gcm_seal": sm4_gcm_seal,
    "sm4_gcm_open": sm4_gcm_open,
}

if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump(OPS[request["op"]](request), sys.stdout, ensure_ascii=False)
