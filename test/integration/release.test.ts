/**
 * Release-ready: what `npm pack` makes is what a user installs. The tarball is installed globally into a clean,
 * throwaway prefix (its dependencies come from the npm registry, or npm's cache), and the installed `qshare` binary
 * — not the checkout — prints its version, makes a share without qBittorrent, and makes one seeded by a real
 * qbittorrent-nox on loopback. Also: shell completion (bash and zsh, for real) and NO_COLOR on a real terminal.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles } from '../../src/torrent/files.js';
import { hashPiecesSerial } from '../../src/torrent/hash.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { e2eSetup, qbTorrents, sharedQbitNox } from '../helpers/e2e.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { pseudoRandom } from '../helpers/tree.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const have7zz = existsSync('/usr/bin/7zz');
const VERSION = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Runs a program to its end; never throws on a non-zero exit. */
function exec(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input);
  });
}

describe.skipIf(!have7zz)('npm pack → npm install -g into a clean prefix → the installed qshare', () => {
  let work: string;
  let bin: string;
  const nox = hasQbitNox() ? sharedQbitNox() : undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'qshare-release-'));
    // dist/ is what `npm test` just built (`npm pack` would run the prepare script to build it again)
    const packed = await run('npm', ['pack', '--pack-destination', work, '--ignore-scripts', '--json'], { cwd: ROOT });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = info!.files.map((f) => f.path);
    expect(paths).toContain('dist/cli/main.js');
    expect(paths).toContain('dist/cli/hash-thread.js'); // the hash worker threads' entry
    expect(
      paths.filter((p) => /^(src|test|bench|dist-bench)\//.test(p) || /\.test\.|BENCHMARKS|benchmarks\.json/.test(p)),
    ).toEqual([]);
    const prefix = join(work, 'prefix');
    // --engine-strict: every dependency as resolved for a user (no overrides apply there) accepts this Node
    const installed = await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        join(work, info!.filename),
        '--engine-strict',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
      ],
      {
        cwd: work,
        env: { ...process.env, npm_config_loglevel: 'warn' },
      },
    );
    expect(`${installed.stdout}${installed.stderr}`).not.toMatch(/EBADENGINE|Unsupported engine/);
    // the bundle carries everything else: only what it loads from node_modules is installed with it
    expect(
      Object.keys(
        (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: object }).dependencies,
      ).sort(),
    ).toEqual(['7zip-bin', '@napi-rs/keyring', 'qrcode-terminal']);
    bin = join(prefix, 'bin', 'qshare');
  }, 180_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('--version and --help', async () => {
    const v = await exec(bin, ['--version'], cliEnv({}));
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(`${VERSION}\n`);
    const h = await exec(bin, ['--help'], cliEnv({}));
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('qshare add <path>');
    expect(h.stdout).toContain('qshare completion [shell]');
  });

  it('a full `qshare add --no-seed`: the archive opens with the password it printed', async () => {
    const s = await e2eSetup(null);
    const src = join(s.dir, 'Photos');
    await mkdir(src);
    await writeFile(join(src, 'a.bin'), pseudoRandom(1024 * 1024, 71));
    const r = await exec(bin, ['add', src, '--no-seed', '--json'], s.env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.state).toBe('created');
    const t = await exec('7zz', ['t', '--', out.archive], process.env, `${out.password}\n`);
    expect(t.code, t.stdout).toBe(0);
  });

  it('`qshare add --no-encrypt --no-seed` of 200 files: the hash worker threads start from the installed package', async () => {
    const s = await e2eSetup(null);
    const src = join(s.dir, 'Many');
    await mkdir(src);
    for (let i = 0; i < 200; i++) await writeFile(join(src, `f${i}.bin`), pseudoRandom(3000 + i, 100 + i));
    const r = await exec(bin, ['add', src, '--no-encrypt', '--no-seed', '--json'], s.env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    // the pieces the threads wrote are the ones the single-thread hasher of the checkout computes
    const info = (
      bencode.decode(await readFile(out.torrentFile)) as { info: { pieces: Uint8Array; 'piece length': number } }
    ).info;
    const listed = await listFiles(src);
    expect(Buffer.from(info.pieces).equals(await hashPiecesSerial(listed.files, info['piece length']))).toBe(true);
  });

  it.skipIf(!nox)('a full `qshare add`, seeded by a real qbittorrent-nox', async () => {
    const qb = nox!;
    const s = await e2eSetup(qb);
    const src = join(s.dir, 'Photos');
    await mkdir(src);
    await writeFile(join(src, 'a.bin'), pseudoRandom(1024 * 1024, 72));
    const r = await exec(bin, ['add', src, '--json'], s.env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.state).toBe('seeding');
    const [t] = await qbTorrents(qb, out.infoHash);
    expect(t?.progress).toBe(1);
  });

  it('`qshare completion` of the installed binary completes in bash', async () => {
    const script = join(work, 'qshare.bash');
    await writeFile(script, (await exec(bin, ['completion', 'bash'], cliEnv({}))).stdout);
    const r = await exec(
      'bash',
      [
        '-c',
        `source ${script}; COMP_WORDS=(qshare da); COMP_CWORD=1; _qshare_completions; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      {
        ...cliEnv({}),
        PATH: `${join(work, 'prefix', 'bin')}:${process.env.PATH}`,
      },
    );
    expect(r.stdout, r.stderr).toBe('daemon\n');
  });
});

/** A directory with a `qshare` that runs the checkout's build, for the shells to find on PATH. */
async function shim(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-shim-'));
  await writeFile(join(dir, 'qshare'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  await chmod(join(dir, 'qshare'), 0o755);
  return dir;
}

describe('shell completion (`qshare completion [bash|zsh]`)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await shim();
    env = { ...cliEnv({}), PATH: `${dir}:${process.env.PATH}` };
    await writeFile(join(dir, 'qshare.bash'), (await exec('qshare', ['completion', 'bash'], env)).stdout);
    await writeFile(join(dir, 'qshare.zsh'), (await exec('qshare', ['completion', 'zsh'], env)).stdout);
  });

  it.each([
    [['qshare', 'da'], 1, ['daemon']],
    [['qshare', 'add', '--pri'], 2, ['--private']],
    [['qshare', 'daemon', 'st'], 2, ['start', 'status', 'stop']],
    [['qshare', 'sh'], 1, ['show']],
  ])('bash: %j completes to %j', async (words, cword, expected) => {
    const r = await exec(
      'bash',
      [
        '-c',
        `source ${join(dir, 'qshare.bash')}; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${cword}; _qshare_completions; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      env,
    );
    expect(r.stdout.split('\n').filter(Boolean).sort(), r.stderr).toEqual(expected);
  });

  it('picks the script from $SHELL when no shell is named', async () => {
    expect((await exec('qshare', ['completion'], { ...env, SHELL: '/usr/bin/zsh' })).stdout).toMatch(
      /^#compdef qshare\n/,
    );
    expect((await exec('qshare', ['completion'], { ...env, SHELL: '/bin/bash' })).stdout).toContain(
      'complete -o bashdefault -o default -F _qshare_completions qshare',
    );
    expect((await exec('qshare', ['completion', 'fish'], env)).code).toBe(2);
  });

  it.skipIf(!existsSync('/usr/bin/zsh'))(
    'zsh: compinit registers it, and it offers commands with their descriptions',
    async () => {
      const zdot = await mkdtemp(join(tmpdir(), 'qshare-zsh-'));
      const reg = await exec(
        'zsh',
        [
          '-f',
          '-c',
          `autoload -U compinit && compinit -u -d ${zdot}/.zcompdump && source ${join(dir, 'qshare.zsh')} && print -r -- $_comps[qshare]`,
        ],
        env,
      );
      expect(reg.stdout.trim(), reg.stderr).toBe('_qshare_completions');
      // the completion function itself, with zsh's _describe standing in to print what it would offer
      const offer = await exec(
        'zsh',
        [
          '-f',
          '-c',
          `compdef() { :; }; _describe() { print -rl -- "\${(@P)2}"; }; source ${join(dir, 'qshare.zsh')}; words=(qshare s); CURRENT=2; BUFFER='qshare s'; CURSOR=8; _qshare_completions`,
        ],
        env,
      );
      expect(offer.stdout, offer.stderr).toContain('stop:remove a share from qBittorrent');
      expect(offer.stdout).toContain('show:show a share again');
      expect(offer.stdout).not.toContain('add:'); // only what fits the word so far
      await rm(zdot, { recursive: true, force: true });
    },
  );
});

