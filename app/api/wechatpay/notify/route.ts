import { handlePaymentNotify } from '@/lib/checkout/notify-handler';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** WeChat's payment notify: the raw body goes to lib/checkout untouched (no session, no parsing here). */
export const POST = handlePaymentNotify;
/** Not a notify: answered FAIL and logged, so a probe shows up in the merchant's audit trail. */
export const GET = handlePaymentNotify;
