/**
 * The benchmark's numbers and tables: pure functions, unit-tested (test/unit/bench-report.test.ts).
 */

export interface Sample {
  /** wall-clock seconds of the whole scenario (all its steps) */
  seconds: number;
  /** peak RSS in bytes of the largest single process of any step (GNU time's "Maximum resident set size") */
  peakRss: number;
  /** user + system CPU seconds of every step, all threads (GNU time); absent in results from before it was kept */
  cpuSeconds?: number;
  /**
   * Seconds this run adds to its baseline's time in the same round: for `qshare add` until seeding, qBittorrent's own
   * time from torrents/add to reporting seeding, for the same torrent, measured right after the run.
   */
  baselineExtraSeconds?: number;
}

export interface ScenarioResult {
  id: string;
  label: string;
  set: string;
  /** id of the scenario this one is compared with (same set), e.g. the floor */
  baseline?: string;
  samples: Sample[];
}

export interface Summary {
  id: string;
  label: string;
  set: string;
  runs: number;
  median: number;
  min: number;
  max: number;
  peakRssMiB: number;
  /** median user + system CPU seconds, when every sample has them */
  cpuMedian?: number;
  baseline?: string;
  /**
   * The paired ratio to the baseline: each round runs this scenario and its baseline in turn on the same warm data,
   * the ratio is taken per round, and this is their median (a ratio of medians taken from separate runs cannot
   * resolve 10 % on a busy machine). ratioMin/ratioMax: the range over the rounds, so a noisy run shows as noisy.
   */
  ratio?: number;
  ratioMin?: number;
  ratioMax?: number;
  /** the same, of user + system CPU seconds, when every sample of both has them */
  cpuRatio?: number;
  cpuRatioMin?: number;
  cpuRatioMax?: number;
}

/**
 * One round's order: each baseline with the scenarios compared with it, next to one another (A and B in turn, on
 * the same warm data), the groups rotated from round to round, and each group run forwards in even rounds and
 * backwards in odd ones, so that neither side is always first. Pure.
 */
export function pairedOrder<T extends { set: string; id: string; baseline?: string }>(
  items: readonly T[],
  round: number,
): T[] {
  const key = (x: { set: string; id: string }) => `${x.set}/${x.id}`;
  const groups = new Map<string, T[]>();
  for (const x of items) {
    const g =
      x.baseline !== undefined && items.some((b) => b.set === x.set && b.id === x.baseline)
        ? `${x.set}/${x.baseline}`
        : key(x);
    if (!groups.has(g)) groups.set(g, []);
    // the baseline first within its group
    if (g === key(x)) groups.get(g)!.unshift(x);
    else groups.get(g)!.push(x);
  }
  const list = [...groups.values()];
  const rotated = list.map((_, i) => list[(i + round) % list.length]!);
  return rotated.flatMap((g) => (round % 2 === 0 ? g : [...g].reverse()));
}

/** Per round i, a[i] / b[i], for the rounds both have. Pure. */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (b[i]! > 0) out.push(a[i]! / b[i]!);
  return out;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function summarize(results: readonly ScenarioResult[]): Summary[] {
  const byKey = new Map(results.map((r) => [`${r.set}/${r.id}`, r]));
  return results.map((r) => {
    const secs = r.samples.map((s) => s.seconds);
    const med = median(secs);
    const out: Summary = {
      id: r.id,
      label: r.label,
      set: r.set,
      runs: r.samples.length,
      median: med,
      min: Math.min(...secs),
      max: Math.max(...secs),
      peakRssMiB: Math.max(...r.samples.map((s) => s.peakRss)) / 1048576,
    };
    const cpu = r.samples.map((s) => s.cpuSeconds);
    if (cpu.length > 0 && cpu.every((c) => c !== undefined)) out.cpuMedian = median(cpu as number[]);
    if (r.baseline) {
      const base = byKey.get(`${r.set}/${r.baseline}`);
      out.baseline = r.baseline;
      // the baseline of round i, plus what this scenario's round i adds to it (qBittorrent's own time)
      const baseSecs = (base?.samples ?? []).map((b, i) => b.seconds + (r.samples[i]?.baselineExtraSeconds ?? 0));
      const ratios = pairedRatios(secs, baseSecs);
      if (ratios.length > 0) {
        out.ratio = median(ratios);
        out.ratioMin = Math.min(...ratios);
        out.ratioMax = Math.max(...ratios);
      }
      const baseCpu = base?.samples.map((s) => s.cpuSeconds) ?? [];
      if (out.cpuMedian !== undefined && baseCpu.length > 0 && baseCpu.every((c) => c !== undefined)) {
        const cpuRatios = pairedRatios(cpu as number[], baseCpu as number[]);
        if (cpuRatios.length > 0) {
          out.cpuRatio = median(cpuRatios);
          out.cpuRatioMin = Math.min(...cpuRatios);
          out.cpuRatioMax = Math.max(...cpuRatios);
        }
      }
    }
    return out;
  });
}

