// Interop driver for national cryptography in Node: npm `sm-crypto` (see tests/interop.rs, "Guomi").
//
// Reads one JSON request `{"op": "...", ...}` on stdin, answers one JSON object on stdout. Every
// operation is done by the peer's own functions (sm2.doSignature, sm2.doVerifySignature, sm3); this
// file only moves data. Keys are hex: the private scalar, the public point `04‖x‖y`. Messages are
// UTF-8 text. Exit 77: the peer is not installed (the test skips).
'use strict';

let peer;
try {
  peer = require('sm-crypto');
} catch (error) {
  process.stderr.write(`sm-crypto not importable (NODE_PATH=${process.env.NODE_PATH}): ${error.message}\n`);
  process.exit(77);
}
const { sm2, sm3 } = peer;

// WeChat Pay signs with the standard signer id and DER-encoded signatures (RS_ASN1).
const options = { der: true, hash: true, userId: '1234567812345678' };

const ops = {
  version: () => ({ peer: 'sm-crypto', version: require('sm-crypto/package.json').version, runtime: `node ${process.version}` }),
  sm2_sign: (r) => ({ signature: sm2.doSignature(r.message, r.private_key, options) }),
  sm2_verify: (r) => ({ valid: sm2.doVerifySignature(r.message, r.signature, r.public_key, options) }),
  sm3: (r) => ({ digest: sm3(r.message) }),
};

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const op = ops[request.op];
  if (!op) throw new Error(`unknown op ${request.op}`);
  process.stdout.write(JSON.stringify(op(request)));
});
