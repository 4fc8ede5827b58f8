/**
 * fsx/lock.ts with real processes: several racing for a lock left by a dead process never hold it at the same time
 * (two that both judged it stale could, when the second one's takeover moved the first one's fresh lock aside), and a
 * lock is never seen empty.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const lockModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../../build/fsx/lock.js')).href;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qshare-lock-race-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/**
 * One contender: waits for `go` to exist (so all start together), then takes the lock `rounds` times; inside,
 * it notes enter/leave in the journal. Each line is one append (O_APPEND), so lines never mix.
 */
function contender(lock: string, journal: string, go: string, rounds: number, dead: number): Promise<number | null> {
  const script = `
    const { withFileLock } = await import(${JSON.stringify(lockModule)});
    const { appendFileSync, existsSync, writeFileSync } = await import('node:fs');
    while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 1));
    for (let i = 0; i < ${rounds}; i++) {
      await withFileLock(${JSON.stringify(lock)}, async () => {
        appendFileSync(${JSON.stringify(journal)}, 'enter ' + process.pid + '\\n');
        await new Promise((r) => setTimeout(r, 5));
        appendFileSync(${JSON.stringify(journal)}, 'leave ' + process.pid + '\\n');
      }, { waitMs: 60000, onTimeout: () => new Error('timeout') });
      // and then as if a holder had died: a stale lock for the others to race for, every turn
      try { writeFileSync(${JSON.stringify(lock)}, '${dead}\\n', { flag: 'wx' }); } catch {}
    }`;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    c.once('error', reject);
    c.once('exit', (code) => resolve(code));
  });
}

const ROUNDS = 25;

describe('the lock file with real processes', () => {
  it('four processes racing, turn after turn, for a lock whose holder died: never two inside at once', async () => {
    const dead = deadPid();
    for (let trial = 0; trial < 4; trial++) {
      const lock = join(dir, `state-${trial}.json.lock`);
      const journal = join(dir, `journal-${trial}`);
      const go = join(dir, `go-${trial}`);
      await writeFile(lock, `${dead}\n`); // left by a process that died holding it
      await writeFile(journal, '');
      const all = Array.from({ length: 4 }, () => contender(lock, journal, go, ROUNDS, dead));
      await writeFile(go, '');
      expect(await Promise.all(all)).toEqual([0, 0, 0, 0]);
      const lines = (await readFile(journal, 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(4 * ROUNDS * 2);
      for (let i = 0; i < lines.length; i += 2) {
        const pid = lines[i]!.split(' ')[1];
        expect([lines[i], lines[i + 1]], `trial ${trial}, line ${i}`).toEqual([`enter ${pid}`, `leave ${pid}`]);
      }
    }
  }, 120_000);

  it('an empty lock left by an older qshare is still taken over once old, and a lock of a live process is waited for', async () => {
    const { withFileLock } = await import('../../src/fsx/lock.js');
    const lock = join(dir, 'empty.lock');
    await writeFile(lock, '');
    const old = new Date(Date.now() - 60_000);
    const { utimes } = await import('node:fs/promises');
    await utimes(lock, old, old);
    expect(await withFileLock(lock, async () => 'in', { waitMs: 1000, onTimeout: () => new Error('timeout') })).toBe(
      'in',
    );
    await writeFile(lock, `${process.pid}\n`); // ours, as a live holder: never taken over
    await expect(
      withFileLock(lock, async () => 'in', { waitMs: 200, onTimeout: () => new Error('held') }),
    ).rejects.toThrow('held');
    expect(await readFile(lock, 'utf8')).toBe(`${process.pid}\n`);
  });
});
