/**
 * The benchmark's own data, generated once per size and reused (a manifest records what was made):
 * - `10 files`: incompressible (AES-CTR keystream, like photos or video), the size split over 10 files;
 * - `2000 files`: the same amount in 2,000 files in 20 folders;
 * - `text`: a smaller, compressible set (random words, about 3.5:1 with 7-Zip);
 * - `sparse`: one sparse file (only holes), for the memory check on a very large input;
 * - `100,000 files`: 100,000 small files (1 KiB) in 100 folders, for the memory check on a very long file list.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DataSets {
  files10: string;
  files2000: string;
  /** 100,000 files of 1 KiB */
  small: string;
  text: string;
  /** a folder holding one sparse file */
  sparse: string;
}

export interface DataSizes {
  size: number;
  textSize: number;
  sparseSize: number;
}

async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(4 * 1024 * 1024);
  const fh = await open(path, 'w');
  try {
    for (let left = bytes; left > 0;) {
      const n = Math.min(left, zeros.length);
      await fh.write(cipher.update(zeros.subarray(0, n)));
      left -= n;
    }
  } finally {
    await fh.close();
  }
}

const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not ' +
  'what all were we when your can said there use an each which she do how their if will up other about out many then ' +
  'them these so some her would make like him into time has look two more write go see number no way could people my ' +
  'than first water been call who oil its now find long down day did get come made may part archive torrent folder'
).split(' ');

async function writeTextFile(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let left = bytes; left > 0;) {
      const r = randomBytes(256 * 1024);
      let s = '';
      for (let i = 0; i < r.length && s.length < Math.min(left, 1 << 20); i++)
        s += (WORDS[r[i]! % WORDS.length] as string) + (r[i]! % 11 === 0 ? '.\n' : ' ');
      const chunk = Buffer.from(s.slice(0, Math.min(left, s.length)));
      await fh.write(chunk);
      left -= chunk.length;
    }
  } finally {
    await fh.close();
  }
}

/** Makes (or reuses) the sets under `dir` for these sizes. */
export async function prepareData(dir: string, sizes: DataSizes, log: (s: string) => void): Promise<DataSets> {
  const sets: DataSets = {
    files10: join(dir, 'set-10-files'),
    files2000: join(dir, 'set-2000-files'),
    small: join(dir, 'set-100k-files'),
    text: join(dir, 'set-text'),
    sparse: join(dir, 'set-sparse'),
  };
  const manifest = join(dir, 'manifest.json');
  const want = JSON.stringify({ ...sizes, layout: 2 });
  if ((await readFile(manifest, 'utf8').catch(() => '')) === want) return sets;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  log(`generating benchmark data in ${dir} …`);
  await mkdir(sets.files10);
  const per10 = Math.floor(sizes.size / 10);
  for (let i = 0; i < 10; i++)
    await writeRandomFile(join(sets.files10, `video-${String(i).padStart(2, '0')}.mp4`), per10);
  const per2000 = Math.floor(sizes.size / 2000);
  for (let d = 0; d < 20; d++) {
    const sub = join(sets.files2000, `day-${String(d).padStart(2, '0')}`);
    await mkdir(sub, { recursive: true });
    for (let i = 0; i < 100; i++)
      await writeRandomFile(join(sub, `IMG_${String(d * 100 + i).padStart(4, '0')}.jpg`), per2000);
  }
  await mkdir(sets.text);
  const perText = Math.floor(sizes.textSize / 8);
  for (let i = 0; i < 8; i++) await writeTextFile(join(sets.text, `log-${i}.txt`), perText);
  await mkdir(sets.sparse);
  const sparseFile = join(sets.sparse, 'disk-image.raw');
  await writeFile(sparseFile, '');
  await truncate(sparseFile, sizes.sparseSize);
  const kib = randomBytes(1024);
  for (let d = 0; d < 100; d++) {
    const sub = join(sets.small, `folder-${String(d).padStart(3, '0')}`);
    await mkdir(sub, { recursive: true });
    for (let i = 0; i < 1000; i++) await writeFile(join(sub, `note-${String(i).padStart(4, '0')}.txt`), kib);
  }
  await writeFile(manifest, want);
  return sets;
}
