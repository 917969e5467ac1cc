// Bundles the explorer page (explorer/index.tsx: GraphiQL, React, graphql-ws) with esbuild into
// dist/explorer/: index.html plus content-hashed JS and CSS under assets/, served by
// src/explorer/routes.ts. Everything comes from node_modules, so the page works offline.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'explorer');
const assetsDir = path.join(outDir, 'assets');
/** Where src/explorer/routes.ts serves assets/ from. */
const ASSETS_URL = '/explorer/assets/';

await rm(outDir, { recursive: true, force: true });
await mkdir(assetsDir, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { explorer: 'explorer/index.tsx' },
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
const script = outputs.find((file) => /^explorer-[\w-]+\.js$/.test(file));
const style = outputs.find((file) => /^explorer-[\w-]+\.css$/.test(file));
if (!script || !style) throw new Error(`explorer bundle incomplete: ${outputs.join(', ')}`);

// {{NONCE}} is replaced per response (see src/explorer/routes.ts); no inline script anywhere.
const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="csp-nonce" content="{{NONCE}}" />
    <title>chat-api explorer</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${ASSETS_URL}${style}" />
    <script defer src="${ASSETS_URL}${script}"></script>
    <style nonce="{{NONCE}}">html, body, #explorer { height: 100%; margin: 0; }</style>
  </head>
  <body>
    <div id="explorer"></div>
    <noscript>The explorer needs JavaScript. The API itself answers POST requests on this URL.</noscript>
  </body>
</html>
`;
await writeFile(path.join(outDir, 'index.html'), html);
console.log(`explorer: dist/explorer/index.html, assets/${script}, assets/${style}`);
