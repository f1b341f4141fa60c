import { handleRefundNotify } from '@/lib/checkout/refund-notify-handler';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** WeChat's refund notify (req_info encrypted with md5 of the API key). */
export const POST = handleRefundNotify;
export const GET = handleRefundNotify;
