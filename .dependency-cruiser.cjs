/**
 * Import rules of the checkout, checked by dependency-cruiser (`npm run deps`, and
 * test/unit/dependency-rules.test.ts inside `npm test`).
 *
 * Layout the rules describe:
 *   app/                      routes and UI; app/sandbox/ is the sandbox's HTTP face
 *   lib/checkout/<cap>/       capabilities (kernel, gateway, payments, refunds, orders, buyer, catalog,
 *                             merchant, reconciler, health, objects, developers, sessions), each with one
 *                             public index.ts
 *   lib/wechatpay/, lib/wechat/  framework-free WeChat protocol layers
 *   lib/sandbox/              the WeChat simulator engine
 *   lib/db/                   Kysely; lib/config.ts; lib/session.ts (iron-session + next/headers)
 *   lib/log/, lib/metrics/    the logger and the metrics registry every layer uses (leaves)
 *   lib/i18n.ts, lib/money.ts, lib/china-time.ts   UI-safe helpers
 *   lib/startup.ts, lib/shutdown.ts, lib/doctor.ts, instrumentation.ts   process boot and stop, the doctor script
 *
 * Paths are relative to the directory depcruise runs in (the repo root). Package imports are
 * matched both as resolved files under node_modules and, should they ever fail to resolve, by
 * their bare name, so a rule still names the culprit alongside not-to-unresolvable.
 */

