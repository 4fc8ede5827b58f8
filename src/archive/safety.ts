/**
 * Pure checks that make unpacking an untrusted archive safe whichever 7-Zip runs it (7-Zip ≥ 21 refuses `../` link
 * targets, but p7zip 16.02 recreates every link as it is stored, and any 7-Zip writes a file THROUGH a directory
 * link extracted just before it). The listing does not show link targets, so links themselves are checked on disk
 * after extraction (unpack.ts); what the listing alone can rule out is ruled out here, before anything is written.
 */
import type { ArchiveEntry } from './listing.js';

export interface EntryProblem {
  path: string;
  why: string;
}

/** The archive path split into its components (`/` and, for archives made on Windows, `\`). */
export function pathParts(p: string): string[] {
  return p.split(/[\\/]+/).filter((x) => x !== '' && x !== '.');
}

/**
 * Every reason not to extract these entries:
 * - an absolute path (`/etc/x`, `C:\x`, `\\server\x`) or a `..` component: it would land outside the target;
 * - a path that goes through an entry that is a link (`evil -> /etc` then `evil/passwd`): the file would be
 *   written wherever the link points;
 * - the same path twice (a link then a file of that name: the file could be written through the link);
 * - an empty name or a NUL character.
 * An empty list means the names are safe; link TARGETS still need checking after extraction.
 */
export function checkEntries(entries: ArchiveEntry[]): EntryProblem[] {
  const problems: EntryProblem[] = [];
  const links = new Set<string>();
  const seen = new Set<string>();
  for (const e of entries) if (e.kind === 'symlink') links.add(pathParts(e.path).join('/'));
  for (const e of entries) {
    const raw = e.path;
    if (raw.includes('\0')) {
      problems.push({ path: raw, why: 'the name contains a NUL character' });
      continue;
    }
    if (/^([\\/]|[A-Za-z]:)/.test(raw)) {
      problems.push({ path: raw, why: 'it is an absolute path' });
      continue;
    }
    const parts = pathParts(raw);
    if (parts.length === 0) {
      problems.push({ path: raw, why: 'it has an empty name' });
      continue;
    }
    if (parts.includes('..')) {
      problems.push({ path: raw, why: 'it contains ".." and would be written outside the folder' });
      continue;
    }
    const key = parts.join('/');
    if (seen.has(key)) problems.push({ path: raw, why: 'the archive holds this path twice' });
    seen.add(key);
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (links.has(prefix)) {
        problems.push({ path: raw, why: `it would be written through the link ${prefix}` });
        break;
      }
    }
  }
  return problems;
}

export type LinkVerdict = 'keep' | 'absolute' | 'escapes' | 'dangling-outside';

/**
 * Whether an extracted link may stay. `resolved` is realpath() of the link (undefined when it dangles or loops),
 * `rootReal` realpath() of the folder being extracted into, `lexical` the target joined to the link's folder
 * without following anything. Links with absolute targets never stay (7-Zip ≥ 21 re-roots them under the output
 * folder, p7zip keeps them as they are: either way they would not point into the share once moved). A dangling
 * link stays only when its target is relative, free of `..` and lexically inside.
 */
export function judgeLink(
  target: string,
  resolved: string | undefined,
  rootReal: string,
  lexical: string,
  inside: (child: string, parent: string) => boolean,
): LinkVerdict {
  if (/^([\\/]|[A-Za-z]:)/.test(target)) return 'absolute';
  if (resolved !== undefined) return inside(resolved, rootReal) ? 'keep' : 'escapes';
  return !pathParts(target).includes('..') && inside(lexical, rootReal) ? 'keep' : 'dangling-outside';
}
