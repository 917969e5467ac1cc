// Bundles the reference web client (web/src/main.tsx: React, Apollo Client, graphql-ws) with
// esbuild into dist/web/: index.html plus content-hashed JS and CSS under assets/, served at
// `/` by src/web/routes.ts (the explorer's build, explorer/build.mjs, works the same way).
// Everything comes from node_modules: the page loads nothing from another origin.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'web');
const assetsDir = path.join(outDir, 'assets');
/** Where src/web/routes.ts serves assets/ from. */
const ASSETS_URL = '/web/assets/';

await rm(outDir, { recursive: true, force: true });
await mkdir(assetsDir, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { chat: 'web/src/main.tsx' },
  outdir: assetsDir,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome111', 'edge111', 'firefox115', 'safari16.4'],
  jsx: 'automatic',
  minify: true,
  legalComments: 'external',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.relative(assetsDir, path.resolve(root, file)));
const script = outputs.find((file) => /^chat-[\w-]+\.js$/.test(file));
const style = outputs.find((file) => /^chat-[\w-]+\.css$/.test(file));
if (!script || !style) throw new Error(`web client bundle incomplete: ${outputs.join(', ')}`);

// {{NONCE}} is replaced per response (see src/web/routes.ts); no inline script anywhere.
const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="csp-nonce" content="{{NONCE}}" />
    <title>chat</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${ASSETS_URL}${style}" />
    <script defer src="${ASSETS_URL}${script}"></script>
  </head>
  <body>
    <div id="app"></div>
    <noscript>The chat needs JavaScript. The API answers on /graphql.</noscript>
  </body>
</html>
`;
await writeFile(path.join(outDir, 'index.html'), html);
console.log(`web client: dist/web/index.html, assets/${script}, assets/${style}`);
