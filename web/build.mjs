// Bundles the reference web client (web/src/main.tsx: React, Apollo Client, graphql-ws) into
// dist/web/, served at `/` by src/web/routes.ts (assets under /web/assets/).
import { bundlePage } from '../explorer/bundle-page.mjs';

await bundlePage({
  name: 'chat',
  entry: 'web/src/main.tsx',
  dir: 'web',
  assetsUrl: '/web/assets/',
  title: 'chat',
  body: `<div id="app"></div>
    <noscript>The chat needs JavaScript. The API answers on /graphql.</noscript>`,
});
