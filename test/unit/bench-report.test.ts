import { describe, expect, it } from 'vitest';
import {
  checkTargets,
  cpuFloorRatio,
  formatSize,
  markdownTable,
  median,
  pairedOrder,
  pairedRatios,
  parseCpuSeconds,
  parseSize,
  parseTimeV,
  summarize,
  textTable,
  type ScenarioResult,
} from '../../bench/report.js';

const MiB = 1048576;

describe('bench report', () => {
  it.each([
    [[], NaN],
    [[3], 3],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
  ])('median(%j) = %d', (xs, want) => {
    expect(median(xs)).toEqual(want);
  });

  it.each([
    ['256M', 256 * MiB],
    ['2G', 2 * 1024 * MiB],
    ['1.5G', 1.5 * 1024 * MiB],
    ['20GiB', 20 * 1024 * MiB],
    ['4096', 4096],
    ['64k', 65536],
  ])('parseSize(%s)', (t, want) => {
    expect(parseSize(t)).toBe(want);
  });

  it('parseSize refuses nonsense', () => {
    expect(() => parseSize('lots')).toThrow(/not a size/);
  });

  it('formatSize', () => {
    expect([512, 2048, 256 * MiB, 20 * 1024 * MiB].map(formatSize)).toEqual(['512 B', '2 KiB', '256 MiB', '20 GiB']);
  });

  it('parseTimeV reads GNU time -v peak RSS in bytes', () => {
    expect(
      parseTimeV(
        '\tCommand being timed: "x"\n\tMaximum resident set size (kbytes): 70512\n\tAverage shared text size (kbytes): 0\n',
      ),
    ).toBe(70512 * 1024);
    expect(parseTimeV('nothing')).toBeUndefined();
  });

  it.each([
    ['\tUser time (seconds): 1.38\n\tSystem time (seconds): 0.40\n', 1.78],
    ['\tUser time (seconds): 0.00\n\tSystem time (seconds): 0.00\n', 0],
    ['\tUser time (seconds): 1.38\n', undefined],
    ['nothing', undefined],
  ])('parseCpuSeconds reads GNU time -v user + system seconds (%#)', (text, want) => {
    const got = parseCpuSeconds(text);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(want, 10);
  });

  const results: ScenarioResult[] = [
    {
      id: 'floor',
      label: 'floor',
      set: 'A',
      samples: [
        { seconds: 6, peakRss: 8 * MiB },
        { seconds: 5, peakRss: 9 * MiB },
        { seconds: 7, peakRss: 8 * MiB },
      ],
    },
    {
      id: 'qshare-no-seed',
      label: 'qshare add --no-seed',
      set: 'A',
      baseline: 'floor',
      samples: [
        { seconds: 6.3, peakRss: 80 * MiB },
        { seconds: 6.6, peakRss: 90 * MiB },
        { seconds: 6.5, peakRss: 85 * MiB },
      ],
    },
    {
      id: 'qshare-seed',
      label: 'qshare add',
      set: 'A',
      baseline: 'floor',
      samples: [{ seconds: 7.2, peakRss: 160 * MiB }],
    },
    { id: 'mktorrent', label: 'mktorrent', set: 'A', samples: [{ seconds: 0.6, peakRss: 15 * MiB }] },
    {
      id: 'qshare-no-encrypt',
      label: 'qshare --no-encrypt',
      set: 'A',
      baseline: 'mktorrent',
      samples: [{ seconds: 0.9, peakRss: 70 * MiB }],
    },
  ];

  it('summarize: medians, min/max, peak RSS, and the paired ratio to the baseline: per round, then the median and range', () => {
    const s = summarize(results);
    expect(s[0]).toMatchObject({ id: 'floor', median: 6, min: 5, max: 7, runs: 3, peakRssMiB: 9 });
    expect(s[0]!.ratio).toBeUndefined();
    // rounds: 6.3/6 = 1.05, 6.6/5 = 1.32, 6.5/7 = 0.93 → median 1.05 (not the ratio of the medians, 6.5/6 = 1.08)
    expect(s[1]!.ratio).toBeCloseTo(6.3 / 6);
    expect(s[1]!.ratioMin).toBeCloseTo(6.5 / 7);
    expect(s[1]!.ratioMax).toBeCloseTo(6.6 / 5);
    // only the rounds both ran: one
    expect(s[2]!.ratio).toBeCloseTo(7.2 / 6);
    expect(s[4]!.ratio).toBeCloseTo(1.5);
  });

  it('pairedOrder: each baseline next to what is compared with it, groups rotated, every other round reversed', () => {
    const x = (set: string, id: string, baseline?: string) => ({ set, id, ...(baseline ? { baseline } : {}) });
    const items = [
      x('A', 'floor'),
      x('A', 'no-seed', 'floor'),
      x('A', 'mktorrent'),
      x('A', 'seed', 'floor'),
      x('A', 'no-encrypt', 'mktorrent'),
      x('B', 'floor'),
      x('B', 'no-seed', 'floor'),
    ];
    const ids = (r: number) => pairedOrder(items, r).map((i) => `${i.set}.${i.id}`);
    expect(ids(0)).toEqual(['A.floor', 'A.no-seed', 'A.seed', 'A.mktorrent', 'A.no-encrypt', 'B.floor', 'B.no-seed']);
    expect(ids(1)).toEqual(['A.no-encrypt', 'A.mktorrent', 'B.no-seed', 'B.floor', 'A.seed', 'A.no-seed', 'A.floor']);
    expect(ids(2)).toEqual(['B.floor', 'B.no-seed', 'A.floor', 'A.no-seed', 'A.seed', 'A.mktorrent', 'A.no-encrypt']);
    expect(new Set(ids(3))).toEqual(new Set(ids(0)));
  });

  it.each([
    [
      [2, 4, 6],
      [1, 2, 3],
      [2, 2, 2],
    ],
    [
      [2, 4],
      [1, 2, 3],
      [2, 2],
    ],
    [[2, 4, 6], [1, 0], [2]],
    [[], [1], []],
  ])('pairedRatios(%j, %j) = %j', (a, b, want) => expect(pairedRatios(a, b)).toEqual(want));

  it('checkTargets: the issue #17 limits on paired medians, met or not, from the same numbers', () => {
    const t = checkTargets(
      summarize(results),
      { medians: { 'node -e 0': 40, 'qshare --help': 90 }, helpRatio: 2.25, helpRatioMin: 2.1, helpRatioMax: 2.4 },
      [
        { id: 'sparse-no-seed', label: 'sparse', set: 'sparse', runs: 1, median: 1, min: 1, max: 1, peakRssMiB: 99 },
        { id: 'many-no-seed', label: '100k files', set: 'many', runs: 1, median: 1, min: 1, max: 1, peakRssMiB: 149 },
      ],
    );
    const byWhat = Object.fromEntries(t.map((x) => [x.what, x]));
    expect(byWhat['`qshare add --no-seed`, wall (A)']).toMatchObject({ ok: true, measured: '1.05 × (0.93–1.32)' }); // 6.3 / 6, paired
    expect(byWhat['`qshare add` until seeding (A)']?.ok).toBe(false); // 7.2 / 6 = 1.2 > 1.05
    expect(byWhat['`qshare add --no-encrypt --no-seed` (A)']?.ok).toBe(false); // 1.5 > 1.20
    expect(byWhat['peak RSS of qshare add (A)']).toMatchObject({ ok: false, limit: '≤ 100 MiB' }); // 160 MiB
    expect(byWhat['peak RSS of qshare add --no-seed (A)']?.ok).toBe(true); // 90 MiB
    expect(byWhat['peak RSS of sparse']).toMatchObject({ ok: true, limit: '≤ 100 MiB' });
    expect(byWhat['peak RSS of 100k files']).toMatchObject({ ok: true, limit: '≤ 150 MiB' });
    expect(byWhat['`qshare --help` start-up']).toMatchObject({ ok: false, measured: '2.25 × (2.10–2.40)' });
  });

  it("until seeding: the baseline of each round is the floor plus that round's own qBittorrent time", () => {
    const s = summarize([
      {
        id: 'floor',
        label: 'floor',
        set: 'A',
        samples: [
          { seconds: 4, peakRss: MiB },
          { seconds: 5, peakRss: MiB },
        ],
      },
      {
        id: 'qshare-seed',
        label: 'qshare add',
        set: 'A',
        baseline: 'floor',
        samples: [
          { seconds: 4.4, peakRss: MiB, baselineExtraSeconds: 0.4 },
          { seconds: 5.1, peakRss: MiB, baselineExtraSeconds: 0.1 },
        ],
      },
    ]);
    expect(s[1]!.ratio).toBeCloseTo((4.4 / 4.4 + 5.1 / 5.1) / 2);
    expect(s[1]!.ratioMax).toBeCloseTo(1);
  });

  it('summarize: the median CPU time only when every sample has one; the CPU floor against the baseline', () => {
    const withCpu: ScenarioResult[] = [
      {
        id: 'mktorrent',
        label: 'mktorrent',
        set: 'B',
        samples: [
          { seconds: 0.7, peakRss: MiB, cpuSeconds: 1.35 },
          { seconds: 0.8, peakRss: MiB, cpuSeconds: 1.4 },
          { seconds: 0.72, peakRss: MiB, cpuSeconds: 1.3 },
        ],
      },
      {
        id: 'qshare-no-encrypt',
        label: 'qshare --no-encrypt',
        set: 'B',
        baseline: 'mktorrent',
        samples: [
          { seconds: 0.95, peakRss: MiB, cpuSeconds: 1.8 },
          { seconds: 0.97, peakRss: MiB, cpuSeconds: 1.84 },
          { seconds: 0.94, peakRss: MiB, cpuSeconds: 1.78 },
        ],
      },
      {
        id: 'old',
        label: 'from an older run',
        set: 'B',
        baseline: 'mktorrent',
        samples: [
          { seconds: 1, peakRss: MiB, cpuSeconds: 2 },
          { seconds: 1, peakRss: MiB },
        ],
      },
    ];
    const s = summarize(withCpu);
    expect(s[0]!.cpuMedian).toBeCloseTo(1.35);
    expect(s[1]!.cpuMedian).toBeCloseTo(1.8);
    expect(s[2]!.cpuMedian).toBeUndefined();
    // 1.8 s of CPU on 2 cores: at least 0.9 s, against mktorrent's median 0.72 s
    expect(cpuFloorRatio(s[1]!, s, 2)).toBeCloseTo(0.9 / 0.72);
    expect(cpuFloorRatio(s[1]!, s, 4)).toBeCloseTo(0.45 / 0.72);
    expect(cpuFloorRatio(s[0]!, s, 2)).toBeUndefined(); // no baseline
    expect(cpuFloorRatio(s[2]!, s, 2)).toBeUndefined(); // no CPU times
    // per round 0.95/0.7, 0.97/0.8, 0.94/0.72 → median 1.31 (1.21–1.36); CPU 1.8/1.35, 1.84/1.4, 1.78/1.3 → 1.33
    expect(markdownTable(s)).toContain(
      '| B | qshare --no-encrypt | 0.95 | 0.94–0.97 | 1.31 × (1.21–1.36) | mktorrent | 1.80 | 1.33 × (1.31–1.37) | 1 |',
    );
    expect(s[2]!.cpuRatio).toBeUndefined(); // a sample without CPU time
    expect(textTable(s).split('\n')[0]).toMatch(
      /paired ratio \(range\) +vs +CPU s +CPU ratio \(range\) +peak RSS MiB$/,
    );
  });

  it('tables show every scenario with its ratio', () => {
    const s = summarize(results);
    const text = textTable(s);
    expect(text.split('\n')).toHaveLength(2 + results.length);
    expect(text).toContain('1.05 × (0.93–1.32)');
    const md = markdownTable(s);
    expect(md.split('\n')).toHaveLength(2 + results.length);
    expect(md).toContain('| A | qshare --no-encrypt | 0.90 |');
  });
});
