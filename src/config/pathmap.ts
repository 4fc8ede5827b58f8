import { posix, win32 } from 'node:path';

/**
 * Turns a local path into the path qBittorrent sees, by the longest matching prefix of `pathMap`
 * (`{"/home/me/.local/share/qshare": "/downloads/qshare"}`). A path no prefix matches is returned unchanged.
 */
export function mapPath(localPath: string, pathMap: Record<string, string>): string {
  let best: [string, string] | undefined;
  for (const [from, to] of Object.entries(pathMap)) {
    const f = stripSlash(from);
    if (localPath === f || localPath.startsWith(f + '/') || localPath.startsWith(f + '\\')) {
      if (!best || f.length > best[0].length) best = [f, to];
    }
  }
  if (!best) return localPath;
  const rest = localPath.slice(best[0].length).replace(/^[\\/]+/, '');
  const target = best[1];
  const useWin = /^[A-Za-z]:[\\/]/.test(target) || target.includes('\\');
  if (rest === '') return target;
  return useWin ? win32.join(target, ...rest.split(/[\\/]/)) : posix.join(target, ...rest.split(/[\\/]/));
}

function stripSlash(p: string): string {
  return p.length > 1 ? p.replace(/[\\/]+$/, '') : p;
}
