import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type TreeEntry =
  { type: 'dir' } | { type: 'file'; sha1: string; size: number } | { type: 'link'; target: string };

/** A map of every path below root (relative) to what it is: the byte-for-byte description of a tree. */
export async function snapshot(root: string): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {};
  const walk = async (dir: string, rel: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(p);
      if (st.isSymbolicLink()) out[r] = { type: 'link', target: await readlink(p) };
      else if (st.isDirectory()) {
        out[r] = { type: 'dir' };
        await walk(p, r);
      } else
        out[r] = {
          type: 'file',
          size: st.size,
          sha1: createHash('sha1')
            .update(await readFile(p))
            .digest('hex'),
        };
    }
  };
  await walk(root, '');
  return out;
}

/**
 * The awkward folder issue #2 asks for: nested dirs, an empty dir, non-ASCII and space names, a file whose name
 * starts with `-`, a folder named like a 7-Zip switch, and a symlink (relative, inside the tree) plus one pointing
 * outside it.
 */
export async function makeAwkwardTree(root: string, outsideFile: string, bigBytes = 3 * 1024 * 1024): Promise<void> {
  await mkdir(join(root, 'a/b/c'), { recursive: true });
  await mkdir(join(root, 'empty dir'), { recursive: true });
  await mkdir(join(root, '-sdel'), { recursive: true });
  await writeFile(join(root, 'a/b/c/deep.txt'), 'deep\n');
  await writeFile(join(root, 'Fotos été 🎉.txt'), 'non-ascii\n');
  await writeFile(join(root, 'with space.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251)));
  await writeFile(join(root, '-rf'), 'not a switch\n');
  await writeFile(join(root, '-sdel/inside.txt'), 'still here\n');
  await writeFile(join(root, 'big.dat'), pseudoRandom(bigBytes));
  await symlink('a/b/c/deep.txt', join(root, 'link-to-deep'));
  await symlink(outsideFile, join(root, 'link-outside'));
}

/** Incompressible, deterministic bytes. */
export function pseudoRandom(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
