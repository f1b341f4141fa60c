/**
 * /sandbox/bridge.js: the WeChat client's WeixinJSBridge for a desktop or test browser. It does nothing
 * where the page already has a bridge (a real WeChat). Otherwise it defines one, fires
 * WeixinJSBridgeReady asynchronously (as WeChat does after page load), and for getBrandWCPayRequest asks
 * the sandbox to check the params as WeChat would, then shows an in-page payment sheet.
 * Plain ES5-ish JavaScript: it runs unbundled in whatever browser the developer has.
 */
export const BRIDGE_JS = String.raw`(function () {
  'use strict';
  if (typeof window === 'undefined' || typeof window.WeixinJSBridge !== 'undefined') return;
  var BASE = '/sandbox/sim/jsapi/';
  function later(cb, res) { setTimeout(function () { try { cb && cb(res); } catch (e) { console.error(e); } }, 0); }
  // The URL this document was loaded at: history.pushState moves location.href, never this. iOS WeChat
  // checks the payment directory against it, Android against location.href (docs/sandbox.md).
  function landingUrl() {
    try { var nav = performance.getEntriesByType('navigation')[0]; if (nav && nav.name) return nav.name; } catch (e) {}
    return location.href;
  }
  function post(path, body) {
    var headers = { 'content-type': 'application/json', 'x-sandbox-page-url': location.href, 'x-sandbox-landing-url': landingUrl() };
    return fetch(BASE + path, { method: 'POST', credentials: 'same-origin', headers: headers, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }
  function el(tag, style, text) {
    var e = document.createElement(tag);
    if (style) e.setAttribute('style', style);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function sheet(info, onPay, onCancel) {
    var overlay = el('div', 'position:fixed;inset:0;background:rgba(0,0,0,.55);z-index:2147483647;display:flex;align-items:flex-end;justify-content:center;font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei",sans-serif');
    overlay.setAttribute('data-testid', 'sandbox-sheet');
    var box = el('div', 'background:#fff;width:100%;max-width:480px;border-radius:12px 12px 0 0;padding:20px 20px 28px;box-sizing:border-box;text-align:center;color:#111');
    box.appendChild(el('div', 'font-size:13px;color:#888;margin-bottom:6px', '微信支付 · 沙箱'));
    box.appendChild(el('div', 'font-size:15px;margin-bottom:4px', info.merchant));
    box.appendChild(el('div', 'font-size:13px;color:#666;margin-bottom:14px', info.body));
    var amount = el('div', 'font-size:34px;font-weight:600;margin-bottom:18px', '¥' + info.amount);
    amount.setAttribute('data-testid', 'sandbox-sheet-amount');
    box.appendChild(amount);
    var msg = el('div', 'font-size:13px;color:#d33;min-height:18px;margin-bottom:8px', '');
    box.appendChild(msg);
    var pay = el('button', 'display:block;width:100%;padding:12px;border:0;border-radius:8px;background:#057a3d;color:#fff;font-size:17px;margin-bottom:10px;cursor:pointer', '确认支付');
    pay.setAttribute('data-testid', 'sandbox-sheet-pay');
    var cancel = el('button', 'display:block;width:100%;padding:12px;border:0;border-radius:8px;background:#f2f2f2;color:#333;font-size:17px;cursor:pointer', '取消');
    cancel.setAttribute('data-testid', 'sandbox-sheet-cancel');
    box.appendChild(pay);
    box.appendChild(cancel);
    overlay.appendChild(box);
    document.body.appendChild(overlay);
    function close() { if (overlay.parentNode) overlay.parentNode.removeChild(overlay); }
    pay.onclick = function () { pay.disabled = true; cancel.disabled = true; onPay(close, msg); };
    cancel.onclick = function () { close(); onCancel(); };
  }
  function getBrandWCPayRequest(params, cb) {
    var NAME = 'get_brand_wcpay_request';
    post('check', params).then(function (r) {
      if (!r.ok) return later(cb, { err_msg: NAME + ':fail', err_desc: r.reason });
      sheet(r.order, function (close, msg) {
        post('pay', params).then(function (p) {
          close();
          if (p.ok) later(cb, { err_msg: NAME + ':ok' });
          else later(cb, { err_msg: NAME + ':fail', err_desc: p.message });
        }, function () { close(); later(cb, { err_msg: NAME + ':fail', err_desc: 'network error' }); });
      }, function () { later(cb, { err_msg: NAME + ':cancel' }); });
    }, function () { later(cb, { err_msg: NAME + ':fail', err_desc: 'network error' }); });
  }
  var listeners = {};
  window.WeixinJSBridge = {
    __sandbox: true,
    invoke: function (name, params, cb) {
      if (name === 'getBrandWCPayRequest') return getBrandWCPayRequest(params || {}, cb);
      later(cb, { err_msg: name + ':fail', err_desc: 'not supported in sandbox' });
    },
    on: function (name, cb) { (listeners[name] = listeners[name] || []).push(cb); },
    call: function (name) { return undefined; }
  };
  setTimeout(function () {
    var ev;
    try { ev = new Event('WeixinJSBridgeReady'); } catch (e) { ev = document.createEvent('Event'); ev.initEvent('WeixinJSBridgeReady', false, false); }
    document.dispatchEvent(ev);
  }, 0);
})();
`;
