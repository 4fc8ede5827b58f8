/**
 * Partial files of runs that died (SIGKILL, power loss): `.<name>.partial-<hex>` beside the file being written
 * (fsx/atomic.ts, archive/archive.ts). On start, `qshare watch` removes those that belong to it for certain (its own
 * journal's names, its own outbox and journal) and any older than an hour, which no live writer leaves untouched
 * that long (7-Zip and the atomic writer append continuously).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const PARTIAL = /^\.(.+)\.partial-[0-9a-f]+(\.\d{3,})?$/;

/** The final name a partial file stands for (`.x.7z.partial-ab12` → `x.7z`), or undefined if it is not one. */
export function partialTarget(fileName: string): string | undefined {
  return PARTIAL.exec(fileName)?.[1];
}

export interface LeftoverRule {
  dir: string;
  /** final names whose partials are ours for certain; `'*'` = every partial in this folder is ours */
  owned: ReadonlySet<string> | '*';
}

export async function cleanLeftovers(rules: LeftoverRule[], o: { now: number; staleMs?: number }): Promise<string[]> {
  const staleMs = o.staleMs ?? 60 * 60 * 1000;
  const removed: string[] = [];
  for (const rule of rules) {
    const names = await readdir(rule.dir).catch(() => [] as string[]);
    for (const n of names) {
      const target = partialTarget(n);
      if (target === undefined) continue;
      const p = join(rule.dir, n);
      let ours = rule.owned === '*' || rule.owned.has(target);
      if (!ours) {
        const st = await stat(p).catch(() => null);
        ours = st !== null && o.now - st.mtimeMs > staleMs;
      }
      if (ours) {
        await rm(p, { force: true, recursive: true });
        removed.push(p);
      }
    }
  }
  return removed;
}
