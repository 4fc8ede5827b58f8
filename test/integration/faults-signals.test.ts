/**
 * `qshare add` interrupted at each step of its pipeline — archive, hash, record, add (to qBittorrent) — by SIGINT,
 * SIGTERM or SIGKILL, then run again. The built CLI, a real qbittorrent-nox on loopback, real 7-Zip, real files.
 *
 * How each step is held still long enough to be hit, without any hook in qshare:
 * - archive: 7-Zip at level 1 on 48 MB of incompressible data (~2 s); hit once its partial archive appears;
 * - hash: `--no-encrypt` of a 1 GiB sparse file (hashing it takes a second or more); hit once qshare has it open;
 * - record: this test holds the state file's lock (with its own, live pid): qshare waits there (10 s) after writing
 *   the .torrent; hit once the .torrent is there;
 * - add: qBittorrent is frozen (SIGSTOP) while qshare archives, so its torrents/add request hangs after the record;
 *   hit once the record is in the state file.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import {
  type E2eSetup,
  e2eSetup,
  hasOpen,
  ls,
  processesMentioning,
  qbTorrents,
  sharedQbitNox,
  sharesIn,
  sleep,
  until,
} from '../helpers/e2e.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { pseudoRandom, snapshot } from '../helpers/tree.js';

const have7zz = existsSync('/usr/bin/7zz');
type Step = 'archive' | 'hash' | 'record' | 'add';
type Sig = 'SIGINT' | 'SIGTERM' | 'SIGKILL';

interface Scenario {
  args: string[];
  /** resolves once qshare (pid) is in the step */
  reach(pid: number): Promise<void>;
  /** undo what held the step still */
  release(): Promise<void>;
  /** what the source looks like (compared before and after) */
  look(): Promise<unknown>;
}

