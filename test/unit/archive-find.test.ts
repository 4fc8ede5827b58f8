import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureExecutable, isLegacy, parseBanner, which } from '../../src/archive/find.js';

describe('parseBanner', () => {
  it.each([
    [
      '\n7-Zip (z) 26.02 (x64) : Copyright (c) 1999-2026 Igor Pavlov : 2026-06-25\n 64-bit locale=C.UTF-8',
      { version: '26.02', p7zip: false },
      false,
    ],
    [
      '7-Zip (a) 21.07 (x64) : Copyright (c) 1999-2021 Igor Pavlov : 2021-12-26',
      { version: '21.07', p7zip: false },
      false,
    ],
    ['7-Zip 23.01 (x64) : Copyright (c) 1999-2023 Igor Pavlov : 2023-06-20', { version: '23.01', p7zip: false }, false],
    [
      '\n7-Zip (a) [64] 16.02 : Copyright (c) 1999-2016 Igor Pavlov : 2016-05-21\np7zip Version 16.02 (locale=C.UTF-8,Utf16=on,HugeFiles=on,64 bits)',
      { version: '16.02', p7zip: true },
      true,
    ],
    [
      '7-Zip [64] 16.02 : Copyright (c) 1999-2016 Igor Pavlov : 2016-05-21\np7zip Version 16.02 (locale=en_US.UTF-8)',
      { version: '16.02', p7zip: true },
      true,
    ],
    ['7-Zip 9.20  Copyright (c) 1999-2010 Igor Pavlov  2010-11-18', { version: '9.20', p7zip: false }, true],
  ])('%j', (text, banner, legacy) => {
    const b = parseBanner(text);
    expect(b).toEqual(banner);
    expect(isLegacy(b!)).toBe(legacy);
  });

  it.each([[''], ['Usage: zip'], ['bash: 7zz: command not found']])('not 7-Zip: %j', (text) => {
    expect(parseBanner(text)).toBeNull();
  });
});

describe('ensureExecutable / which', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qshare-find-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a 0644 file executable in place', async () => {
    const f = join(dir, 'a', 'tool');
    await mkdir(join(dir, 'a'));
    await writeFile(f, '#!/bin/sh\n', { mode: 0o644 });
    expect(await ensureExecutable(f, join(dir, 'cache-a'))).toBe(f);
    expect((await stat(f)).mode & 0o111).not.toBe(0);
  });

  it('copies into the cache dir when chmod fails (read-only install), and reuses the copy', async () => {
    const f = join(dir, 'ro-tool');
    await writeFile(f, 'binary-bytes', { mode: 0o644 });
    const cache = join(dir, 'cache');
    const failingChmod = async (p: string, mode: number) => {
      if (p === f) throw Object.assign(new Error('EROFS'), { code: 'EROFS' });
      await chmod(p, mode);
    };
    const got = await ensureExecutable(f, cache, failingChmod);
    expect(got.startsWith(cache + '/')).toBe(true);
    expect(await readFile(got, 'utf8')).toBe('binary-bytes');
    expect((await stat(got)).mode & 0o111).not.toBe(0);
    expect((await stat(f)).mode & 0o111).toBe(0);
    expect(await ensureExecutable(f, cache, failingChmod)).toBe(got);
  });

  it('which: first executable match on PATH; skips non-executable files and directories', async () => {
    const d1 = join(dir, 'p1');
    const d2 = join(dir, 'p2');
    await mkdir(join(d1, '7zz'), { recursive: true }); // a directory named 7zz
    await mkdir(d2);
    await writeFile(join(d2, '7zz'), '', { mode: 0o755 });
    await writeFile(join(d1, '7z'), '', { mode: 0o644 });
    expect(await which('7zz', { PATH: `${d1}::${d2}` })).toBe(join(d2, '7zz'));
    expect(await which('7z', { PATH: `${d1}:${d2}` })).toBeNull();
    expect(await which('7zz', {})).toBeNull();
  });
});
