/**
 * Unpacking untrusted archives with both 7-Zips (7zz 26 and the bundled p7zip 16.02 7za, which recreates every link
 * as it is stored): crafted archives with escaping links and `../` / through-a-link paths are refused or
 * neutralised, and nothing is ever written outside the target. Archives are crafted with the real 7zz.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readlink, realpath, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sevenBin from '7zip-bin';
import { beforeAll, describe, expect, it } from 'vitest';
import { findSevenZip, type SevenZip } from '../../src/archive/find.js';
import { unpackArchive } from '../../src/archive/unpack.js';
import { QshareError } from '../../src/errors.js';
import { snapshot } from '../helpers/tree.js';

const have7zz = existsSync('/usr/bin/7zz');
const PASSWORD = 'crafted archive password';

function run(cmd: string, args: string[], cwd: string, input = ''): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code, out }));
    // 7-Zip may exit without reading its input (an archive without a password)
    p.stdin.on('error', () => {});
    p.stdin.end(input);
  });
}

/** 7zz a -snl; encrypted (-mhe=on, password on stdin) or not (7-Zip then never asks, whatever qshare sends). */
async function add(encrypt: boolean, cwd: string, archive: string, ...paths: string[]): Promise<void> {
  const pw = encrypt ? ['-mhe=on', '-p'] : [];
  const r = await run(
    '7zz',
    ['a', '-t7z', '-snl', ...pw, '-bso0', '-bsp0', '--', archive, ...paths],
    cwd,
    encrypt ? `${PASSWORD}\n` : '',
  );
  expect(r.code, r.out).toBe(0);
}

interface Crafted {
  dir: string;
  /** links: one inside (kept), one `../` out, one absolute, one that escapes only when the kernel follows another link */
  links: string;
  /** paths: a file written through a link to a folder outside, and a `../../` name */
  paths: string;
  victim: string;
  outsideFile: string;
}

async function craft(): Promise<Crafted> {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-craft-'));
  const victim = join(dir, 'victim');
  await mkdir(victim);
  const outsideFile = join(dir, 'outside.txt');
  await writeFile(outsideFile, 'outside\n');

  // links.7z: top/{d/f.txt, good -> d/f.txt, d/self -> .., up -> ../../outside.txt, abs -> <outsideFile>, trick -> d/self/../../..}
  const l = join(dir, 'l');
  await mkdir(join(l, 'top/d'), { recursive: true });
  await writeFile(join(l, 'top/d/f.txt'), 'inside\n');
  await symlink('d/f.txt', join(l, 'top/good'));
  await symlink('..', join(l, 'top/d/self'));
  await symlink('../../outside.txt', join(l, 'top/up'));
  await symlink(outsideFile, join(l, 'top/abs'));
  await symlink('d/self/../../..', join(l, 'top/trick'));
  const links = join(dir, 'links.7z');
  await add(true, l, links, 'top');

  // paths.7z: evil -> <victim> (a link to a folder outside), then evil/pwned.txt, then ../../pwned.txt
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  await mkdir(a);
  await mkdir(join(b, 'evil'), { recursive: true });
  await symlink(victim, join(a, 'evil'));
  await writeFile(join(b, 'evil/pwned.txt'), 'pwned\n');
  await writeFile(join(b, 'up.txt'), 'pwned\n');
  const paths = join(dir, 'paths.7z');
  await add(false, a, paths, 'evil');
  await add(false, b, paths, 'evil/pwned.txt', 'up.txt');
  const rn = await run('7zz', ['rn', '-bso0', '-bsp0', '--', paths, 'up.txt', '../../pwned.txt'], dir);
  expect(rn.code, rn.out).toBe(0);
  return { dir, links, paths, victim, outsideFile };
}

const flavours: Array<{ name: string; make: (cache: string) => Promise<SevenZip> }> = [
  { name: '7zz', make: (cacheDir) => findSevenZip({ cacheDir, env: { PATH: '/usr/bin' } }) },
  {
    name: '7za (p7zip 16.02)',
    make: async (cacheDir) => {
      const copy = join(cacheDir, 'pkg', '7za');
      await mkdir(join(cacheDir, 'pkg'), { recursive: true });
      await copyFile(sevenBin.path7za, copy);
      await chmod(copy, 0o644);
      return findSevenZip({ cacheDir, env: { PATH: '' }, bundled: copy });
    },
  },
];

