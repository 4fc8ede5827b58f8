/**
 * `npm run build`, second step: bundles what tsc compiled into build/ as dist/cli/main.js plus the chunks its lazy
 * imports load, so a command reads a few files instead of a hundred modules (Node 20 has no compile cache; ~30 ms of
 * every start-up). Dependencies that find files next to themselves or load native code stay ordinary imports.
 * Chunks sit next to main.js, so a path relative to a module (../../package.json) means the same in build/ and
 * dist/.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const EXTERNAL = new Set(['@napi-rs/keyring', '7zip-bin', 'qrcode-terminal']);

export default {
  // the hash worker threads' entry (torrent/hash-parallel.ts starts them from ./hash-thread.js next to itself)
  input: { main: 'build/cli/main.js', 'hash-thread': 'build/torrent/hash-thread.js' },
  platform: 'node',
  // unique-names-generator's "main" is one CommonJS file holding all its dictionaries (thousands of names, countries,
  // Star Wars characters); its ES build lets the bundle keep only the two qshare draws from
  resolve: {
    alias: {
      'unique-names-generator': fileURLToPath(
        import.meta.resolve('unique-names-generator').replace(/index\.js$/, 'index.m.js'),
      ),
    },
  },
  external: (id) => id.startsWith('node:') || EXTERNAL.has(id) || [...EXTERNAL].some((e) => id.startsWith(`${e}/`)),
  output: { dir: 'dist/cli', format: 'esm', sourcemap: false },
  plugins: [
    {
      name: 'qshare-dist',
      buildStart() {
        rmSync('dist', { recursive: true, force: true });
      },
    },
  ],
};
