/**
 * Walking a tree qshare is about to share, exactly as it is on disk: names are read as bytes (a name that is not
 * valid UTF-8 is still found, never mangled into another name), links are never followed, and the walk can record
 * each entry's state (type, size, mtime, ctime, inode, link target) so a later walk shows whether anything changed.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';

export type EntryKind = 'file' | 'dir' | 'link' | 'other';

export interface WalkEntry {
  /** path below the root, `/`-separated, as bytes */
  rel: Buffer;
  /** absolute path, as bytes */
  abs: Buffer;
  name: Buffer;
  kind: EntryKind;
  st: Stats;
}

export interface WalkHandlers {
  onEntry(e: WalkEntry): void;
  /** a folder that cannot be listed; default: throw the error */
  onDirError?(dir: Buffer, e: NodeJS.ErrnoException): void;
}

const SLASH = Buffer.from('/');
const YIELD_EVERY = 256;

export function kindOf(st: Stats): EntryKind {
  return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
}

/**
 * Visits every entry below `root` (not the root itself), folders before their content. Synchronous calls, yielding
 * to the event loop every 256 entries (an async round trip per file is several times slower on big folders; a Ctrl-C
 * is still handled promptly). An entry removed between listing and lstat is skipped.
 */
export async function walkTree(root: string, h: WalkHandlers): Promise<void> {
  const stack: Array<{ abs: Buffer; rel: Buffer }> = [{ abs: Buffer.from(root), rel: Buffer.alloc(0) }];
  let seen = 0;
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    let names: Buffer[];
    try {
      names = readdirSync(dir.abs, { encoding: 'buffer' });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' && dir.rel.length > 0) continue;
      if (!h.onDirError) throw e;
      h.onDirError(dir.abs, err);
      continue;
    }
    names.sort(Buffer.compare);
    for (const name of names) {
      if (++seen % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      const abs = Buffer.concat([dir.abs, SLASH, name]);
      const rel = dir.rel.length === 0 ? name : Buffer.concat([dir.rel, SLASH, name]);
      let st: Stats;
      try {
        st = lstatSync(abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const kind = kindOf(st);
      h.onEntry({ rel, abs, name, kind, st });
      if (kind === 'dir') stack.push({ abs, rel });
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function isUtf8(name: Buffer): boolean {
  try {
    utf8.decode(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * A path for a message: valid UTF-8 as it is, every byte of an invalid sequence as `\xNN`, and control characters
 * (a newline in a name) escaped, so one name is always one readable line.
 */
export function displayPath(p: Buffer | string): string {
  const b = typeof p === 'string' ? Buffer.from(p) : p;
  let out = '';
  let i = 0;
  while (i < b.length) {
    const len = utf8SeqLength(b, i);
    if (len === 0) {
      out += `\\x${b[i]!.toString(16).padStart(2, '0')}`;
      i++;
      continue;
    }
    const ch = b.subarray(i, i + len).toString('utf8');
    const code = ch.codePointAt(0)!;
    out +=
      code < 0x20 || code === 0x7f
        ? ch === '\n'
          ? '\\n'
          : ch === '\t'
            ? '\\t'
            : `\\x${code.toString(16).padStart(2, '0')}`
        : ch;
    i += len;
  }
  return out;
}

/** Length of the valid UTF-8 sequence starting at i, or 0 when the byte there does not start one. */
function utf8SeqLength(b: Buffer, i: number): number {
  const c = b[i]!;
  const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n <= 1) return n;
  if (i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  return isUtf8(b.subarray(i, i + n)) ? n : 0;
}

/** Each entry's state, keyed by its relative path (bytes kept losslessly as latin1): what `changesBetween` compares. */
export type TreeStates = Map<string, string>;

/** One entry's state (its kind, size, times, inode, and a link's target): what treeStates records for it. */
export function stateOf(kind: EntryKind, st: Stats, abs: Buffer | string): string {
  const target = kind === 'link' ? readlinkSync(abs, { encoding: 'buffer' }).toString('latin1') : '';
  return `${kind}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.dev}:${st.ino}\0${target}`;
}

/** The state of a file, or of a folder and everything below it (`''` is the root itself). */
export async function treeStates(root: string): Promise<TreeStates> {
  const top = lstatSync(root);
  const states: TreeStates = new Map([['', stateOf(kindOf(top), top, root)]]);
  if (!top.isDirectory()) return states;
  await walkTree(root, {
    onEntry: (e) => states.set(e.rel.toString('latin1'), stateOf(e.kind, e.st, e.abs)),
    onDirError: (dir, err) => states.set(`unreadable:${dir.toString('latin1')}`, err.code ?? 'error'),
  });
  return states;
}

/**
 * Whether the tree at `root` is still exactly as `before` (treeStates, or inspect's walk) recorded it: walked in the
 * same order and compared entry by entry as it goes, so nothing the size of the tree is built (a second map of
 * 100,000 entries cost ~40 MB). False at the first difference; the caller then says what changed (changesBetween).
 */
export async function treeUnchanged(root: string, before: TreeStates): Promise<boolean> {
  const expected = before.entries();
  const next = (key: string, state: string) => {
    const e = expected.next();
    return !e.done && e.value[0] === key && e.value[1] === state;
  };
  let top: Stats;
  try {
    top = lstatSync(root);
  } catch {
    return false;
  }
  if (!next('', stateOf(kindOf(top), top, root))) return false;
  if (!top.isDirectory()) return expected.next().done === true;
  let same = true;
  await walkTree(root, {
    onEntry: (e) => {
      if (same && !next(e.rel.toString('latin1'), stateOf(e.kind, e.st, e.abs))) same = false;
    },
    onDirError: () => {
      same = false;
    },
  });
  return same && expected.next().done === true;
}

/**
 * What differs between two walks of the same tree, as `"<path>" <how>`, at most `max` of them. Files and links come
 * first: a folder "changes" whenever an entry in it is added or removed, which those entries already say.
 */
export function changesBetween(before: TreeStates, after: TreeStates, max = 5): { count: number; shown: string[] } {
  const notes: Array<{ text: string; folder: boolean }> = [];
  const note = (key: string, how: string, state: string) => {
    const name =
      key === ''
        ? state.startsWith('dir\0')
          ? 'the folder itself'
          : 'the file itself'
        : `"${displayPath(Buffer.from(key, 'latin1'))}"`;
    notes.push({ text: `${name} ${how}`, folder: state.startsWith('dir\0') });
  };
  for (const [k, v] of before) {
    const now = after.get(k);
    if (now === undefined) note(k, 'disappeared', v);
    else if (now !== v) note(k, 'changed', v);
  }
  for (const [k, v] of after) if (!before.has(k)) note(k, 'appeared', v);
  notes.sort((a, b) => Number(a.folder) - Number(b.folder));
  return { count: notes.length, shown: notes.slice(0, max).map((n) => n.text) };
}
