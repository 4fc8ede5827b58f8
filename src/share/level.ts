/**
 * `--level auto`: pick the 7-Zip level from a sample of the data. Photos, video and archives do not compress: 7-Zip
 * at any level > 0 makes them slightly BIGGER and is 15–40× slower than store (docs/7zip.md), so they get
 * store (0). Data that does compress (text, logs, raw images, databases) gets the fast level (1). The estimate:
 * a few MB read at points spread evenly over all the bytes, each chunk compressed with zlib deflate level 1.
 */
import { open } from 'node:fs/promises';
import { deflateRawSync } from 'node:zlib';
import { QshareError } from '../errors.js';

export const STORE_LEVEL = 0;
export const FAST_LEVEL = 1;
/** compress only when the sample shrinks to less than this fraction: below 10 % saved, store is worth more */
export const COMPRESS_BELOW_RATIO = 0.9;
export const SAMPLE_CHUNK_BYTES = 64 * 1024;
export const SAMPLE_CHUNKS = 64;
/** with many small files, more (smaller) reads, but never more than this many */
export const MAX_SAMPLE_READS = 512;

export interface LevelChoice {
  level: number;
  /** compressed / sampled bytes of the sample (1 = incompressible); null when nothing was sampled */
  sampleRatio: number | null;
  sampledBytes: number;
  /** one line saying what was chosen and why */
  reason: string;
}

/** The decision, from how well the sample compressed. Pure. */
export function chooseLevel(sampledBytes: number, compressedBytes: number): LevelChoice {
  if (sampledBytes <= 0)
    return { level: STORE_LEVEL, sampleRatio: null, sampledBytes: 0, reason: 'nothing to sample: store (level 0)' };
  const ratio = compressedBytes / sampledBytes;
  const pct = `${(ratio * 100).toFixed(1)} %`;
  return ratio < COMPRESS_BELOW_RATIO
    ? {
        level: FAST_LEVEL,
        sampleRatio: ratio,
        sampledBytes,
        reason: `a sample compresses to ${pct} of its size: fast compression (level ${FAST_LEVEL})`,
      }
    : {
        level: STORE_LEVEL,
        sampleRatio: ratio,
        sampledBytes,
        reason: `a sample compresses only to ${pct} of its size (media or already compressed): store (level ${STORE_LEVEL}), the fastest`,
      };
}

export interface SampleRead {
  /** index into the file list */
  file: number;
  offset: number;
  length: number;
}

/**
 * Where to read: reads of up to `chunkBytes`, centred on evenly spaced points of the concatenation of all files (so
 * every large file is sampled in proportion to its size, and small files together as much as their bytes weigh),
 * each clipped to its file. About chunks × chunkBytes in all: `chunks` points, or, when the files are smaller than
 * a chunk on average, more points (at most MAX_SAMPLE_READS). Small inputs in few files are read whole. Pure.
 */
export function planSample(
  sizes: readonly number[],
  chunks = SAMPLE_CHUNKS,
  chunkBytes = SAMPLE_CHUNK_BYTES,
): SampleRead[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const plan: SampleRead[] = [];
  if (total === 0) return plan;
  const budget = chunks * chunkBytes;
  const nonEmpty = sizes.filter((s) => s > 0).length;
  if (total <= budget && Math.ceil(total / chunkBytes) + nonEmpty <= MAX_SAMPLE_READS) {
    sizes.forEach((s, i) => {
      for (let off = 0; off < s; off += chunkBytes)
        plan.push({ file: i, offset: off, length: Math.min(chunkBytes, s - off) });
    });
    return plan;
  }
  const average = total / nonEmpty;
  const points =
    average >= chunkBytes ? chunks : Math.min(MAX_SAMPLE_READS, Math.max(chunks, Math.ceil(budget / average)));
  let file = 0;
  let fileStart = 0;
  for (let k = 0; k < points; k++) {
    const point = Math.floor(((k + 0.5) * total) / points);
    while (fileStart + (sizes[file] as number) <= point) fileStart += sizes[file++] as number;
    const size = sizes[file] as number;
    const length = Math.min(chunkBytes, size);
    const offset = Math.max(0, Math.min(point - fileStart - Math.floor(length / 2), size - length));
    const last = plan.at(-1);
    // two points in one small file would read the same bytes twice
    if (last && last.file === file && last.offset === offset) continue;
    plan.push({ file, offset, length });
  }
  return plan;
}

/**
 * Reads the planned sample of `files` and decides. A file that cannot be read here is simply not sampled (the
 * archive step reports it properly).
 */
export async function sampleAndChooseLevel(
  files: readonly { absPath: string; length: number }[],
  signal?: AbortSignal,
): Promise<LevelChoice> {
  const plan = planSample(files.map((f) => f.length));
  // one buffer holding the whole sample, compressed as one stream (as 7-Zip compresses across files)
  const sample = Buffer.allocUnsafe(plan.reduce((n, r) => n + r.length, 0));
  let sampled = 0;
  let i = 0;
  while (i < plan.length) {
    if (signal?.aborted) throw new QshareError('INTERRUPTED', 'interrupted; nothing was left behind');
    const fileIndex = (plan[i] as SampleRead).file;
    const f = files[fileIndex] as { absPath: string };
    const fh = await open(f.absPath, 'r').catch(() => null);
    for (; i < plan.length && (plan[i] as SampleRead).file === fileIndex; i++) {
      const r = plan[i] as SampleRead;
      if (!fh) continue;
      const { bytesRead } = await fh.read(sample, sampled, r.length, r.offset).catch(() => ({ bytesRead: 0 }));
      sampled += bytesRead;
    }
    await fh?.close();
  }
  return chooseLevel(sampled, sampled === 0 ? 0 : deflateRawSync(sample.subarray(0, sampled), { level: 1 }).length);
}
