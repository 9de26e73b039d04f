// Merged by @jupyterlab/builder into its webpack configuration (package.json
// "jupyterlab.webpackConfig").
//
// Watch mode only: the builder's defaults poll the output of `tsc -w` every 500 ms and wait
// 1 s after a change before rebuilding (meant for network file systems), which was most of
// the time from saving a TypeScript file to a new bundle (docs/development.md). lib/ is on
// the developer's own disk, so native file events and a short debounce are enough; the
// debounce still lets tsc finish writing the .js and .js.map of one compile.
module.exports = {
  watchOptions: {
    poll: false,
    aggregateTimeout: 100
  }
};
