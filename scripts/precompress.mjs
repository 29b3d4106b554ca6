// Writes a brotli (.br, quality 11) and a gzip (.gz, level 9) copy beside each text or wasm
// file of a built site, for static hosts that serve precompressed files when the browser accepts
// them (nginx's gzip_static/brotli_static, Netlify, Cloudflare, the e2e server): compressing
// once at build time at the highest levels beats what a host does on the fly. GitHub Pages
// ignores them and compresses (gzip) itself.
//   node scripts/precompress.mjs dist
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, extname } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const KINDS = new Set(['.wasm', '.js', '.mjs', '.css', '.html', '.svg', '.json', '.md']);
/** Files smaller than this gain too little to be worth a second and third copy. */
const MIN_BYTES = 1024;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (KINDS.has(extname(name)) && statSync(path).size >= MIN_BYTES) yield path;
  }
}

const root = process.argv[2];
if (!root) { console.error('usage: node scripts/precompress.mjs DIR'); process.exit(2); }
let raw = 0, br = 0, gz = 0;
for (const path of [...files(root)]) {
  const body = readFileSync(path);
  const brotli = brotliCompressSync(body, { params: {
    [constants.BROTLI_PARAM_QUALITY]: 11,
    [constants.BROTLI_PARAM_LGWIN]: 24,
    [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    [constants.BROTLI_PARAM_MODE]: extname(path) === '.wasm' ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
  } });
  const gzip = gzipSync(body, { level: 9 });
  writeFileSync(`${path}.br`, brotli);
  writeFileSync(`${path}.gz`, gzip);
  raw += body.length; br += brotli.length; gz += gzip.length;
}
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
console.log(`precompressed ${root}: ${mb(raw)} → brotli ${mb(br)}, gzip ${mb(gz)}`);
