import type { JsapiPayParams } from '@/lib/checkout/payments';

interface WeixinJSBridge {
  invoke(name: 'getBrandWCPayRequest', params: JsapiPayParams, cb: (res: { err_msg?: string; err_desc?: string }) => void): void;
}

declare global {
  interface Window {
    WeixinJSBridge?: WeixinJSBridge;
  }
}

/** The bridge now, or once WeChat fires WeixinJSBridgeReady (it may arrive after the buyer tapped). */
export function whenBridgeReady(): Promise<WeixinJSBridge> {
  return new Promise((resolve) => {
    if (typeof window.WeixinJSBridge !== 'undefined' && typeof window.WeixinJSBridge.invoke === 'function') {
      resolve(window.WeixinJSBridge);
      return;
    }
    const onReady = () => {
      document.removeEventListener('WeixinJSBridgeReady', onReady);
      resolve(window.WeixinJSBridge!);
    };
    document.addEventListener('WeixinJSBridgeReady', onReady, false);
  });
}

export function bridgeReadyNow(): boolean {
  return typeof window.WeixinJSBridge !== 'undefined';
}

export type PayOutcome = { kind: 'ok' } | { kind: 'cancel' } | { kind: 'fail'; reason: string };

/**
 * getBrandWCPayRequest and its answer. `:ok` only means the sheet said paid; the order page confirms
 * with the server. `:fail` carries err_desc when WeChat gives one (e.g. an expired prepay_id).
 */
export function requestPayment(bridge: WeixinJSBridge, params: JsapiPayParams): Promise<PayOutcome> {
  return new Promise((resolve) => {
    bridge.invoke('getBrandWCPayRequest', params, (res) => {
      const msg = res?.err_msg ?? '';
      if (msg === 'get_brand_wcpay_request:ok') resolve({ kind: 'ok' });
      else if (msg === 'get_brand_wcpay_request:cancel') resolve({ kind: 'cancel' });
      else resolve({ kind: 'fail', reason: res?.err_desc || msg || 'unknown' });
    });
  });
}
