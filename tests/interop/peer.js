// Interop driver for the Node peer, npm `wechatpay-axios-plugin` (see tests/interop.rs).
//
// Reads one JSON request `{"op": "...", ...}` on stdin, answers one JSON object on stdout. Every
// operation is done by the peer's own functions (Rsa, AesGcm, Formatter); this file only moves data.
// Keys are passed as paths to PEM files. Exit 77: the peer is not installed (the test skips).
'use strict';

let peer;
try {
  peer = require('wechatpay-axios-plugin');
} catch (error) {
  process.stderr.write(`wechatpay-axios-plugin not importable (NODE_PATH=${process.env.NODE_PATH}): ${error.message}\n`);
  process.exit(77);
}
const { Rsa, Aes: { AesGcm, AesEcb }, Formatter, Hash, Transformer, Wechatpay } = peer;

const privateKey = (path) => Rsa.from(`file://${path}`, Rsa.KEY_TYPE_PRIVATE);
const publicKey = (path) => Rsa.from(`file://${path}`, Rsa.KEY_TYPE_PUBLIC);

// The peer has no parser for `Authorization` (it only writes it with Formatter.authorization).
function parseAuthorization(header) {
  const scheme = 'WECHATPAY2-SHA256-RSA2048 ';
  if (!header.startsWith(scheme)) throw new Error(`unexpected scheme in ${header}`);
  return Object.fromEntries([...header.slice(scheme.length).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

// What WeChat Pay sends with a response or notification, signed as the peer verifies it.
function signedHeaders(body, key, serial) {
  const timestamp = Formatter.timestamp();
  const nonce = Formatter.nonce();
  return {
    'Wechatpay-Timestamp': `${timestamp}`,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Signature': Rsa.sign(Formatter.response(timestamp, nonce, body), key),
    'Wechatpay-Serial': serial,
    'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
  };
}

const ops = {
  version: () => ({ peer: 'wechatpay-axios-plugin', version: require('wechatpay-axios-plugin/package.json').version, runtime: `node ${process.version}` }),

  sign: (r) => ({ signature: Rsa.sign(r.message, privateKey(r.private_key)) }),

  // paySign of JSAPI / APP payments, as the peer's README shows it.
  pay_sign: (r) => ({ signature: Rsa.sign(Formatter.joinedByLineFeed(...r.lines), privateKey(r.private_key)) }),

  verify_request: (r) => ({
    valid: Rsa.verify(Formatter.request(r.method, r.uri, r.timestamp, r.nonce, r.body), r.signature, publicKey(r.public_key)),
  }),

  verify_authorization: (r) => {
    const params = parseAuthorization(r.authorization);
    const message = Formatter.request(r.method, r.uri, params.timestamp, params.nonce_str, r.body);
    return { params, valid: Rsa.verify(message, params.signature, publicKey(r.public_key)) };
  },

  sign_response: (r) => ({ headers: signedHeaders(r.body, privateKey(r.private_key), r.serial) }),

  notification: (r) => {
    const nonce = Formatter.nonce(12);
    const body = JSON.stringify({
      id: 'EV-2018022511223320873',
      create_time: '2015-05-20T13:29:35+08:00',
      resource_type: 'encrypt-resource',
      event_type: r.event_type,
      summary: '支付成功',
      resource: {
        original_type: 'transaction',
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: AesGcm.encrypt(r.payload, r.apiv3_key, nonce, r.associated_data),
        associated_data: r.associated_data,
        nonce,
      },
    });
    return { body, headers: signedHeaders(body, privateKey(r.private_key), r.serial) };
  },

  rsa_encrypt: (r) => ({ ciphertext: Rsa.encrypt(r.plaintext, publicKey(r.public_key)) }),
  rsa_decrypt: (r) => ({ plaintext: Rsa.decrypt(r.ciphertext, privateKey(r.private_key)) }),
  aes_encrypt: (r) => ({ ciphertext: AesGcm.encrypt(r.plaintext, r.key, r.nonce, r.associated_data) }),
  aes_decrypt: (r) => ({ plaintext: AesGcm.decrypt(r.ciphertext, r.key, r.nonce, r.associated_data) }),

  // APIv2: the peer's own signature of members (Hash.sign: MD5 or HMAC-SHA256 with the APIv2 key),
  // its check of a signed XML document (Transformer.toObject, then Hash.sign and Hash.equals), its
  // XML writer (Transformer.toXml), and the AES-256-ECB of a refund notification's req_info
  // (AesEcb, keyed with Hash.md5 of the APIv2 key).
  v2_sign: (r) => ({ sign: Hash.sign(r.sign_type, r.members, r.key) }),
  v2_verify_xml: (r) => {
    const members = Transformer.toObject(r.xml);
    const expected = Hash.sign(r.sign_type, members, r.key);
    return { members, valid: Hash.equals(expected, members.sign) };
  },
  v2_to_xml: (r) => {
    const members = { ...r.members };
    members.sign = Hash.sign(r.sign_type, members, r.key);
    return { xml: Transformer.toXml(members) };
  },
  v2_seal_req_info: (r) => ({ req_info: AesEcb.encrypt(r.plaintext, Hash.md5(r.key)) }),
  v2_open_req_info: (r) => ({ plaintext: AesEcb.decrypt(r.req_info, Hash.md5(r.key)) }),

  // A request to a live server (the sandbox) through the peer's own client: signed by it, its
  // answer verified by it with the WeChat Pay public key (a bad signature throws).
  call: async (r) => {
    const wxpay = new Wechatpay({
      mchid: r.mchid,
      serial: r.serial,
      privateKey: privateKey(r.private_key),
      certs: { [r.public_key_id]: publicKey(r.public_key) },
      baseURL: r.base_url,
    });
    try {
      const answer = await wxpay.client.request(r.path, r.method.toLowerCase(), r.body);
      return { status: answer.status, body: answer.data };
    } catch (error) {
      if (error.response) return { status: error.response.status, body: error.response.data };
      throw error;
    }
  },
};

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const op = ops[request.op];
  if (!op) throw new Error(`unknown op ${request.op}`);
  Promise.resolve(op(request)).then(
    (answer) => process.stdout.write(JSON.stringify(answer)),
    (error) => { process.stderr.write(`${error.stack || error}\n`); process.exit(1); },
  );
});
