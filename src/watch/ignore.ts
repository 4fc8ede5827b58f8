/**
 * Which names in the drop folder are not items to share. Pure.
 *
 * Top level (what becomes a share): hidden names (`.x`, which covers `.DS_Store`, qshare's own `.qshare` outbox
 * and every `.<name>.partial-<hex>` file qshare writes), Office lock files (`~$x`), and names that browsers and
 * copy tools use while a file is still arriving (`.part`, `.crdownload`, `.download`, `.tmp`). Such a file becomes
 * an item once it is renamed to its final name.
 *
 * Inside an item, every change counts as activity (a half-copied folder is not ready), except the files operating
 * systems write by themselves when a folder is merely looked at (`.DS_Store`, `Thumbs.db`, `desktop.ini`).
 */
const TEMP_SUFFIXES = ['.part', '.crdownload', '.download', '.tmp'];
const OS_NOISE = new Set(['.ds_store', 'thumbs.db', 'desktop.ini']);

/** True when a top-level entry of the drop folder must never become a share. */
export function isIgnoredTopName(name: string): boolean {
  if (name === '' || name.startsWith('.')) return true;
  if (name.startsWith('~$')) return true;
  const lower = name.toLowerCase();
  if (OS_NOISE.has(lower)) return true;
  return TEMP_SUFFIXES.some((s) => lower.endsWith(s) && lower.length > s.length);
}

/** True for files the OS writes on its own inside a folder; their changes do not make an item "still copying". */
export function isOsNoiseName(name: string): boolean {
  return OS_NOISE.has(name.toLowerCase());
}

/**
 * Splits a path relative to the drop folder into its top-level item and the rest. `undefined` for the drop folder
 * itself or a path outside it (starting with `..`).
 */
export function topLevelOf(rel: string): { top: string; nested: string } | undefined {
  const parts = rel.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  const top = parts[0];
  if (top === undefined || top === '..') return undefined;
  return { top, nested: parts.slice(1).join('/') };
}

/** Whether an event at `rel` (relative to the drop folder) is activity of a shareable item; returns its top name. */
export function itemOfEvent(rel: string): string | undefined {
  const t = topLevelOf(rel);
  if (!t || isIgnoredTopName(t.top)) return undefined;
  const last = t.nested.split('/').pop() ?? '';
  if (t.nested !== '' && isOsNoiseName(last)) return undefined;
  return t.top;
}
