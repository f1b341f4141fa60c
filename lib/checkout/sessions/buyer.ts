import { type SessionObject, sessionObject } from '../objects';
import { getSessionOrder } from './read';

/** The session as the buyer's pay page (/pay/{id}) shows it; undefined for an unknown id. */
export async function buyerSession(id: string): Promise<SessionObject | undefined> {
  const order = await getSessionOrder(id);
  return order ? sessionObject(order) : undefined;
}

/**
 * Where a buyer goes after paying: success_url with `session_id={id}` added to its query (before any
 * fragment), or null when the session has none. Stripe's API does the same with {CHECKOUT_SESSION_ID}.
 */
export function successRedirectUrl(session: Pick<SessionObject, 'id' | 'success_url'>): string | null {
  if (!session.success_url) return null;
  const u = new URL(session.success_url);
  u.searchParams.set('session_id', session.id);
  return u.toString();
}
