// The e2e tests' static server: serves dist/ on 127.0.0.1 the way a strict static host would.
// - Every response carries a strict Content-Security-Policy (no eval, no inline script or
//   style attribute; WebAssembly compilation allowed), so the tests catch any page that needs
//   more (they fail on a `securitypolicyviolation` event).
// - Access-Control-Allow-Origin: * — embeds on another origin fetch the module scripts and
//   the wasm with CORS (GitHub Pages sends the same header).
// - The same site under the sub-path /gradscope/, as a project page on a static host.
// - Precompressed copies (`file.br`, `file.gz`, which `scripts/dist.sh --optimize` writes) are
//   served with Content-Encoding when the browser accepts them, as nginx's brotli_static does;
//   a file without them is served as it is (the tests' build has none).
// - A second server on another port stands for a blog on another origin: it serves the example
//   blog page with the widget script pointed at the first origin.
// Run alone: `node e2e/server.mjs dist 8137` (the blog origin is the next port).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.md': 'text/markdown; charset=utf-8',
};

/** Serves `root` on 127.0.0.1:`port`. `csp`: send the policy; `rewrite(path, text)`: edit HTML. */
export function serve(root, port, { csp = CSP, rewrite = null } = {}) {
  const base = resolve(root);
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let path;
    try {
      // The site also answers under /gradscope/, as on a static host's sub-path (GitHub Pages).
      path = normalize(decodeURIComponent(url.pathname)).replace(/^\/gradscope(\/|$)/, '/');
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = join(base, path);
    if (!file.startsWith(base)) { res.writeHead(403).end(); return; }
    try {
      const type = TYPES[extname(file)] || 'application/octet-stream';
      const headers = { 'Content-Type': type, 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store', Vary: 'Accept-Encoding' };
      if (csp) headers['Content-Security-Policy'] = csp;
      const rewritten = rewrite && type.startsWith('text/html');
      const encoded = rewritten ? null : await precompressed(file, req.headers['accept-encoding']);
      let body;
      if (encoded) {
        body = encoded.body;
        headers['Content-Encoding'] = encoded.encoding;
      } else {
        body = await readFile(file);
        if (rewritten) body = Buffer.from(rewrite(path, body.toString()));
      }
      res.writeHead(200, headers).end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

/** The precompressed copy of `file` the browser accepts (brotli first), or null. */
async function precompressed(file, accepted = '') {
  const encodings = String(accepted).split(',').map((e) => e.trim().split(';')[0]);
  for (const [encoding, suffix] of [['br', '.br'], ['gzip', '.gz']]) {
    if (!encodings.includes(encoding)) continue;
    try {
      return { encoding, body: await readFile(file + suffix) };
    } catch { /* no such copy */ }
  }
  return null;
}

/** The site on `port`, and the blog on `port + 1` whose widget script comes from the site. */
export async function serveBoth(root, port) {
  const site = `http://127.0.0.1:${port}/`;
  const a = await serve(root, port);
  const b = await serve(root, port + 1, {
    csp: null,
    rewrite: (path, html) => html
      .replaceAll('src="../gradscope-embed.js"', `src="${site}gradscope-embed.js"`)
      .replaceAll('src="../embed.html', `src="${site}embed.html`),
  });
  return [a, b];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [root = 'dist', port = '8137'] = process.argv.slice(2);
  await serveBoth(root, Number(port));
  console.log(`serving ${root} on http://127.0.0.1:${port}/ (and the blog origin on ${Number(port) + 1})`);
}
