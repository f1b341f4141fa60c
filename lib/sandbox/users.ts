import { type SandboxDb, sandboxDb } from './db';
import { nowIso } from '../db';
import { newRowId, openidFor } from './ids';
import { DEFAULT_USER_ID, type SandboxUsersTable } from './schema';

export type SandboxUser = SandboxUsersTable;

/** The user's openid under `appid`, recorded so that openid can later be looked up ("known to this appid"). */
export async function ensureOpenid(db: SandboxDb, userId: string, appid: string): Promise<string> {
  const openid = openidFor(userId, appid);
  await db.insertInto('sandbox_openids').values({ openid, user_id: userId, appid }).onConflict((oc) => oc.doNothing()).execute();
  return openid;
}

/** The current simulated WeChat user: the cookie's, or the default user when the cookie is absent or stale. */
export async function currentUser(cookieUserId: string | undefined): Promise<SandboxUser> {
  const db = await sandboxDb();
  if (cookieUserId) {
    const u = await db.selectFrom('sandbox_users').selectAll().where('id', '=', cookieUserId).executeTakeFirst();
    if (u) return u;
  }
  return (await db.selectFrom('sandbox_users').selectAll().where('id', '=', DEFAULT_USER_ID).executeTakeFirstOrThrow());
}

/** A new simulated user; `snapshot` makes it a snapshot-page user (OAuth answers is_snapshotuser: 1). */
export async function createUser(name: string, isSubscribe: boolean, appid: string, snapshot = false): Promise<SandboxUser> {
  const db = await sandboxDb();
  const user: SandboxUser = { id: newRowId('u'), name: name.trim().slice(0, 40) || '用户', is_subscribe: isSubscribe ? 'Y' : 'N', snapshot: snapshot ? 1 : 0, created_at: nowIso() };
  await db.insertInto('sandbox_users').values(user).execute();
  await ensureOpenid(db, user.id, appid);
  return user;
}

export async function getUser(id: string): Promise<SandboxUser | undefined> {
  const db = await sandboxDb();
  return db.selectFrom('sandbox_users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The user behind an openid under `appid`, if this sandbox issued it. */
export async function userByOpenid(appid: string, openid: string): Promise<SandboxUser | undefined> {
  const db = await sandboxDb();
  const row = await db
    .selectFrom('sandbox_openids')
    .innerJoin('sandbox_users', 'sandbox_users.id', 'sandbox_openids.user_id')
    .selectAll('sandbox_users')
    .where('sandbox_openids.openid', '=', openid)
    .where('sandbox_openids.appid', '=', appid)
    .executeTakeFirst();
  return row;
}

export async function listUsers(appid: string): Promise<Array<SandboxUser & { openid: string }>> {
  const db = await sandboxDb();
  const users = await db.selectFrom('sandbox_users').selectAll().orderBy('created_at', 'asc').execute();
  const out = [];
  for (const u of users) out.push({ ...u, openid: await ensureOpenid(db, u.id, appid) });
  return out;
}
