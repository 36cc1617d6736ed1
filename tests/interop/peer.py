"""Interop driver for the Python peer, PyPI `wechatpayv3` (see tests/interop.rs).

Reads one JSON request {"op": "...", ...} on stdin, answers one JSON object on stdout. Every
operation is done by the peer's own functions (wechatpayv3.utils and wechatpayv3.core.Core); this
file only moves data. Keys are passed as paths to PEM files. Exit 77: the peer is not installed.
"""
import json
import os
import re
import sys
import time
import uuid

try:
    from wechatpayv3 import __version__ as peer_version
    from wechatpayv3 import utils
    from wechatpayv3.core import Core
    from wechatpayv3.type import RequestType
except ImportError as error:
    print(f"wechatpayv3 not importable (PYTHONPATH={os.environ.get('PYTHONPATH')}): {error}", file=sys.stderr)
    sys.exit(77)


def read(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def private_key(path):
    return utils.load_private_key(read(path))


def public_key(path):
    return utils.load_public_key(read(path))


def core(config):
    """The peer's client, configured with a WeChat Pay public key (so it never downloads certificates)."""
    return Core(
        mchid=config["mchid"],
        cert_serial_no=config["serial"],
        private_key=read(config["private_key"]),
        apiv3_key=config["apiv3_key"],
        public_key=read(config["public_key"]),
        public_key_id=config["public_key_id"],
    )


def verify_request(method, uri, timestamp, nonce, body, signature, key):
    # The peer verifies only `TS\nNONCE\nBODY\n` (utils.rsa_verify); joining the request's first three
    # lines into its first argument makes that exactly `METHOD\nURI\nTS\nNONCE\nBODY\n`.
    return utils.rsa_verify(f"{method}\n{uri}\n{timestamp}", nonce, body, signature, key)


def parse_authorization(header):
    # The peer has no parser for `Authorization` (it only writes it in utils.build_authorization).
    scheme = "WECHATPAY2-SHA256-RSA2048 "
    if not header.startswith(scheme):
        raise ValueError(f"unexpected scheme in {header}")
    return dict(re.findall(r'(\w+)="([^"]*)"', header[len(scheme):]))


def verify_authorization(r):
    params = parse_authorization(r["authorization"])
    valid = verify_request(r["method"], r["uri"], params["timestamp"], params["nonce_str"], r["body"],
                           params["signature"], public_key(r["public_key"]))
    return {"params": params, "valid": valid}


def sign_response(r):
    # Timestamp and nonce made as utils.build_authorization makes them.
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex.upper()
    # The peer only verifies responses (utils.rsa_verify builds `TS\nNONCE\nBODY\n`); it signs with
    # utils.rsa_sign, and its own Core._verify_signature must accept the result.
    signature = utils.rsa_sign(private_key(r["private_key"]), f"{timestamp}\n{nonce}\n{r['body']}\n")
    headers = {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": r["serial"],
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    if not core(r["config"])._verify_signature(headers, r["body"]):
        raise AssertionError("the peer rejects its own signature")
    return {"headers": headers}


def callback(r):
    result = core(r["config"]).callback(r["headers"], r["body"])
    return {"accepted": result is not None, "notification": result}


def call(r):
    # A request to a live server (the sandbox) through the peer's own client: signed by it, its
    # answer verified by it with the WeChat Pay public key (a bad signature raises).
    peer = core(r["config"])
    peer._gate_way = r["base_url"].rstrip("/")
    status, body = peer.request(r["path"], method=RequestType[r["method"]], data=r.get("body"))
    return {"status": status, "body": json.loads(body) if isinstance(body, str) and body else body}


OPS = {
    "version": lambda r: {"peer": "wechatpayv3", "version": peer_version, "runtime": f"python {sys.version.split()[0]}"},
    "sign": lambda r: {"signature": utils.rsa_sign(private_key(r["private_key"]), r["message"])},
    # paySign of JSAPI / APP payments: the peer's Core.sign with a list of lines.
    "pay_sign": lambda r: {"signature": core(r["config"]).sign(r["lines"])},
    "verify_request": lambda r: {
        "valid": verify_request(r["method"], r["uri"], r["timestamp"], r["nonce"], r["body"], r["signature"],
                                public_key(r["public_key"])),
    },
    "verify_authorization": verify_authorization,
    "sign_response": sign_response,
    "callback": callback,
    "call": call,
    "rsa_encrypt": lambda r: {"ciphertext": utils.rsa_encrypt(r["plaintext"], public_key(r["public_key"]))},
    "rsa_decrypt": lambda r: {"plaintext": utils.rsa_decrypt(r["ciphertext"], private_key(r["private_key"]))},
    "merchant_decrypt": lambda r: {"plaintext": core(r["config"]).decrypt(r["ciphertext"])},
    "aes_decrypt": lambda r: {
        "plaintext": utils.aes_decrypt(r["nonce"], r["ciphertext"], r["associated_data"], r["key"]),
    },
}

if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump(OPS[request["op"]](request), sys.stdout, ensure_ascii=False)
