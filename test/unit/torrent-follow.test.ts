/**
 * GrowingFileHasher with a writer we control: it hashes pieces while the file grows, piece 0 at the end, and says
 * "not ok" (so the caller re-hashes) whenever what it saw does not fit a front-to-back writer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrowingFileHasher, type FollowedFile } from '../../src/torrent/follow.js';

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'qshare-follow-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const L = 16384;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function reference(file: string): Buffer {
  const all = readFileSync(file);
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += L)
    out.push(
      createHash('sha1')
        .update(all.subarray(i, i + L))
        .digest(),
    );
  return Buffer.concat(out);
}

/** writes `data` front to back in `chunk`-byte writes with a pause between, like 7-Zip; returns the handle */
async function writeSlowly(fh: FileHandle, data: Buffer, chunk: number, pauseMs: number, from = 0): Promise<void> {
  for (let pos = from; pos < data.length; pos += chunk) {
    await fh.write(data, pos, Math.min(chunk, data.length - pos), pos);
    await sleep(pauseMs);
  }
}

describe('GrowingFileHasher', () => {
  // reads of many pieces at once (default), of 3 pieces, and of less than a piece
  it.each([undefined, 3 * L, 5000])(
    'a 7-Zip-like writer (32 bytes, then front to back, then bytes 8–31 rewritten): ok, pieces = a plain hash of the final file (reads ≤ %s)',
    async (maxReadBytes) => {
      const partial = path.join(dir, `p${n++}`);
      const final = `${partial}.published`;
      const data = randomBytes(40 * L + 123);
      const h = new GrowingFileHasher({ pieceLength: L, pollMs: 2, ...(maxReadBytes ? { maxReadBytes } : {}) });
      h.follow(partial);
      await sleep(10); // the file does not exist yet: the hasher waits for it
      const fh = await open(partial, 'wx');
      await fh.write(Buffer.alloc(32), 0, 32, 0);
      await writeSlowly(fh, data, 3 * L, 3, 32);
      await fh.write(randomBytes(24), 0, 24, 8); // the final header rewrite
      await fh.close();
      renameSync(partial, final); // published under its final name: same inode
      const r = await h.finish(final);
      expect(r.ok, JSON.stringify(r)).toBe(true);
      const f = r as FollowedFile;
      expect(f.pieces.equals(reference(final))).toBe(true);
      expect(f.length).toBe(data.length);
      expect(f.hashedWhileWriting).toBeGreaterThan(10 * L);
    },
  );

  it('finish before the file was ever seen: hashes the finished file', async () => {
    const final = path.join(dir, `p${n++}`);
    const h = new GrowingFileHasher({ pieceLength: L, pollMs: 1000 });
    h.follow(path.join(dir, 'never-appears'));
    const fh = await open(final, 'wx');
    await fh.write(randomBytes(5 * L + 7));
    await fh.close();
    const r = await h.finish(final);
    expect(r.ok).toBe(true);
    expect((r as FollowedFile).pieces.equals(reference(final))).toBe(true);
  });

  it('a writer that goes back and rewrites piece 1 after it was hashed → not ok', async () => {
    const partial = path.join(dir, `p${n++}`);
    const data = randomBytes(30 * L);
    const h = new GrowingFileHasher({ pieceLength: L, pollMs: 1 });
    const fh = await open(partial, 'wx');
    h.follow(partial);
    await writeSlowly(fh, data, 2 * L, 3);
    await fh.write(randomBytes(100), 0, 100, L + 5000);
    await fh.close();
    const r = await h.finish(partial);
    expect(r).toEqual({ ok: false, reason: 'piece 1 changed after it was hashed' });
  });

  it('a file that shrinks while it is written → not ok', async () => {
    const partial = path.join(dir, `p${n++}`);
    const h = new GrowingFileHasher({ pieceLength: L, pollMs: 1 });
    const fh = await open(partial, 'wx');
    h.follow(partial);
    await writeSlowly(fh, randomBytes(10 * L), 2 * L, 5);
    await fh.truncate(3 * L);
    await sleep(20);
    await fh.close();
    const r = await h.finish(partial);
    expect(r.ok).toBe(false);
    expect((r as { reason: string }).reason).toMatch(/shrank/);
  });

  it('a different file published under the final name → not ok', async () => {
    const partial = path.join(dir, `p${n++}`);
    const other = path.join(dir, `p${n++}`);
    const h = new GrowingFileHasher({ pieceLength: L, pollMs: 1 });
    const fh = await open(partial, 'wx');
    h.follow(partial);
    await writeSlowly(fh, randomBytes(6 * L), 2 * L, 5);
    await fh.close();
    const o = await open(other, 'wx');
    await o.write(randomBytes(6 * L));
    await o.close();
    expect(await h.finish(other)).toEqual({ ok: false, reason: 'the finished file is not the one that was followed' });
  });

  it('cancel stops following and closes the file', async () => {
    const partial = path.join(dir, `p${n++}`);
    const h = new GrowingFileHasher({ pieceLength: L, pollMs: 1 });
    const fh = await open(partial, 'wx');
    h.follow(partial);
    await writeSlowly(fh, randomBytes(6 * L), 2 * L, 5);
    await h.cancel();
    await fh.close();
  });
});
