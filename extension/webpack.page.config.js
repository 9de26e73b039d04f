// The desktop-only page's script (src/standalone.ts and the modules it shares with the
// JupyterLab panel: keyboard, clipboard, reconnect), bundled from tsc's output in lib/ into
// the server's static folder. `jlpm build:page` runs it; the wheel carries the result.
const path = require('path');

module.exports = (env, argv) => ({
  mode: argv.mode || 'production',
  entry: './lib/standalone.js',
  output: {
    path: path.resolve(__dirname, 'miniswan_desktop/standalone/static'),
    filename: 'page.js',
    // nothing of an earlier build (a development build's source map) goes into the wheel
    clean: true
  },
  // one file, no source map in production; the development build keeps one for debugging
  devtool: argv.mode === 'development' ? 'source-map' : false,
  watchOptions: { poll: false, aggregateTimeout: 100 }
});