export interface Target {
  what: string;
  /** "≤ 1.10 × floor" */
  limit: string;
  measured: string;
  ok: boolean;
}

/** The medians and ranges of `x`'s paired ratios: "1.03 × (0.99–1.08)". */
function ratioText(r: number, lo: number | undefined, hi: number | undefined): string {
  return `${r.toFixed(2)} ×${lo !== undefined && hi !== undefined ? ` (${lo.toFixed(2)}–${hi.toFixed(2)})` : ''}`;
}

/**
 * The targets (issue #17), judged on paired medians, checked against the summaries that exist (a quick run may not
 * have every set): `qshare add --no-seed` ≤ 1.05 × the floor in wall time and ≤ 1.35 × in CPU time; `--no-encrypt`
 * ≤ 1.20 × mktorrent; until seeding ≤ 1.05 × (the floor + qBittorrent's own add→seeding time); peak RSS ≤ 100 MiB
 * on the data sets and the sparse file, ≤ 150 MiB on 100,000 files; `--help` ≤ 2 × `node -e 0`.
 */
export function checkTargets(
  s: readonly Summary[],
  startup: StartupResult | undefined,
  once: readonly Summary[],
): Target[] {
  const out: Target[] = [];
  const find = (set: string, id: string) => s.find((x) => x.set === set && x.id === id);
  for (const set of [...new Set(s.map((x) => x.set))]) {
    const ratioTarget = (id: string, what: string, limit: number, against: string, cpu = false) => {
      const r = find(set, id);
      const [v, lo, hi] = cpu ? [r?.cpuRatio, r?.cpuRatioMin, r?.cpuRatioMax] : [r?.ratio, r?.ratioMin, r?.ratioMax];
      if (v !== undefined)
        out.push({
          what: `${what} (${set})`,
          limit: `≤ ${limit.toFixed(2)} × ${against}`,
          measured: ratioText(v, lo, hi),
          ok: v <= limit,
        });
    };
    ratioTarget('qshare-no-seed', '`qshare add --no-seed`, wall', 1.05, 'floor');
    ratioTarget('qshare-no-seed', '`qshare add --no-seed`, CPU', 1.35, 'floor', true);
    ratioTarget('qshare-seed', '`qshare add` until seeding', 1.05, "(floor + qBittorrent's own add → seeding)");
    ratioTarget('qshare-no-encrypt', '`qshare add --no-encrypt --no-seed`', 1.2, '`mktorrent -t 2`');
    if (set === 'text') continue;
    for (const id of ['qshare-no-seed', 'qshare-seed']) {
      const r = find(set, id);
      if (r) out.push(rssTarget(`${r.label} (${set})`, r.peakRssMiB, 100));
    }
  }
  for (const r of once) out.push(rssTarget(r.label, r.peakRssMiB, r.id.startsWith('many') ? 150 : 100));
  if (startup)
    out.push({
      what: '`qshare --help` start-up',
      limit: '≤ 2.00 × `node -e 0`',
      measured: ratioText(startup.helpRatio, startup.helpRatioMin, startup.helpRatioMax),
      ok: startup.helpRatio <= 2,
    });
  return out;
}