describe.skipIf(!hasQbitNox() || !have7zz)(
  'qshare add interrupted at each step, then run again (real qbittorrent-nox, 7-Zip, files)',
  () => {
    const nox = sharedQbitNox();

    async function scenario(step: Step, s: E2eSetup): Promise<Scenario> {
      const qb = nox;
      const src = join(s.dir, 'Holiday');
      await mkdir(src);
      await writeFile(join(src, 'which.txt'), s.dir); // every share's content (and info hash) is its own
      const archives = join(s.home, 'archives');
      const torrents = join(s.home, 'torrents');
      const tree = async () => snapshot(src);
      switch (step) {
        case 'archive':
          await writeFile(join(src, 'a.bin'), pseudoRandom(48 * 1024 * 1024, 11));
          return {
            args: ['add', src, '--level', '1'],
            reach: () =>
              until('the partial archive', async () => (await ls(archives)).some((f) => f.includes('.partial-'))).then(
                () => {},
              ),
            release: async () => {},
            look: tree,
          };
        case 'hash': {
          const big = join(src, 'disk.img');
          await writeFile(big, '');
          await truncate(big, 1024 ** 3); // sparse: no disk used
          return {
            args: ['add', src, '--no-encrypt'],
            reach: (pid) => until('qshare to read the file to hash it', () => hasOpen(pid, big)).then(() => {}),
            release: async () => {},
            look: async () => {
              const st = await stat(big);
              return { size: st.size, mtime: st.mtimeMs, names: await ls(src) };
            },
          };
        }
        case 'record': {
          await writeFile(join(src, 'a.bin'), pseudoRandom(2 * 1024 * 1024, 12));
          await mkdir(s.home, { recursive: true });
          const lock = join(s.home, 'state.json.lock');
          await writeFile(lock, `${process.pid}\n`); // "another qshare" that is alive: this test
          return {
            args: ['add', src],
            reach: () =>
              until('the .torrent', async () =>
                (await ls(torrents)).some((f) => f.endsWith('.torrent') && !f.startsWith('.')),
              )
                .then(() => sleep(200))
                .then(() => {}),
            release: () => rm(lock, { force: true }),
            look: tree,
          };
        }
        case 'add': {
          await writeFile(join(src, 'a.bin'), pseudoRandom(16 * 1024 * 1024, 13));
          let frozen = false;
          return {
            args: ['add', src, '--level', '1'],
            reach: async () => {
              // qshare logs in before archiving; freeze qBittorrent while 7-Zip runs, so the add after the record hangs
              await until('the partial archive', async () => (await ls(archives)).some((f) => f.includes('.partial-')));
              process.kill(qb.pid, 'SIGSTOP');
              frozen = true;
              await until('the share to be recorded', async () => (await sharesIn(s.home)).length === 1, 60_000);
              await sleep(300);
            },
            release: async () => {
              if (frozen) process.kill(qb.pid, 'SIGCONT');
              frozen = false;
            },
            look: tree,
          };
        }
      }
    }

    async function hit(s: E2eSetup, sc: Scenario, sig: Sig): Promise<CliResult> {
      let reached: Promise<void> | undefined;
      const r = await runCli(sc.args, {
        env: s.env,
        timeoutMs: 90_000,
        onSpawn: (child) => {
          const ended = new Promise<never>((_, reject) =>
            child.on('close', () => reject(new Error('qshare ended before it reached the step'))),
          );
          reached = Promise.race([sc.reach(child.pid!), ended]).then(() => void child.kill(sig));
          reached.catch(() => child.kill('SIGKILL'));
        },
      }).finally(() => sc.release());
      await reached; // a step that was never reached fails here
      return r;
    }

    const steps: Step[] = ['archive', 'hash', 'record', 'add'];
    const signals: Sig[] = ['SIGINT', 'SIGTERM', 'SIGKILL'];
    const cases = steps.flatMap((step) => signals.map((sig) => [step, sig] as const));

    it.each(cases)(
      '%s step, %s: nothing partial is left, and the re-run succeeds',
      async (step, sig) => {
        const qb = nox;
        const s = await e2eSetup(qb);
        const sc = await scenario(step, s);
        const before = await sc.look();
        const archives = join(s.home, 'archives');
        const torrents = join(s.home, 'torrents');

        const r = await hit(s, sc, sig);
        const out = `exit ${r.code} ${r.signal}\n${r.stderr}`;
        if (sig === 'SIGKILL') {
          expect(r.signal, out).toBe('SIGKILL');
          // 7-Zip died with qshare (setpriv --pdeathsig), it is not left writing an orphan archive
          await sleep(500);
          expect(await processesMentioning(s.home)).toEqual([]);
        } else {
          expect(r.code, out).toBe(130);
          expect(r.stderr).toContain(
            sig === 'SIGINT' ? 'qshare: interrupted; cleaning up' : 'qshare: SIGTERM; cleaning up',
          );
          expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
          expect(await processesMentioning(s.home)).toEqual([]);
        }
        expect(await sc.look()).toEqual(before); // the source is untouched

        let name: string | undefined;
        if (step === 'add') {
          // after the record the share is kept whole (archive, .torrent, record): `qshare seed` finishes it
          const [rec] = await sharesIn(s.home);
          expect(rec?.state).toBe('not-seeding');
          name = rec!.name;
          expect(await ls(archives)).toEqual([`${name}.7z`]);
          expect(await ls(torrents)).toEqual([`${name}.torrent`]);
          if (sig !== 'SIGKILL') expect(r.stderr).toContain(`run \`qshare seed ${name}\` to finish`);
          const again = await runCli(['seed', name, '--json'], { env: s.env });
          expect(again.code, again.stderr).toBe(0);
          expect(JSON.parse(again.stdout).state).toBe('seeding');
        } else {
          if (sig !== 'SIGKILL') {
            expect(r.stderr).toContain(
              'qshare: interrupted: nothing was kept (no archive, .torrent or share record) and your folder was not touched',
            );
            expect(await ls(archives)).toEqual([]);
            expect(await ls(torrents)).toEqual([]);
          }
          expect(await sharesIn(s.home)).toEqual([]);
          const again = await runCli(sc.args.concat('--json'), { env: s.env });
          expect(again.code, again.stderr).toBe(0);
          const share = JSON.parse(again.stdout);
          expect(share.state).toBe('seeding');
          name = share.name as string;
          // a run killed while hashing had written nothing yet; the others had (the partial or whole archive, the .torrent)
          const said = again.stderr.includes('removed what an interrupted earlier qshare add left behind');
          expect(said, again.stderr).toBe(sig === 'SIGKILL' && step !== 'hash');
          // the killed run's leftovers are gone: only the new share's files
          expect(await ls(archives)).toEqual(step === 'hash' ? [] : [`${name}.7z`]);
          expect(await ls(torrents)).toEqual([`${name}.torrent`]);
        }
        const recs = await sharesIn(s.home);
        expect(recs.map((x) => [x.name, x.state])).toEqual([[name, 'seeding']]);
        expect(await qbTorrents(qb, recs[0]!.infoHash)).toHaveLength(1);
        expect(await ls(join(s.home, 'pending'))).toEqual([]);
        expect((await ls(s.home)).filter((f) => f.includes('.partial-') || f.endsWith('.lock'))).toEqual([]);
        expect(await sc.look()).toEqual(before);
        await rm(s.dir, { recursive: true, force: true });
      },
      150_000,
    );
  },
);
