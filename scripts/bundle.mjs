// Bundles each page's module graph into one file (esbuild), so a first load fetches one script
// instead of ~40: over HTTP/1.1 the browser fetches at most 6 at a time, and at a 40 ms round
// trip the module count, not the bytes, was what kept the form from showing sooner
// (docs/performance.md, "First load").
//   node scripts/bundle.mjs dist
// index.html's www/main.js becomes www/widget/page.js and embed.html's www/embed-frame.js
// becomes www/widget/embed-page.js. The bundles sit in www/widget/ because www/widget/client.js
// finds the site's root and the worker's loader relative to its own URL (`import.meta.url`),
// which in a bundle is the bundle's. `www/site-url.js` stays a module of its own: dist.sh writes
// the published URL into it after the build is cached. The unbundled modules stay in dist/ for
// gradscope-embed.js (the custom element other sites load) and for reading.
import { buildSync } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUNDLES = [
  ['index.html', 'www/main.js', 'www/widget/page.js'],
  ['embed.html', 'www/embed-frame.js', 'www/widget/embed-page.js'],
];

const root = process.argv[2];
if (!root) { console.error('usage: node scripts/bundle.mjs DIST'); process.exit(2); }
for (const [page, entry, out] of BUNDLES) {
  // Syntax and names minified, whitespace kept: brotli takes the whitespace for nearly nothing,
  // and scripts/preload.mjs reads the bundle's one remaining import line by line.
  const result = buildSync({
    entryPoints: [join(root, entry)], outfile: join(root, out), bundle: true, format: 'esm',
    minifySyntax: true, minifyIdentifiers: true, external: ['*/site-url.js'], logLevel: 'warning',
    legalComments: 'eof', target: 'es2022',
  });
  if (result.errors.length) process.exit(1);
  const path = join(root, page);
  const html = readFileSync(path, 'utf8');
  const tag = `<script type="module" src="${entry}"></script>`;
  if (!html.includes(tag)) throw new Error(`${path} has no ${tag}`);
  writeFileSync(path, html.replace(tag, `<script type="module" src="${out}"></script>`));
  console.log(`${page}: ${entry} bundled into ${out}`);
}
