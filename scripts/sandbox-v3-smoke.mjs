#!/usr/bin/env node
// A WeChat Pay API v3 client in ~80 lines of plain Node (node:crypto and fetch, nothing from this
// repository): it takes the sandbox merchant's keys from GET /sandbox/sim/keys, places a Native order,
// queries it and closes it, and verifies every answer's Wechatpay-Signature with the WeChat Pay
// public key. What any SDK does; run it to check a sandbox is reachable the way an SDK needs:
//   node scripts/sandbox-v3-smoke.mjs http://localhost:3000 [mch_id]
// With an mch_id it acts as that merchant (GET /sandbox/sim/keys?mch_id=), else as the checkout's own.
import { createSign, createVerify, randomBytes } from 'node:crypto';

const origin = (process.argv[2] ?? 'http://localhost:3000').replace(/\/+$/, '');
const keys = await (await fetch(`${origin}/sandbox/sim/keys${process.argv[3] ? `?mch_id=${encodeURIComponent(process.argv[3])}` : ''}`)).json();
const base = new URL(keys.base_url.replace(/^https?:\/\/[^/]+/, origin));

function authorization(method, path, body) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const signature = createSign('RSA-SHA256').update(`${method}\n${path}\n${timestamp}\n${nonce}\n${body}\n`).sign(keys.private_key_pem, 'base64');
  return `WECHATPAY2-SHA256-RSA2048 mchid="${keys.mchid}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${keys.serial_no}"`;
}

function verify(res, body) {
  const h = (n) => res.headers.get(n);
  if (h('wechatpay-serial') !== keys.wechatpay_public_key_id) throw new Error(`answer signed by ${h('wechatpay-serial')}, not ${keys.wechatpay_public_key_id}`);
  if (Math.abs(Date.now() / 1000 - Number(h('wechatpay-timestamp'))) > 300) throw new Error('stale Wechatpay-Timestamp');
  const ok = createVerify('RSA-SHA256').update(`${h('wechatpay-timestamp')}\n${h('wechatpay-nonce')}\n${body}\n`).verify(keys.wechatpay_public_key_pem, h('wechatpay-signature') ?? '', 'base64');
  if (!ok) throw new Error('Wechatpay-Signature does not verify');
}

async function call(method, path, payload) {
  const full = base.pathname.replace(/\/+$/, '') + path;
  const body = payload === undefined ? '' : JSON.stringify(payload);
  const res = await fetch(origin + full, {
    method,
    headers: { accept: 'application/json', 'content-type': 'application/json', authorization: authorization(method, full, body) },
    body: payload === undefined ? undefined : body,
  });
  const text = await res.text();
  verify(res, text);
  console.log(`${method} ${path} -> ${res.status} ${text.slice(0, 160)} (signature verified)`);
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const outTradeNo = `SMOKE${Date.now()}${randomBytes(2).toString('hex')}`;
const placed = await call('POST', '/v3/pay/transactions/native', {
  appid: keys.appid, mchid: keys.mchid, description: 'v3 smoke', out_trade_no: outTradeNo,
  notify_url: `${origin}/api/wechatpay/notify`, amount: { total: 1, currency: 'CNY' },
});
if (placed.status !== 200 || !placed.json.code_url) throw new Error('no code_url');
const q = await call('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${keys.mchid}`);
if (q.json.trade_state !== 'NOTPAY') throw new Error(`trade_state ${q.json.trade_state}`);
const closed = await call('POST', `/v3/pay/transactions/out-trade-no/${outTradeNo}/close`, { mchid: keys.mchid });
if (closed.status !== 204) throw new Error(`close answered ${closed.status}`);
const after = await call('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${keys.mchid}`);
if (after.json.trade_state !== 'CLOSED') throw new Error(`trade_state ${after.json.trade_state} after close`);
console.log(`OK ${outTradeNo}`);
