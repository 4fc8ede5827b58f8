import { isAbsolute, relative, sep } from 'node:path';

/** Whether `child` is `parent` or lies below it (pure, on resolved paths; no link is followed). */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
