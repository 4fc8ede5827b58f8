/**
 * Build step (`npm run build`, after tsc): renders `qshare --help` through the real dispatcher at every width in
 * CACHED_HELP_WIDTHS and writes build/cli/help/<width>.txt for help-cache.ts (the bundling step copies them to dist/cli/help/). Run as
 * `node build/cli/write-help-cache.js`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { CACHED_HELP_WIDTHS, helpCacheFile } from './help-cache.js';
import { renderHelp } from './render-help.js';

mkdirSync(new URL('./help/', import.meta.url), { recursive: true });
for (const width of CACHED_HELP_WIDTHS) writeFileSync(helpCacheFile(width), await renderHelp(width));
