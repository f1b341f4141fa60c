import QRCode from 'qrcode';

/**
 * The Native-pay code_url as an SVG QR, rendered on the server so no QR library reaches the client
 * bundle. Medium error correction and a 4-module quiet zone: what phone scanners expect from a screen.
 */
export async function qrSvg(text: string): Promise<string> {
  if (!text) throw new Error('qrSvg: empty text');
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, width: 240, color: { dark: '#000000', light: '#ffffff' } });
}
