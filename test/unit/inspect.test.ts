import { chmod, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveBytesNeeded, checkFreeSpace, inspectSource, isInside } from '../../src/share/inspect.js';

async function tree() {
  const root = await mkdtemp(join(tmpdir(), 'qshare-inspect-'));
  const data = join(root, 'data');
  await mkdir(data);
  const src = join(root, 'photos');
  await mkdir(join(src, 'a', 'empty'), { recursive: true });
  await writeFile(join(src, 'a', 'x.jpg'), Buffer.alloc(1000));
  await writeFile(join(src, 'y.txt'), 'hello');
  await symlink('/etc/hostname', join(src, 'link'));
  return { root, data, src };
}

describe('inspectSource', () => {
  it('counts files, folders and links without following links', async () => {
    const { data, src } = await tree();
    const info = await inspectSource(src, data);
    expect(info).toMatchObject({ kind: 'dir', totalBytes: 1005, fileCount: 2, dirCount: 2, linkCount: 1 });
  });
  it.each([
    ['missing', (t: { root: string }) => join(t.root, 'nope'), /does not exist/],
    ['an empty folder', async (t: { root: string }) => { const p = join(t.root, 'e'); await mkdir(join(p, 'sub'), { recursive: true }); return p; }, /is empty/],
    ['an empty file', async (t: { root: string }) => { const p = join(t.root, 'z'); await writeFile(p, ''); return p; }, /is empty \(0 bytes\)/],
    ['inside the data folder', async (t: { data: string }) => { const p = join(t.data, 'x'); await writeFile(p, 'x'); return p; }, /inside qshare's own data folder/],
    ['containing the data folder', (t: { root: string }) => t.root, /contains qshare's own data folder/],
  ])('refuses %s', async (_what, make, re) => {
    const t = await tree();
    const p = await make(t as never);
    await expect(inspectSource(p, t.data)).rejects.toThrow(re);
  });
  it.skipIf(process.getuid?.() === 0)('refuses an unreadable file', async () => {
    const t = await tree();
    await chmod(join(t.src, 'y.txt'), 0);
    await expect(inspectSource(t.src, t.data)).rejects.toThrow(/cannot be read/);
  });
});

describe('free space', () => {
  it('adds room for headers', () => {
    expect(archiveBytesNeeded(0)).toBe(16 * 1024 * 1024);
    expect(archiveBytesNeeded(1e9)).toBe(1.01e9 + 16 * 1024 * 1024);
  });
  it('refuses when the disk is too small, with both numbers', async () => {
    await expect(checkFreeSpace(tmpdir(), Number.MAX_SAFE_INTEGER, 'the archive')).rejects.toThrow(/not enough free space for the archive: it needs about .* which has .* free/);
    await expect(checkFreeSpace(tmpdir(), 1, 'the archive')).resolves.toBeUndefined();
  });
});

describe('isInside', () => {
  it.each([
    ['/a/b', '/a', true],
    ['/a', '/a', true],
    ['/ab', '/a', false],
    ['/a/../b', '/a', false],
  ])('%s in %s → %s', (c, p, r) => expect(isInside(c, p)).toBe(r));
});
