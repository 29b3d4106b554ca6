// Lists every module a page's entry script imports, directly or not, as <link rel="modulepreload">
// tags in the built page's <head>, so the browser fetches the whole module graph at once instead
// of discovering it one import level at a time (six levels deep from www/main.js: one network
// round trip each before the form can be drawn).
//   node scripts/preload.mjs dist
// The pages are index.html and embed.html; each page's entry is its module script (the bundle
// scripts/bundle.mjs made of it, which imports only www/site-url.js). Static imports only (the
// page has no dynamic ones); the graph is read from the built files, so it is always the one
// served.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const PAGES = ['index.html', 'embed.html'];
const IMPORT = /(?:^|[;\n])\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every module `entry` imports, directly or not, relative to `root`, in discovery order. */
export function moduleGraph(root, entry) {
  const seen = new Set([entry]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift();
    const text = readFileSync(join(root, file), 'utf8');
    for (const [, spec] of text.matchAll(IMPORT)) {
      const dep = relative(root, join(root, dirname(file), spec));
      if (!seen.has(dep)) { seen.add(dep); queue.push(dep); }
    }
  }
  return [...seen];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.argv[2];
  if (!root) { console.error('usage: node scripts/preload.mjs DIST'); process.exit(2); }
  for (const page of PAGES) {
    const path = join(root, page);
    const html = readFileSync(path, 'utf8').replace(/\s*<link rel="modulepreload"[^>]*>/g, '');
    const entry = /<script type="module" src="([^"]+)"><\/script>/.exec(html)?.[1];
    if (!entry) throw new Error(`${path} has no module script`);
    const links = moduleGraph(root, entry).map((m) => `<link rel="modulepreload" href="${m}" />`);
    if (!html.includes('</head>')) throw new Error(`${path} has no </head>`);
    writeFileSync(path, html.replace('</head>', `  ${links.join('\n  ')}\n</head>`));
    console.log(`${page}: ${links.length} modules preloaded`);
  }
}
