import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, copyFile, mkdir, readFile, rename, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { QshareError } from '../errors.js';
import { writeFileAtomic } from '../fsx/atomic.js';

/**
 * A 7-Zip binary that was found and run once.
 * - `flavour`: where it came from — `7zz` (modern 7-Zip's Linux name), `7z` (a `7z` on PATH reporting ≥ 21),
 *   `7za` (npm 7zip-bin's bundled p7zip, or any p7zip). For a configured path it says how the binary behaves.
 * - `legacy`: p7zip 16.02 (or any 7-Zip < 21): asks for a new password twice, has no `-sse`, recreates links as-is.
 */
export interface SevenZip {
  path: string;
  flavour: '7zz' | '7z' | '7za';
  version: string;
  legacy: boolean;
}

export interface Banner {
  version: string;
  p7zip: boolean;
}

const INSTALL_HINT =
  'Install 7-Zip: Debian/Ubuntu `sudo apt install 7zip` (gives 7zz), Fedora `sudo dnf install 7zip`, ' +
  'Arch `sudo pacman -S 7zip`, macOS `brew install sevenzip`; or set "sevenZip" in the config to the path of a 7zz binary.';

/**
 * Reads the version out of 7-Zip's banner, e.g. `7-Zip (z) 26.02 (x64) : Copyright …`,
 * `7-Zip (a) [64] 16.02 : …` + `p7zip Version 16.02 (…)`, `7-Zip 23.01 (x64) : …`. null if it is not 7-Zip.
 */
export function parseBanner(text: string): Banner | null {
  const p7 = /p7zip Version (\d+\.\d+)/.exec(text);
  if (p7?.[1]) return { version: p7[1], p7zip: true };
  const m = /7-Zip(?: \([a-z]\))?(?: \[\d+\])? (\d+\.\d+)/.exec(text);
  if (m?.[1]) return { version: m[1], p7zip: false };
  return null;
}

/** p7zip, or a 7-Zip older than 21 (the first release with a native Linux build). */
export function isLegacy(b: Banner): boolean {
  return b.p7zip || major(b.version) < 21;
}

function major(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '0', 10);
}

/**
 * Finds a usable 7-Zip, in this order:
 * 1. `configured` (from the config file): must work, or this throws — no silent fallback to another binary;
 * 2. `7zz` on PATH; 3. `7z` on PATH if it reports version ≥ 21 (p7zip's old `7z` is skipped);
 * 4. npm 7zip-bin's `7za` (p7zip 16.02). It is shipped mode 0644: made executable in place, or, if the install is
 *    read-only, copied into `cacheDir` and made executable there.
 */
export async function findSevenZip(opts: {
  configured?: string;
  cacheDir: string;
  env?: NodeJS.ProcessEnv;
  /** the bundled binary; defaults to 7zip-bin's path7za (for tests) */
  bundled?: string;
}): Promise<SevenZip> {
  const env = opts.env ?? process.env;
  const probe = (p: string, e: NodeJS.ProcessEnv) => probeCached(p, e, opts.cacheDir);
  if (opts.configured !== undefined && opts.configured !== '') {
    const p = resolve(opts.configured);
    const banner = await probe(p, env).catch((e: unknown) => {
      throw new QshareError('SEVENZIP_MISSING', `the configured 7-Zip "${p}" cannot be run (${describe(e)})`, {
        hint: INSTALL_HINT,
        cause: e,
      });
    });
    if (!banner)
      throw new QshareError('SEVENZIP_MISSING', `the configured 7-Zip "${p}" does not look like 7-Zip`, {
        hint: INSTALL_HINT,
      });
    return {
      path: p,
      flavour: banner.p7zip ? '7za' : flavourOfName(p),
      version: banner.version,
      legacy: isLegacy(banner),
    };
  }

  const zz = await which('7zz', env);
  if (zz) {
    const b = await probe(zz, env).catch(() => null);
    if (b) return { path: zz, flavour: b.p7zip ? '7za' : '7zz', version: b.version, legacy: isLegacy(b) };
  }
  const z = await which('7z', env);
  if (z) {
    const b = await probe(z, env).catch(() => null);
    if (b && !isLegacy(b)) return { path: z, flavour: '7z', version: b.version, legacy: false };
  }

  // loaded only here, when no 7-Zip is on PATH: requiring the package costs ~5 ms at every start of add, get, watch
  const bundled = opts.bundled ?? (await import('7zip-bin')).default.path7za;
  if (isAbsolute(bundled)) {
    try {
      const exe = await ensureExecutable(bundled, opts.cacheDir);
      const b = await probe(exe, env);
      if (b) return { path: exe, flavour: '7za', version: b.version, legacy: isLegacy(b) };
    } catch {
      // fall through to the error below
    }
  }
  throw new QshareError(
    'SEVENZIP_MISSING',
    '7-Zip was not found (looked for 7zz and 7z on PATH, and the bundled 7za)',
    { hint: INSTALL_HINT },
  );
}

