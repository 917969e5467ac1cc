// One browser page bundled with esbuild into dist/<dir>/: index.html plus content-hashed JS and
// CSS under assets/. Shared by the explorer (explorer/build.mjs) and the web client
// (web/build.mjs). Everything comes from node_modules, so a page loads nothing from another
// origin; {{NONCE}} in the HTML is replaced per response by the route that serves it (no
// inline script anywhere).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {{ name: string, entry: string, dir: string, assetsUrl: string, title: string, head?: string, body: string }} page
 * @returns {Promise<{ script: string, style: string }>}
 */
export async function bundlePage(page) {
  const outDir = path.join(root, 'dist', page.dir);
  const assetsDir = path.join(outDir, 'assets');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });

  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { [page.name]: page.entry },
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
  const script = outputs.find((file) => new RegExp(`^${page.name}-[\\w-]+\\.js$`).test(file));
  const style = outputs.find((file) => new RegExp(`^${page.name}-[\\w-]+\\.css$`).test(file));
  if (!script || !style) throw new Error(`${page.name} bundle incomplete: ${outputs.join(', ')}`);

  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="csp-nonce" content="{{NONCE}}" />
    <title>${page.title}</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${page.assetsUrl}${style}" />
    <script defer src="${page.assetsUrl}${script}"></script>${page.head ? `\n    ${page.head}` : ''}
  </head>
  <body>
    ${page.body}
  </body>
</html>
`;
  await writeFile(path.join(outDir, 'index.html'), html);
  console.log(`${page.name}: dist/${page.dir}/index.html, assets/${script}, assets/${style}`);
  return { script, style };
}
