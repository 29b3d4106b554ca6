// The training worker's entry point when the page and the worker share an origin: load
// wasm-bindgen's glue (trunk's no-modules build) of the build named in this script's query
// (`?build=gradscope-worker` or `gradscope-worker-cpu`: www/widget/client.js) and instantiate its
// wasm. The object form of the init call is the one wasm-bindgen ≥ 0.2.93 accepts without a
// deprecation warning. Pages on other origins start the worker from a blob with the same two
// lines (www/widget/client.js).
const build = new URL(self.location.href).searchParams.get('build') === 'gradscope-worker-cpu'
  ? 'gradscope-worker-cpu' : 'gradscope-worker';
importScripts(`../${build}.js`);
// A failed fetch or compile rejects a promise, which the page never hears of: rethrow it from a
// task, so it reaches the page's worker.onerror with its message.
wasm_bindgen({ module_or_path: new URL(`../${build}_bg.wasm`, self.location.href) })
  .catch((e) => setTimeout(() => { throw e; }));