function flavourOfName(p: string): SevenZip['flavour'] {
  const base = p.split('/').pop() ?? '';
  return base === '7z' ? '7z' : base === '7za' ? '7za' : '7zz';
}

/**
 * Returns a path to an executable copy of `file`: `file` itself if it is (or can be made) executable, else a copy in
 * `cacheDir`. `chmodFn` is there for tests (as root, chmod never fails).
 */
export async function ensureExecutable(
  file: string,
  cacheDir: string,
  chmodFn: (p: string, mode: number) => Promise<void> = chmod,
): Promise<string> {
  if (await isExecutable(file)) return file;
  try {
    await chmodFn(file, 0o755);
    if (await isExecutable(file)) return file;
  } catch {
    // read-only install: copy below
  }
  const st = await stat(file);
  const cached = join(cacheDir, `7za-${st.size}`);
  if (await isExecutable(cached)) {
    const cs = await stat(cached).catch(() => null);
    if (cs && cs.size === st.size) return cached;
  }
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const tmp = `${cached}.tmp-${process.pid}`;
  await copyFile(file, tmp);
  await chmodFn(tmp, 0o755);
  await rename(tmp, cached);
  return cached;
}

async function isExecutable(p: string): Promise<boolean> {
  try {
    const st = await stat(p);
    if (!st.isFile()) return false;
    // root passes X_OK for any file with one x bit; check the bits too
    if ((st.mode & 0o111) === 0) return false;
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks `name` up in env.PATH like a shell would. */
export async function which(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (await isExecutable(p)) return p;
  }
  return null;
}

/**
 * The banner of `path`, from `<cacheDir>/7zip-banners.json` when that binary (same path, size, mtime and inode) was
 * probed before: running 7-Zip to read its version costs ~10 ms at every add, get and watch job. A cache that cannot
 * be read or written is simply not used.
 */
async function probeCached(path: string, env: NodeJS.ProcessEnv, cacheDir: string): Promise<Banner | null> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return probe(path, env);
  const key = `${path}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const file = join(cacheDir, '7zip-banners.json');
  const cache = await readFile(file, 'utf8')
    .then((t) => JSON.parse(t) as Record<string, Banner>)
    .catch(() => ({}) as Record<string, Banner>);
  const hit = cache[key];
  if (hit && typeof hit.version === 'string' && typeof hit.p7zip === 'boolean') return hit;
  const banner = await probe(path, env);
  if (banner) {
    // only the binaries still there are kept, so the file stays small
    const kept = Object.fromEntries(Object.entries(cache).filter(([k]) => !k.startsWith(`${path}\0`)));
    await mkdir(cacheDir, { recursive: true, mode: 0o700 })
      .then(() => writeFileAtomic(file, JSON.stringify({ ...kept, [key]: banner }), { mode: 0o600 }))
      .catch(() => undefined);
  }
  return banner;
}

/** Runs the binary with no arguments and parses its banner; rejects if it cannot be run. */
function probe(path: string, env: NodeJS.ProcessEnv): Promise<Banner | null> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      path,
      [],
      { env: { ...env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }, timeout: 10_000, maxBuffer: 1 << 20 },
      (err, stdout) => {
        const banner = parseBanner(String(stdout));
        if (banner) return resolvePromise(banner);
        if (err) return reject(err);
        resolvePromise(null);
      },
    );
    child.stdin?.end();
  });
}

function describe(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}
