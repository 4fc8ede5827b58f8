/**
 * The drop-folder watcher: chokidar events and periodic tree fingerprints in, "this item is complete" and "this
 * item is gone" out. It only reports paths; it never archives, shares or talks to qBittorrent (the `watch` command
 * joins it to the share pipeline). The decisions are SettleTracker's (settle.ts); this is the shell around it.
 */
import { readdir } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { displayPath, isUtf8 } from '../fsx/tree.js';
import type { Logger } from '../log.js';
import { fingerprintItem, type ItemInfo } from './fingerprint.js';
import { isIgnoredTopName, isOsNoiseName, itemOfEvent, topLevelOf } from './ignore.js';
import { SettleTracker } from './settle.js';

export interface ReadyItem {
  /** the top-level name in the drop folder */
  name: string;
  /** absolute path */
  path: string;
  info: ItemInfo;
}

export interface DropWatcherOptions {
  /** the drop folder (absolute, existing) */
  dir: string;
  settleMs: number;
  /** an item is complete (again, with new content, if it was reported before) */
  onReady: (item: ReadyItem) => void;
  /** an item left the drop folder (it may never have been reported) */
  onRemoved: (name: string) => void;
  /** an entry that can never become an item (its name is not valid UTF-8), said once per name, as `\xNN`-escaped */
  onUnusable?: (name: string, why: string) => void;
  log: Logger;
  now?: () => number;
  /** how often pending items are looked at; default 200 ms */
  tickMs?: number;
  /** how often the drop folder's own listing is read again, to catch an item whose events were missed; default 5000 ms */
  rescanMs?: number;
}

export interface DropWatcher {
  /** resolves once the initial scan is done: every item present at start is being tracked */
  readonly scanned: Promise<void>;
  close(): Promise<void>;
}

export function watchDropFolder(opts: DropWatcherOptions): DropWatcher {
  const { dir, log } = opts;
  const now = opts.now ?? Date.now;
  const tracker = new SettleTracker({ settleMs: opts.settleMs });
  const checking = new Set<Promise<void>>();
  let closed = false;
  let warnedError = false;

  const relOf = (p: string) => relative(dir, p);
  const fsw: FSWatcher = watch(dir, {
    ignoreInitial: false,
    followSymlinks: false,
    persistent: true,
    // never descend into hidden or temporary top-level entries (qshare's own .qshare outbox among them)
    ignored: (p: string) => {
      const rel = relOf(p);
      if (rel === '') return false;
      const t = topLevelOf(rel);
      if (!t) return true;
      if (isIgnoredTopName(t.top)) return true;
      return t.nested !== '' && isOsNoiseName(basename(rel));
    },
  });

  let resolveScanned!: () => void;
  const scanned = new Promise<void>((r) => (resolveScanned = r));
  // An item created while chokidar sets up its watches (or whose event the OS dropped) would otherwise never be
  // tracked: read the drop folder's listing after the first scan and then every rescanMs.
  const unusable = new Set<string>();
  // items some part of which could not be watched (e.g. an unreadable file): looked at again at every rescan, so a
  // change no event reports (making that file readable) is still noticed
  const polled = new Set<string>();
  const rescan = async () => {
    const names = await readdir(dir, { encoding: 'buffer' }).catch(() => [] as Buffer[]);
    if (closed) return;
    for (const raw of names) {
      // Node can only name such an entry with U+FFFD in place of the bad bytes, which no longer finds it
      if (!isUtf8(raw)) {
        const shown = displayPath(raw);
        if (!unusable.has(shown)) opts.onUnusable?.(shown, 'its name is not valid UTF-8');
        unusable.add(shown);
        continue;
      }
      const n = raw.toString('utf8');
      if (!isIgnoredTopName(n) && (!tracker.has(n) || polled.has(n))) tracker.activity(n, now());
    }
  };
  fsw.on('ready', () => void rescan().then(resolveScanned));
  const rescanTimer = setInterval(() => void rescan(), opts.rescanMs ?? 5000);
  fsw.on('error', (e) => {
    const p = (e as NodeJS.ErrnoException).path;
    const item = p === undefined ? undefined : itemOfEvent(relOf(p));
    if (item !== undefined) polled.add(item);
    if (warnedError) return;
    warnedError = true;
    // e.g. ENOSPC: out of inotify watches. Fingerprints still catch changes, only later.
    log.warn(
      `the drop-folder watcher reported a problem: ${(e as Error).message}; changes are still noticed by periodic checks`,
    );
  });
  fsw.on('all', (event, p) => {
    if (closed) return;
    const rel = relOf(p);
    const item = itemOfEvent(rel);
    if (item === undefined) return;
    tracker.activity(item, now());
    if ((event === 'unlink' || event === 'unlinkDir') && rel === item)
      log.debug('drop folder: an item went away', { item });
  });

  const look = (item: string) => {
    const job = (async () => {
      let info: ItemInfo | undefined;
      try {
        info = await fingerprintItem(join(dir, item));
      } catch (e) {
        log.warn(`cannot look at ${join(dir, item)}: ${(e as Error).message}`);
        tracker.activity(item, now()); // look again later
        return;
      }
      if (closed) return;
      if (!info) {
        if (tracker.has(item)) {
          tracker.removed(item);
          opts.onRemoved(item);
        }
        return;
      }
      if (tracker.observed(item, info.fingerprint, now()) === 'ready')
        opts.onReady({ name: item, path: join(dir, item), info });
    })();
    checking.add(job);
    void job.finally(() => checking.delete(job));
  };

  const timer = setInterval(() => {
    if (closed) return;
    for (const item of tracker.takeDue(now())) look(item);
  }, opts.tickMs ?? 200);

  return {
    scanned,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      clearInterval(rescanTimer);
      await fsw.close();
      await Promise.all([...checking]);
    },
  };
}
