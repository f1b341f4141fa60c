import { json } from '@/app/_http/json';
import { refuseUnlessMerchant } from '@/app/_http/merchant-session';
import { getProduct, qrPng, qrPosterSvg } from '@/lib/checkout/catalog';

export const dynamic = 'force-dynamic';

/** `?format=png|svg[&download=1]`: the product's shop link as a QR code (PNG) or a poster (SVG). */
export async function GET(req: Request, { params }: { params: Promise<{ sku: string }> }) {
  const refused = await refuseUnlessMerchant();
  if (refused) return refused;
  const { sku } = await params;
  const product = await getProduct(sku);
  if (!product) return json({ ok: false, code: 'NOT_FOUND', message: `no product ${sku}` }, 404);
  const url = new URL(req.url);
  const format = url.searchParams.get('format') ?? 'png';
  if (format !== 'png' && format !== 'svg') return json({ ok: false, code: 'BAD_REQUEST', message: 'format must be png or svg' }, 400);
  const headers: Record<string, string> = { 'Cache-Control': 'private, no-store' };
  if (url.searchParams.get('download') === '1') headers['Content-Disposition'] = `attachment; filename="shop-${product.sku}.${format}"`;
  if (format === 'png') {
    return new Response(new Uint8Array(await qrPng(product)), { headers: { ...headers, 'Content-Type': 'image/png' } });
  }
  return new Response(await qrPosterSvg(product), { headers: { ...headers, 'Content-Type': 'image/svg+xml; charset=utf-8' } });
}
