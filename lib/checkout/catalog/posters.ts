import QRCode from 'qrcode';
import type { Product } from '../../db/schema';
import { formatYuan } from '../../money';
import { shopLink } from './admin';

/**
 * Share posters for a product's shop link. Error correction M survives a chat app's recompression;
 * the PNG is the bare code (what WeChat's "scan from image" reads best), the SVG a small poster with
 * the product's name and price above the same code.
 */
const OPTS = { errorCorrectionLevel: 'M' as const, margin: 2 };

/** The bare QR of the product's shop link, as a PNG. */
export async function qrPng(product: Product): Promise<Buffer> {
  return QRCode.toBuffer(shopLink(product.sku), { ...OPTS, type: 'png', width: 600 });
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A printable SVG poster: name, price, the QR and the link written out. */
export async function qrPosterSvg(product: Product): Promise<string> {
  const link = shopLink(product.sku);
  const code = await QRCode.toString(link, { ...OPTS, type: 'svg', width: 360 });
  // Nest the code's own <svg> so its viewBox scaling is kept as the qrcode package drew it.
  const inner = code.replace(/^<svg ([^>]*)>/, (_m, attrs: string) => `<svg x="20" y="110" width="360" height="360" ${attrs.replace(/\s*(width|height)="[^"]*"/g, '')}>`);
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="540" viewBox="0 0 400 540">',
    '<rect width="400" height="540" fill="#ffffff"/>',
    `<text x="200" y="48" text-anchor="middle" font-size="24" font-family="PingFang SC, Noto Sans CJK SC, Microsoft YaHei, sans-serif" fill="#111">${esc(product.name)}</text>`,
    `<text x="200" y="88" text-anchor="middle" font-size="26" font-weight="bold" font-family="sans-serif" fill="#e64340">¥${formatYuan(product.price_fen)}</text>`,
    inner,
    '<text x="200" y="500" text-anchor="middle" font-size="15" font-family="PingFang SC, Noto Sans CJK SC, sans-serif" fill="#777">微信扫一扫 · Scan with WeChat</text>',
    `<text x="200" y="524" text-anchor="middle" font-size="11" font-family="monospace" fill="#999">${esc(link)}</text>`,
    '</svg>',
  ].join('');
}