/** Every link under root resolves inside root, or dangles. */
async function linksStayInside(root: string): Promise<void> {
  const rootReal = await realpath(root);
  for (const [rel, e] of Object.entries(await snapshot(root))) {
    if (e.type !== 'link') continue;
    const real = await realpath(join(root, rel)).catch(() => null);
    if (real)
      expect(relative(rootReal, real).startsWith('..'), `${rel} -> ${await readlink(join(root, rel))}`).toBe(false);
  }
}

describe.skipIf(!have7zz).each(flavours)('unpacking crafted archives with $name', ({ name, make }) => {
  let sz: SevenZip;
  let c: Crafted;
  beforeAll(async () => {
    c = await craft();
    sz = await make(join(c.dir, `cache-${name.slice(0, 3)}`));
  });

  it('escaping links are left out; links inside are kept; nothing points outside the target', async () => {
    if (name.startsWith('7za')) {
      // the archive really is dangerous: p7zip on its own recreates the escaping links as stored
      const raw = join(c.dir, 'raw-7za');
      await run(sz.path, ['x', `-o${raw}`, '-y', '--', c.links], c.dir, `${PASSWORD}\n`);
      expect(await readlink(join(raw, 'top/up'))).toBe('../../outside.txt');
    }
    const target = join(c.dir, `out-links-${name.slice(0, 3)}`);
    const res = await unpackArchive({ sz, archivePath: c.links, password: PASSWORD, target, force: false });
    const removed = res.removed.map((r) => r.path).sort();
    const snap = await snapshot(target);
    expect(snap['top/good']).toEqual({ type: 'link', target: 'd/f.txt' });
    expect(snap['top/d/f.txt']).toMatchObject({ type: 'file', size: 7 });
    // both 7-Zips create the links as stored (7zz is given -snld), then qshare keeps the one that stays inside
    // (d/self -> ..) and removes the rest, including trick -> d/self/../../.., which looks inside when read as text
    // but escapes once the kernel follows d/self
    expect(removed).toEqual(['top/abs', 'top/trick', 'top/up']);
    // named by the target the archive holds, not the one 7-Zip wrote below the folder it unpacked into
    expect(res.removed.find((r) => r.path === 'top/abs')?.why).toBe(
      `a link to ${JSON.stringify(c.outsideFile)}, an absolute path`,
    );
    expect(snap['top/d/self']).toEqual({ type: 'link', target: '..' });
    expect(Object.keys(snap).sort()).toEqual(['top', 'top/d', 'top/d/f.txt', 'top/d/self', 'top/good']);
    await linksStayInside(target);
    expect((await readdir(target)).filter((n) => n.startsWith('.qshare-unpack'))).toEqual([]);
  });

  it('a `../` name or a file written through a link is refused before anything is written', async () => {
    const target = join(c.dir, `out-paths-${name.slice(0, 3)}`);
    const err = await unpackArchive({ sz, archivePath: c.paths, password: PASSWORD, target, force: true }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QshareError);
    expect((err as QshareError).code).toBe('ARCHIVE_UNSAFE');
    expect((err as QshareError).message).toContain('evil/pwned.txt');
    expect((err as QshareError).message).toContain('../../pwned.txt');
    expect(existsSync(target)).toBe(false);
    expect(await readdir(c.victim)).toEqual([]);
    expect(existsSync(join(c.dir, '..', 'pwned.txt'))).toBe(false);
  });

  it('refuses to overwrite what the target holds unless forced; a wrong password writes nothing', async () => {
    const target = join(c.dir, `out-force-${name.slice(0, 3)}`);
    await mkdir(join(target, 'top/d'), { recursive: true });
    await writeFile(join(target, 'top/d/f.txt'), 'mine\n');
    await writeFile(join(target, 'keep.txt'), 'untouched\n');
    const wrong = await unpackArchive({ sz, archivePath: c.links, password: 'nope', target, force: true }).catch(
      (e: unknown) => e,
    );
    expect((wrong as QshareError).code).toBe('WRONG_PASSWORD');
    const refused = await unpackArchive({ sz, archivePath: c.links, password: PASSWORD, target, force: false }).catch(
      (e: unknown) => e,
    );
    expect((refused as QshareError).code).toBe('INPUT');
    expect((refused as QshareError).message).toMatch(/already holds top\/d\/f\.txt; refusing to overwrite/);
    expect(Object.keys(await snapshot(target)).sort()).toEqual(['keep.txt', 'top', 'top/d', 'top/d/f.txt']);
    await unpackArchive({ sz, archivePath: c.links, password: PASSWORD, target, force: true });
    const snap = await snapshot(target);
    expect(snap['top/d/f.txt']).toMatchObject({ size: 7 });
    expect(snap['keep.txt']).toMatchObject({ type: 'file', size: 10 });
  });
});