describe.skipIf(!existsSync('/usr/bin/script') || !have7zz)('NO_COLOR, on a real terminal (util-linux script)', () => {
  /** Runs `qshare add` twice on a pseudo-terminal (the second warns "already shared"); returns what the terminal got. */
  async function onTerminal(noColor: string | undefined): Promise<string> {
    const s = await e2eSetup(null);
    const src = join(s.dir, 'f');
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'hello');
    const env = { ...s.env };
    delete env.NO_COLOR;
    if (noColor !== undefined) env.NO_COLOR = noColor;
    const cmd = `"${process.execPath}" "${CLI}" add "${src}" --no-seed >/dev/null`;
    const r = await exec('script', ['-q', '-e', '-c', `${cmd} && ${cmd}`, '/dev/null'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await rm(s.dir, { recursive: true, force: true });
    return r.stdout;
  }
  const SGR = /\x1b\[[0-9;]*m/; // colour codes (cursor control like "erase line" is not colour)

  it('without it warnings are coloured; NO_COLOR=1 turns every colour off; an empty NO_COLOR does not', async () => {
    const coloured = await onTerminal(undefined);
    expect(coloured).toContain('was already shared as');
    expect(coloured).toMatch(SGR);
    const plain = await onTerminal('1');
    expect(plain).toContain('warn: ');
    expect(plain).toContain('was already shared as');
    expect(plain).not.toMatch(SGR);
    expect(await onTerminal('')).toMatch(SGR);
  }, 60_000);
});
