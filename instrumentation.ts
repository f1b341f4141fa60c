/**
 * Runs once per server start. Node-only work lives in lib/startup (the edge bundle never sees it):
 * configuration checked before the first request, database migrated, background workers started.
 * First of all, the socket-address stamp every client IP is read from (app/_http/peer-address.ts).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    (await import('./app/_http/peer-address')).installPeerAddressHook();
    const { boot } = await import('./lib/startup');
    await boot();
  }
}
