// The stand-alone page: one grokking widget whose spec follows the URL hash.
import { start } from './gradscope.js';

const params = new URLSearchParams(location.search);
const handle = start(document.getElementById('app'), {
  hash: location.hash,
  backend: params.get('backend') || 'auto',
  onSpecHash: (hash) => history.replaceState(null, '', '#' + hash),
});
addEventListener('hashchange', () => handle.loadHash(location.hash));
window.gradscope = handle; // for the console and the end-to-end tests
