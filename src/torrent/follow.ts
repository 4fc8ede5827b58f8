/**
 * Hashing a single file while another process writes it front to back (7-Zip making the archive). Every piece but
 * the first is hashed as soon as the file has grown past its end; the first piece, and whatever is left, once the
 * writer is done (`finish`). The bytes are read back from the page cache the writer just filled.
 *
 * This is sound only for writers that never go back, except over the first piece: 7zz writes the archive
 * sequentially and at the end rewrites bytes 8–31 only (docs/7zip.md). The follower checks what it can see:
 * the file never shrinks, it is the same file (device + inode) at the end, and at the end it re-reads one piece
 * hashed early and one hashed late and compares them. Anything odd → `finish` returns `{ ok: false, reason }` and
 * the caller hashes the finished file normally. The caller decides which writers qualify (archive flavour) and
 * checks the file's own layout.
 */
import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';

export interface FollowOptions {
  /** chosen before the final size is known */
  pieceLength: number;
  /** how often to look at the file's size while there is nothing to hash; default 20 ms */
  pollMs?: number;
  /** the one reused read buffer (whole pieces are read several at a time into it); default 4 MiB */
  maxReadBytes?: number;
}

export interface FollowedFile {
  ok: true;
  /** concatenated SHA-1 digests, one per piece of the finished file */
  pieces: Buffer;
  pieceLength: number;
  length: number;
  /** identity of the hashed file, to check it is still the same before using the pieces */
  dev: number;
  ino: number;
  mtimeMs: number;
  /** bytes hashed before the writer finished (the work hidden behind it) */
  hashedWhileWriting: number;
}

export type FollowResult = FollowedFile | { ok: false; reason: string };

const DEFAULT_MAX_READ = 4 * 1024 * 1024;

export class GrowingFileHasher {
  private readonly pieceLength: number;
  private readonly pollMs: number;
  private readonly buf: Buffer;
  private readonly digests: Buffer[] = [];
  private path: string | undefined;
  private fh: FileHandle | undefined;
  /** the next piece to hash while following (piece 0 waits for the end) */
  private next = 1;
  private lastSize = 0;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private problem: string | undefined;
  private hashedWhileWriting = 0;

  constructor(o: FollowOptions) {
    if (!Number.isSafeInteger(o.pieceLength) || o.pieceLength <= 0)
      throw new Error(`invalid piece length: ${o.pieceLength}`);
    this.pieceLength = o.pieceLength;
    this.pollMs = o.pollMs ?? 20;
    const max = o.maxReadBytes ?? DEFAULT_MAX_READ;
    // a whole number of pieces when they fit: fewer, bigger reads (half the kernel time of one read per 512 KiB piece)
    this.buf = Buffer.allocUnsafe(o.pieceLength <= max ? Math.floor(max / o.pieceLength) * o.pieceLength : max);
  }

  /** Starts following `path` (it may not exist yet). Call once. */
  follow(path: string): void {
    if (this.loop) throw new Error('GrowingFileHasher.follow called twice');
    this.path = path;
    this.loop = this.run().catch((e: unknown) => {
      this.problem ??= `reading it while it was written failed: ${e instanceof Error ? e.message : String(e)}`;
    });
  }

