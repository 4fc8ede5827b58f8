import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sevenBin from '7zip-bin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSevenZip } from '../../src/archive/find.js';
import { QshareError } from '../../src/errors.js';

describe('findSevenZip (real binaries)', () => {
  let dir: string;
  let p7zip: string; // a 0644 copy of 7zip-bin's 7za
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qshare-find-int-'));
    p7zip = join(dir, 'pkg-7za');
    await copyFile(sevenBin.path7za, p7zip);
    await chmod(p7zip, 0o644);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const missing = async (p: Promise<unknown>, text: RegExp) => {
    const e = await p.then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(QshareError);
    expect((e as QshareError).code).toBe('SEVENZIP_MISSING');
    expect((e as QshareError).message).toMatch(text);
    expect((e as QshareError).hint).toMatch(/sudo apt install 7zip/);
  };

  it('runs a 7-Zip once to read its version, then remembers it until the binary changes', async () => {
    const bin = join(dir, 'counting-bin');
    await mkdir(bin, { recursive: true });
    const runs = join(dir, 'counting-runs');
    const script = join(bin, '7zz');
    const write = (version: string) =>
      writeFile(
        script,
        `#!/bin/sh\necho run >> '${runs}'\necho '7-Zip (z) ${version} (x64) : Copyright (c) 1999-2026 Igor Pavlov'\n`,
        { mode: 0o755 },
      );
    await write('26.02');
    const cacheDir = join(dir, 'c-count');
    const find = () => findSevenZip({ cacheDir, env: { PATH: bin } });
    const count = async () => (await readFile(runs, 'utf8')).split('\n').filter(Boolean).length;
    expect((await find()).version).toBe('26.02');
    expect((await find()).version).toBe('26.02');
    expect(await count()).toBe(1);
    // another binary at the same path (an upgrade): probed again
    await write('26.03');
    await utimes(script, new Date(), new Date(Date.now() + 5_000));
    expect((await find()).version).toBe('26.03');
    expect(await count()).toBe(2);
    // an unreadable cache is only not used
    await writeFile(join(cacheDir, '7zip-banners.json'), '{nope');
    expect((await find()).version).toBe('26.03');
    expect(await count()).toBe(3);
  });

  it('prefers 7zz on PATH and reads its version', async () => {
    const sz = await findSevenZip({
      cacheDir: join(dir, 'c1'),
      env: { PATH: '/nonexistent:/usr/bin' },
      bundled: p7zip,
    });
    expect(sz).toEqual({
      path: '/usr/bin/7zz',
      flavour: '7zz',
      version: expect.stringMatching(/^2\d\.\d\d$/),
      legacy: false,
    });
  });

  it('takes a modern `7z`, skips a p7zip `7z`, then falls back to the bundled 7za made executable', async () => {
    const modern = join(dir, 'modern');
    await mkdir(modern);
    await symlink('/usr/bin/7zz', join(modern, '7z'));
    expect(await findSevenZip({ cacheDir: join(dir, 'c2'), env: { PATH: modern }, bundled: p7zip })).toMatchObject({
      path: join(modern, '7z'),
      flavour: '7z',
      legacy: false,
    });

    const old = join(dir, 'old');
    await mkdir(old);
    await copyFile(sevenBin.path7za, join(old, '7z'));
    await chmod(join(old, '7z'), 0o755);
    const sz = await findSevenZip({ cacheDir: join(dir, 'c3'), env: { PATH: old }, bundled: p7zip });
    expect(sz).toEqual({ path: p7zip, flavour: '7za', version: '16.02', legacy: true });
    expect((await stat(p7zip)).mode & 0o111).not.toBe(0);
  });

  it('a configured path wins, and must work (no silent fallback)', async () => {
    expect(
      await findSevenZip({ configured: p7zip, cacheDir: join(dir, 'c4'), env: { PATH: '/usr/bin' } }),
    ).toMatchObject({ path: p7zip, flavour: '7za', legacy: true });
    await missing(
      findSevenZip({ configured: join(dir, 'no-such-7zz'), cacheDir: join(dir, 'c5'), env: { PATH: '/usr/bin' } }),
      /configured 7-Zip .* cannot be run/,
    );
    await missing(
      findSevenZip({ configured: '/bin/true', cacheDir: join(dir, 'c6'), env: { PATH: '/usr/bin' } }),
      /does not look like 7-Zip/,
    );
  });

  it('with nothing on PATH and no `bundled` given, loads npm 7zip-bin then and takes its 7za', async () => {
    const cache = join(dir, 'c8');
    const sz = await findSevenZip({ cacheDir: cache, env: { PATH: '' } });
    expect(sz).toMatchObject({ flavour: '7za', version: '16.02', legacy: true });
    // made executable in place, or (read-only install) a copy in the cache folder
    expect(sz.path === sevenBin.path7za || sz.path.startsWith(`${cache}/`), sz.path).toBe(true);
  });

  it('nothing found → SEVENZIP_MISSING telling how to install', async () => {
    await missing(
      findSevenZip({ cacheDir: join(dir, 'c7'), env: { PATH: '' }, bundled: join(dir, 'gone') }),
      /not found/,
    );
  });
});
