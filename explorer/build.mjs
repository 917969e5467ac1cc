// Bundles the explorer page (explorer/index.tsx: GraphiQL, React, graphql-ws) into
// dist/explorer/, served by src/explorer/routes.ts (assets under /explorer/assets/).
import { bundlePage } from './bundle-page.mjs';

await bundlePage({
  name: 'explorer',
  entry: 'explorer/index.tsx',
  dir: 'explorer',
  assetsUrl: '/explorer/assets/',
  title: 'chat-api explorer',
  head: '<style nonce="{{NONCE}}">html, body, #explorer { height: 100%; margin: 0; }</style>',
  body: `<div id="explorer"></div>
    <noscript>The explorer needs JavaScript. The API itself answers POST requests on this URL.</noscript>`,
});
