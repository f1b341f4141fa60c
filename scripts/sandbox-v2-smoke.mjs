#!/usr/bin/env node
// A WeChat Pay v2 merchant in ~90 lines of plain Node (node:crypto, node:http and fetch, nothing from
// this repository): it signs a Native unifiedorder for one merchant, has the sandbox's buyer pay the
// code_url, receives WeChat's payment notify on a local port, checks its signature with the same key,
// acknowledges it, and confirms with orderquery. What any v2 SDK does; run it against a sandbox:
//   node scripts/sandbox-v2-smoke.mjs http://localhost:3100 <mch_id> <appid> <api_key> [MD5|HMAC-SHA256]
// Without a merchant it uses the first one GET /sandbox/sim/merchants lists.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const origin = (process.argv[2] ?? 'http://localhost:3100').replace(/\/+$/, '');
let [mchId, appId, apiKey, signType = 'MD5'] = process.argv.slice(3);
if (!mchId) ({ mch_id: mchId, appid: appId, api_key: apiKey, sign_type: signType } = (await (await fetch(`${origin}/sandbox/sim/merchants`)).json()).merchants[0]);
const base = process.env.MCH_BASE_URL ?? `${origin}/sandbox/mch`;

// WeChat's v2 signature: non-empty fields but sign, sorted by name, k=v&...&key=KEY, MD5 or HMAC-SHA256, upper-case hex.
function sign(fields, type = signType) {
  const s = `${Object.keys(fields).filter((k) => k !== 'sign' && fields[k] !== '' && fields[k] !== undefined).sort().map((k) => `${k}=${fields[k]}`).join('&')}&key=${apiKey}`;
  return (type === 'HMAC-SHA256' ? createHmac('sha256', apiKey).update(s, 'utf8') : createHash('md5').update(s, 'utf8')).digest('hex').toUpperCase();
}
const toXml = (f) => `<xml>${Object.entries(f).map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`).join('')}</xml>`;
const fromXml = (x) => Object.fromEntries([...x.matchAll(/<(\w+)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g)].map((m) => [m[1], m[2] ?? m[3]]));

async function call(api, fields) {
  const body = { appid: appId, mch_id: mchId, nonce_str: randomBytes(16).toString('hex'), ...(signType === 'MD5' ? {} : { sign_type: signType }), ...fields };
  body.sign = sign(body);
  const res = await fetch(`${base}/pay/${api}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: toXml(body) });
  const answer = fromXml(await res.text());
  if (answer.return_code !== 'SUCCESS') throw new Error(`${api}: return_code ${answer.return_code} ${answer.return_msg}`);
  if (answer.sign !== sign(answer)) throw new Error(`${api}: the answer's sign does not verify with this merchant's key`);
  if (answer.result_code !== 'SUCCESS') throw new Error(`${api}: ${answer.err_code} ${answer.err_code_des}`);
  console.log(`${api} -> ${JSON.stringify(answer).slice(0, 200)} (sign verified)`);
  return answer;
}

// The merchant's notify_url: a local listener that checks WeChat's sign before believing anything.
let gotNotify;
const notified = new Promise((resolve) => (gotNotify = resolve));
const listener = createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    const n = fromXml(raw);
    const ok = n.sign === sign(n) && n.mch_id === mchId && n.appid === appId && n.result_code === 'SUCCESS';
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(ok ? toXml({ return_code: 'SUCCESS', return_msg: 'OK' }) : toXml({ return_code: 'FAIL', return_msg: 'bad sign' }));
    if (ok) gotNotify(n);
    else console.log(`notify refused: ${raw.slice(0, 200)}`);
  });
});
await new Promise((r) => listener.listen(0, '127.0.0.1', r));
const notifyUrl = `http://127.0.0.1:${listener.address().port}/wechat/notify`;

try {
  const outTradeNo = `SMOKE${Date.now()}${randomBytes(3).toString('hex')}`;
  const order = await call('unifiedorder', { body: 'sandbox smoke', out_trade_no: outTradeNo, total_fee: '1', spbill_create_ip: '127.0.0.1', notify_url: notifyUrl, trade_type: 'NATIVE', product_id: 'smoke' });
  const pay = await fetch(`${origin}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: order.code_url }) });
  if (!pay.ok) throw new Error(`sim/pay ${pay.status} ${await pay.text()}`);
  const timer = setTimeout(() => { console.error('no notify within 20 s'); process.exit(1); }, 20_000);
  const n = await notified;
  clearTimeout(timer);
  console.log(`notify -> ${n.out_trade_no} ${n.transaction_id} total_fee=${n.total_fee} (sign verified, acknowledged)`);
  const q = await call('orderquery', { out_trade_no: outTradeNo });
  if (q.trade_state !== 'SUCCESS' || q.transaction_id !== n.transaction_id) throw new Error(`orderquery says ${q.trade_state}`);
  console.log(`OK merchant ${mchId}: signed, ordered, paid, notified`);
} finally {
  listener.close();
}
