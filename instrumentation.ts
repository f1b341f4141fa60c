/**
 * Runs once per server start. Node-only work lives in lib/startup (the edge bundle never sees it):
 * configuration checked before the first request, database migrated, background workers started.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { boot } = await import('./lib/startup');
    await boot();
  }
}
