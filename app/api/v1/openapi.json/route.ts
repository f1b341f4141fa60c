import { openApiDocument } from '@/lib/checkout/sessions';

export const dynamic = 'force-dynamic';

/** GET /api/v1/openapi.json: the OpenAPI 3.1 document of the sessions API (no key needed: it holds no data). */
export function GET() {
  return Response.json(openApiDocument(), { headers: { 'Cache-Control': 'no-store' } });
}