function rssTarget(what: string, mib: number, limit: number): Target {
  return { what: `peak RSS of ${what}`, limit: `≤ ${limit} MiB`, measured: `${mib.toFixed(0)} MiB`, ok: mib <= limit };
}

export interface StartupResult {
  /** median milliseconds per command line */
  medians: Record<string, number>;
  /** `qshare --help` / `node -e 0`, paired: the median of the per-round ratios, and their range */
  helpRatio: number;
  helpRatioMin?: number;
  helpRatioMax?: number;
}

const fmtS = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

/** A fixed-width text table (what the benchmark prints). */
export function textTable(s: readonly Summary[]): string {
  const rows = [
    [
      'set',
      'scenario',
      'median s',
      'min–max s',
      'paired ratio (range)',
      'vs',
      'CPU s',
      'CPU ratio (range)',
      'peak RSS MiB',
    ],
    ...s.map(row),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows
    .map(
      (r, j) =>
        r.map((c, i) => (i >= 2 && i !== 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ') +
        (j === 0 ? `\n${widths.map((w) => '─'.repeat(w)).join('  ')}` : ''),
    )
    .join('\n');
}

function row(x: Summary): string[] {
  return [
    x.set,
    x.label,
    fmtS(x.median),
    `${fmtS(x.min)}–${fmtS(x.max)}`,
    x.ratio === undefined ? '' : `${x.ratio.toFixed(2)} × (${x.ratioMin!.toFixed(2)}–${x.ratioMax!.toFixed(2)})`,
    x.ratio === undefined ? '' : (x.baseline ?? ''),
    x.cpuMedian === undefined ? '' : fmtS(x.cpuMedian),
    x.cpuRatio === undefined ? '' : ratioText(x.cpuRatio, x.cpuRatioMin, x.cpuRatioMax),
    x.peakRssMiB.toFixed(0),
  ];
}

export function markdownTable(s: readonly Summary[]): string {
  const head =
    '| set | scenario | median s | min–max s | paired ratio (range) | vs | CPU s | CPU ratio (range) | peak RSS MiB |\n|---|---|---:|---:|---:|---|---:|---:|---:|';
  return [head, ...s.map((x) => `| ${row(x).join(' | ')} |`)].join('\n');
}

export function targetsMarkdown(t: readonly Target[]): string {
  return [
    '| target | limit | measured | met |',
    '|---|---|---:|---|',
    ...t.map((x) => `| ${x.what} | ${x.limit} | ${x.measured} | ${x.ok ? 'yes' : '**no**'} |`),
  ].join('\n');
}

/** "256M", "2G", "1.5G", "4096" (bytes) → bytes */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new Error(`not a size: ${JSON.stringify(text)} (use e.g. 256M, 2G)`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[
    m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'
  ];
  return Math.round(Number(m[1]) * mult);
}

export function formatSize(bytes: number): string {
  for (const [u, m] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const)
    if (bytes >= m) return `${+(bytes / m).toFixed(2)} ${u}`;
  return `${bytes} B`;
}

/**
 * The least wall-clock time a run of `x` can take on `cores` cores, whatever it does in parallel: its CPU time spread
 * evenly over every core; as a multiple of its baseline's median time. Undefined without CPU times or a baseline.
 */
export function cpuFloorRatio(x: Summary, s: readonly Summary[], cores: number): number | undefined {
  const base = s.find((b) => b.set === x.set && b.id === x.baseline);
  if (x.cpuMedian === undefined || !base || !(base.median > 0) || !(cores >= 1)) return undefined;
  return x.cpuMedian / cores / base.median;
}

/** GNU time -v output → user + system CPU seconds (undefined when either is absent) */
export function parseCpuSeconds(text: string): number | undefined {
  const user = /User time \(seconds\): ([\d.]+)/.exec(text);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(text);
  return user && sys ? Number(user[1]) + Number(sys[1]) : undefined;
}

/** GNU time -v output → peak RSS in bytes (undefined when absent) */
export function parseTimeV(text: string): number | undefined {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}