/** UI-safe lib files any part of app/ may import. */
const UI_SAFE_LIB = '^lib/(config|i18n|money|china-time)\\.ts$';
/** Repo source files (anything a rule can mean by "elsewhere in the repo"). */
const REPO = '^(app/|lib/|instrumentation\\.ts$)';
/** next, react (and react-dom), iron-session: resolved into node_modules, or a bare unresolved name. */
const FRAMEWORK = [
  '(^|/)node_modules/(next|react|react-dom|iron-session)/',
  '^(next|react|react-dom|iron-session)(/|$)',
];
/** next and react only (for the protocol layers, which may still use other npm packages). */
const NEXT_OR_REACT = ['(^|/)node_modules/(next|react|react-dom)/', '^(next|react|react-dom)(/|$)'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      // 1. A cycle makes module initialisation order matter (half-initialised imports at runtime)
      //    and means two pieces cannot be understood, tested or moved apart.
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere in app/ and lib/.',
      from: { path: '^(app|lib)/' },
      to: { circular: true },
    },
    {
      // 2. Pages and route handlers talk to the checkout only through each capability's
      //    public index.ts, plus the few UI-safe helpers and the session. The database, the
      //    WeChat protocol layers, the simulator and capability internals stay behind that
      //    surface, so they can change without touching a route (type-only imports count too:
      //    a page may not reach for lib/db/schema types).
      name: 'app-uses-checkout-public-surface',
      severity: 'error',
      comment:
        'app/ (outside app/sandbox/) may import from lib/ only lib/checkout/<cap>/index.ts, ' +
        'lib/session.ts, lib/config.ts, lib/i18n.ts, lib/money.ts, lib/china-time.ts, lib/log/index.ts.',
      from: { path: '^app/', pathNot: '^app/sandbox/' },
      to: {
        path: '^lib/',
        pathNot: ['^lib/checkout/[^/]+/index\\.ts$', '^lib/session\\.ts$', '^lib/log/index\\.ts$', UI_SAFE_LIB],
      },
    },
    {
      // 3. app/sandbox/ is the HTTP face of the simulated WeChat. It plays the other side of
      //    the wire, so it must not see the merchant's checkout, database or WeChat clients;
      //    it works only through the simulator engine (lib/sandbox) and the UI-safe helpers.
      name: 'sandbox-face',
      severity: 'error',
      comment:
        'app/sandbox/ may import from lib/ only lib/sandbox/**, lib/session.ts, lib/config.ts, ' +
        'lib/i18n.ts, lib/money.ts, lib/china-time.ts (never lib/checkout, lib/db, lib/wechatpay, lib/wechat).',
      from: { path: '^app/sandbox/' },
      to: {
        path: '^lib/',
        pathNot: ['^lib/sandbox/', '^lib/session\\.ts$', UI_SAFE_LIB],
      },
    },
    {
      // 4. The checkout is plain TypeScript: it runs from routes, workers, scripts and tests
      //    alike. Request-scoped framework pieces (next/headers, cookies, React, the session)
      //    are the caller's business and get passed in; the simulator is never a dependency.
      name: 'checkout-framework-free',
      severity: 'error',
      comment:
        'lib/checkout/** never imports next, next/*, react, iron-session, app/, lib/sandbox/ or lib/session.ts.',
      from: { path: '^lib/checkout/' },
      to: {
        path: [...FRAMEWORK, '^app/', '^lib/sandbox/', '^lib/session\\.ts$'],
      },
    },
    {
      // 5. Capabilities know each other only by their public index.ts, so a capability's
      //    internal files can be split, renamed or rewritten without breaking its neighbours.
      //    Inside its own folder a capability imports whatever it likes ($1 = own capability).
      name: 'checkout-capabilities-via-index',
      severity: 'error',
      comment:
        'A file in lib/checkout/X/ may import from another capability lib/checkout/Y/ only its index.ts.',
      from: { path: '^lib/checkout/([^/]+)/' },
      to: {
        path: '^lib/checkout/',
        pathNot: ['^lib/checkout/$1/', '^lib/checkout/[^/]+/index\\.ts$'],
      },
    },
    {
      // 5b. The gateway is the one place WeChat Pay's wire shapes (snake_case fields, err_codes,
      //     XML) enter the domain: every other capability speaks the gateway's camelCase words.
      //     The kernel may use the protocol's time format for ids (out_trade_no embeds UTC+8 time).
      name: 'wechatpay-only-through-gateway',
      severity: 'error',
      comment: 'lib/checkout/* other than gateway/ and kernel/ never imports lib/wechatpay; use lib/checkout/gateway.',
      from: { path: '^lib/checkout/', pathNot: '^lib/checkout/(gateway|kernel)/' },
      to: { path: '^lib/wechatpay/' },
    },
    {
      // 5c. The public JSON objects (checkout session, refund) are read by the sessions API now and by
      //     webhooks later; kept a leaf so a shape can be computed from a row anywhere (even inside a
      //     transaction of payments or refunds) without dragging those capabilities, or a cycle, along.
      name: 'objects-are-leaves',
      severity: 'error',
      comment: 'lib/checkout/objects/ imports from the repo only its own folder, lib/checkout/kernel, lib/db/schema.ts and lib/config.ts.',
      from: { path: '^lib/checkout/objects/' },
      to: {
        path: REPO,
        pathNot: ['^lib/checkout/objects/', '^lib/checkout/kernel/', '^lib/db/schema\\.ts$', '^lib/config\\.ts$'],
      },
    },
    {
      // 6. The WeChat protocol layers are leaves: they encode WeChat's rules (signatures, XML,
      //    OAuth, UA) and nothing of this app, so they can be tested against WeChat's vectors
      //    alone and used by both the checkout and the simulator. npm packages (XML parser)
      //    and node builtins are fine; next/react are not.
      name: 'protocol-layers-are-leaves',
      severity: 'error',
      comment:
        'lib/wechatpay/** and lib/wechat/** import nothing from the repo outside their own folder, ' +
        'and never next or react.',
      from: { path: '^lib/(wechatpay|wechat)/' },
      to: {
        path: [REPO, ...NEXT_OR_REACT],
        pathNot: '^lib/$1/',
      },
    },
    {
      // 7. The sandbox is "WeChat": it shares only the wire-level primitives with the merchant
      //    side (signing, XML, times, crypto, JSAPI params, wire types and errors), never the
      //    merchant's client/transport/notify/validate/bill code, so a bug in the merchant's
      //    client cannot be mirrored by the simulator and pass unnoticed. It never sees the
      //    checkout, the OAuth client, the UI or the merchant session. (lib/wechatpay/index.ts
      //    re-exports the client, so it is out as well.) lib/db, lib/config.ts, lib/money.ts are fine.
      name: 'sandbox-is-wechat',
      severity: 'error',
      comment:
        'lib/sandbox/** never imports lib/checkout, lib/wechat, app/, lib/session.ts, and from ' +
        'lib/wechatpay only sign.ts xml.ts time.ts crypto.ts jsapi.ts types.ts errors.ts and the v3 ' +
        'primitives v3/(sign|verify|aead|jsapi|time|types).ts (never a client).',
      from: { path: '^lib/sandbox/' },
      to: {
        path: ['^lib/checkout/', '^lib/wechat/', '^app/', '^lib/session\\.ts$', '^lib/wechatpay/'],
        pathNot: ['^lib/wechatpay/(sign|xml|time|crypto|jsapi|types|errors)\\.ts$', '^lib/wechatpay/v3/(sign|verify|aead|jsapi|time|types)\\.ts$'],
      },
    },
    {
      // 8. The database layer sits below the domain: schema, migrations and the Kysely instance
      //    depend on configuration only, so everything above can use it and it can never
      //    drag domain code (or a cycle through it) into a migration.
      name: 'db-below-domain',
      severity: 'error',
      comment: 'lib/db/** imports from the repo only lib/db/** and lib/config.ts.',
      from: { path: '^lib/db/' },
      to: {
        path: REPO,
        pathNot: ['^lib/db/', '^lib/config\\.ts$'],
      },
    },
    {
      // 8b. The logger and the metrics registry are used by every layer (checkout, sandbox, startup,
      //     routes), so they must depend on none of them: otherwise a log line could drag the domain
      //     into the database layer or a cycle into a route.
      name: 'observability-leaves',
      severity: 'error',
      comment: 'lib/log/** and lib/metrics/** import nothing from the repo outside their own folder.',
      from: { path: '^lib/(log|metrics)/' },
      to: { path: REPO, pathNot: '^lib/$1/' },
    },
    {
      // 9. An import that does not resolve is either a typo, a deleted file or a path alias
      //    the checker does not understand; any of those would make every rule above blind
      //    to that edge, so it is an error in its own right.
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import must resolve (to a repo file, an npm package or a node builtin).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Package internals are not ours to check; their entry file is still recorded, so the
    // next/react/iron-session rules see the edge.
    doNotFollow: { path: '(^|/)node_modules/' },
    // Build output and generated Next types are never part of the cruise.
    exclude: { path: '(^|/)\\.next[^/]*/' },
    // Keep `import type` edges: TypeScript erases them when compiling, but they still couple
    // modules (rule 2 forbids app/ type-importing lib/db/schema).
    tsPreCompilationDeps: true,
    // tsconfig.json maps @/* to ./*; without it every `@/lib/...` import would be unresolvable.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.jsx', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
