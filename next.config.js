/** @type {import('next').NextConfig} */
const nextConfig = {
  // Tests build into their own folder so a developer's `next dev` and a test build never collide.
  distDir: process.env.NEXT_DIST_DIR || '.next',
  poweredByHeader: false,
  reactStrictMode: true,
  serverExternalPackages: ['better-sqlite3', 'pg'],
};

module.exports = nextConfig;