  /**
   * The writer has finished and the file is now at `finalPath` (the same inode, possibly renamed). Hashes what is
   * left, re-hashes piece 0, checks the file did not change behind us, and closes it. Never throws for a problem
   * with the file: it reports `{ ok: false }` so the caller can fall back to a plain hash.
   */
  async finish(finalPath: string): Promise<FollowResult> {
    await this.stopLoop();
    try {
      if (this.problem) return { ok: false, reason: this.problem };
      const fh = this.fh ?? (await open(finalPath, 'r'));
      this.fh = fh;
      const [st, published] = await Promise.all([fh.stat(), stat(finalPath)]);
      if (st.dev !== published.dev || st.ino !== published.ino)
        return { ok: false, reason: 'the finished file is not the one that was followed' };
      if (st.size < this.lastSize) return { ok: false, reason: `it shrank from ${this.lastSize} to ${st.size} bytes` };
      const count = Math.ceil(st.size / this.pieceLength);
      if (count === 0) return { ok: false, reason: 'it is empty' };
      if (this.next < count) this.next += await this.hashRun(fh, this.next, count - this.next, st.size);
      this.digests[0] = await this.hashPiece(fh, 0, st.size);
      // the assumption, checked where a writer that goes back would most likely have done it: the first piece hashed
      // while following, and the last one hashed while following (next to where the writer was)
      for (const p of new Set([1, this.followedUpTo - 1])) {
        if (
          p >= 1 &&
          p < this.followedUpTo &&
          !(await this.hashPiece(fh, p, st.size)).equals(this.digests[p] as Buffer)
        ) {
          return { ok: false, reason: `piece ${p} changed after it was hashed` };
        }
      }
      const after = await fh.stat();
      if (after.size !== st.size || after.mtimeMs !== st.mtimeMs)
        return { ok: false, reason: 'it changed while the last pieces were hashed' };
      return {
        ok: true,
        pieces: Buffer.concat(this.digests.slice(0, count)),
        pieceLength: this.pieceLength,
        length: st.size,
        dev: st.dev,
        ino: st.ino,
        mtimeMs: st.mtimeMs,
        hashedWhileWriting: this.hashedWhileWriting,
      };
    } catch (e) {
      return { ok: false, reason: `reading the finished file failed: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      await this.close();
    }
  }

  /** The writer failed or the run was interrupted: stop reading and close the file. */
  async cancel(): Promise<void> {
    await this.stopLoop();
    await this.close();
  }

  /** pieces [1, followedUpTo) were hashed while the writer was still writing */
  private followedUpTo = 1;

  private async run(): Promise<void> {
    const path = this.path as string;
    while (!this.stopping) {
      if (!this.fh) {
        try {
          this.fh = await open(path, 'r');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          await this.sleep();
          continue;
        }
      }
      const { size } = await this.fh.stat();
      if (size < this.lastSize) {
        this.problem = `it shrank from ${this.lastSize} to ${size} bytes while it was written`;
        return;
      }
      this.lastSize = size;
      const complete = Math.floor(size / this.pieceLength) - this.next;
      if (complete > 0) {
        const n = await this.hashRun(this.fh, this.next, Math.min(complete, this.piecesPerRead), size);
        this.hashedWhileWriting += n * this.pieceLength;
        this.next += n;
        this.followedUpTo = this.next;
        continue;
      }
      await this.sleep();
    }
  }

  private get piecesPerRead(): number {
    return Math.max(1, Math.floor(this.buf.length / this.pieceLength));
  }

  /**
   * Hashes pieces first … first+count-1 (the last may be the file's short last piece) into `digests`, reading as
   * many whole pieces at once as the buffer holds. Returns count.
   */
  private async hashRun(fh: FileHandle, first: number, count: number, size: number): Promise<number> {
    const per = this.piecesPerRead;
    if (per === 1) {
      for (let p = first; p < first + count; p++) this.digests[p] = await this.hashPiece(fh, p, size);
      return count;
    }
    for (let p = first; p < first + count;) {
      const k = Math.min(per, first + count - p);
      const start = p * this.pieceLength;
      const want = Math.min(k * this.pieceLength, size - start);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(this.buf, got, want - got, start + got);
        if (bytesRead === 0) throw new Error(`it shrank: nothing to read at byte ${start + got}`);
        got += bytesRead;
      }
      for (let i = 0; i < k; i++) {
        const from = i * this.pieceLength;
        this.digests[p + i] = createHash('sha1')
          .update(this.buf.subarray(from, Math.min(from + this.pieceLength, want)))
          .digest();
      }
      p += k;
    }
    return count;
  }

  private async hashPiece(fh: FileHandle, p: number, size: number): Promise<Buffer> {
    const h = createHash('sha1');
    let pos = p * this.pieceLength;
    const end = Math.min(pos + this.pieceLength, size);
    while (pos < end) {
      const { bytesRead } = await fh.read(this.buf, 0, Math.min(this.buf.length, end - pos), pos);
      if (bytesRead === 0) throw new Error(`it shrank: nothing to read at byte ${pos}`);
      h.update(this.buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return h.digest();
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, this.pollMs);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async stopLoop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => {});
  }
}
