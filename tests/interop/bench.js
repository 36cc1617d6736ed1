// The Node side of `cargo bench --bench peer --features profitsharing` (benches/peer.rs): the same three jobs with the Node peer,
// npm `wechatpay-axios-plugin`, on the payloads the Rust side sends on stdin, with the same iteration
// counts and the same timing (one warm-up batch, then the median of several batches). Answers JSON:
// `{"peer": ..., "results": {"<job>": ops_per_second}}`.
'use strict';

const { Rsa, Aes: { AesGcm }, Formatter, Decorator } = require('wechatpay-axios-plugin');
const { AxiosHeaders } = require('axios');

/** Median ops/s of `batches` timed batches of `iterations` calls to `op`, after one warm-up batch. */
function measure(iterations, batches, op) {
  for (let i = 0; i < iterations; i += 1) op();
  const rates = [];
  for (let b = 0; b < batches; b += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i += 1) op();
    rates.push(iterations / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  rates.sort((x, y) => x - y);
  return rates[Math.floor(batches / 2)];
}

function check(condition, what) {
  if (!condition) throw new Error(`bench.js: ${what}`);
}

function run(input) {
  const { iterations, batches, keys } = input;
  const merchantKey = Rsa.from(`file://${keys.merchant_key}`, Rsa.KEY_TYPE_PRIVATE);
  const wechatpayKey = Rsa.from(`file://${keys.wechatpay_public_key}`, Rsa.KEY_TYPE_PUBLIC);
  const results = {};

  // (a) Request preparation: the JSAPI prepay payload as a fresh object, JSON.stringify, then what the
  // peer's request interceptor does (Formatter.nonce/timestamp/request, Rsa.sign, Formatter.authorization).
  const { mchid, serial } = input.request;
  const authorize = (path, body) => {
    const nonce = Formatter.nonce();
    const timestamp = Formatter.timestamp();
    const signature = Rsa.sign(Formatter.request('POST', path, timestamp, nonce, body), merchantKey);
    return Formatter.authorization(mchid, nonce, signature, timestamp, serial);
  };
  const { path, payload } = input.request;
  const fresh = () => ({ ...payload, amount: { ...payload.amount }, payer: { ...payload.payer } });
  const prepare = () => authorize(path, JSON.stringify(fresh()));
  check(prepare().startsWith('WECHATPAY2-SHA256-RSA2048 '), 'authorization');
  results.request = measure(iterations.request, batches, prepare);

  const message = input.request.message;
  check(Rsa.verify(message, Rsa.sign(message, merchantKey), Rsa.from(`file://${keys.merchant_public}`, Rsa.KEY_TYPE_PUBLIC)), 'sign');
  results.rsa_sign = measure(iterations.request, batches, () => Rsa.sign(message, merchantKey));

  // (a') The profit-sharing order: each receiver's name encrypted with Rsa.encrypt (OAEP) first.
  const sensitive = input.sensitive;
  const sealed = () => ({
    ...sensitive.payload,
    receivers: sensitive.payload.receivers.map((receiver) => ({ ...receiver, name: Rsa.encrypt(receiver.name, wechatpayKey) })),
  });
  const prepareSensitive = () => authorize(sensitive.path, JSON.stringify(sealed()));
  check(prepareSensitive().startsWith('WECHATPAY2-SHA256-RSA2048 '), 'authorization');
  results.sensitive = measure(iterations.request, batches, prepareSensitive);
  const names = sensitive.payload.receivers.map((receiver) => receiver.name);
  results.sensitive_crypto = measure(iterations.request, batches, () => {
    names.forEach((name) => Rsa.encrypt(name, wechatpayKey));
    return Rsa.sign(sensitive.message, merchantKey);
  });

  // (b) Response handling: the peer client's own response transform, its verifier then JSON.parse.
  const response = input.response;
  const verifier = Decorator.responseVerifier({ [response.headers['Wechatpay-Serial']]: wechatpayKey });
  const config = { url: response.path, validateStatus: (status) => status >= 200 && status < 300 };
  const headers = AxiosHeaders.from(response.headers);
  const handle = () => {
    const data = verifier.call(config, response.body, headers, 200);
    if (typeof data !== 'string') throw data;
    return JSON.parse(data);
  };
  check(handle().transaction_id === response.transaction_id, 'response');
  results.response = measure(iterations.response, batches, handle);
  // Reference: the bare verification of the same signed message.
  const responseMessage = Formatter.response(response.headers['Wechatpay-Timestamp'], response.headers['Wechatpay-Nonce'], response.body);
  check(Rsa.verify(responseMessage, response.headers['Wechatpay-Signature'], wechatpayKey), 'bare verify');
  results.rsa_verify = measure(iterations.response, batches,
    () => Rsa.verify(responseMessage, response.headers['Wechatpay-Signature'], wechatpayKey));

  // (c) Notifications: verify (300 s window, Rsa.verify over Formatter.response), JSON.parse the
  // envelope, AesGcm.decrypt the resource with the APIv3 key, JSON.parse the payload.
  const notification = input.notification;
  const open = () => {
    const h = notification.headers;
    const timestamp = h['Wechatpay-Timestamp'];
    if (Math.abs(Formatter.timestamp() - timestamp) > 300) throw new Error('stale');
    const signed = Formatter.response(timestamp, h['Wechatpay-Nonce'], notification.body);
    if (!Rsa.verify(signed, h['Wechatpay-Signature'], wechatpayKey)) throw new Error('bad signature');
    const { resource } = JSON.parse(notification.body);
    return JSON.parse(AesGcm.decrypt(resource.ciphertext, input.apiv3_key, resource.nonce, resource.associated_data));
  };
  check(open().transaction_id === response.transaction_id, 'notification');
  results.notification = measure(iterations.notification, batches, open);
  // Reference: the bare crypto, one verification and one AES-256-GCM decryption.
  const h = notification.headers;
  const notificationMessage = Formatter.response(h['Wechatpay-Timestamp'], h['Wechatpay-Nonce'], notification.body);
  const { resource } = JSON.parse(notification.body);
  results.verify_decrypt = measure(iterations.notification, batches, () => {
    if (!Rsa.verify(notificationMessage, h['Wechatpay-Signature'], wechatpayKey)) throw new Error('bad signature');
    return AesGcm.decrypt(resource.ciphertext, input.apiv3_key, resource.nonce, resource.associated_data);
  });

  return {
    peer: `wechatpay-axios-plugin ${require('wechatpay-axios-plugin/package.json').version}`,
    runtime: `node ${process.version}`,
    results,
  };
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(run(JSON.parse(Buffer.concat(chunks).toString('utf8')))));
});
