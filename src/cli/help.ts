/**
 * `qshare --help` and `qshare COMMAND --help`, rendered from the command table (spec.ts). Pure: text in, text out,
 * wrapped to the terminal's width (at most 110 columns; 100 when not a terminal).
 */
import { COMMANDS, GLOBAL_OPTIONS, SUMMARY, type CommandName, type CommandSpec, type OptionSpec } from './spec.js';

export function helpWidth(columns: number | undefined): number {
  return Math.max(40, Math.min(110, columns ?? 100));
}

/** `add <path>`, `watch [dir]`, `ls` */
export function commandUsage(c: CommandSpec): string {
  if (!c.operand) return c.name;
  return c.operand.required ? `${c.name} <${c.operand.name}>` : `${c.name} [${c.operand.name}]`;
}

export function renderHelp(
  columns: number | undefined,
  command?: CommandName,
  commands: readonly CommandSpec[] = COMMANDS,
): string {
  const width = helpWidth(columns);
  const c = commands.find((x) => x.name === command);
  if (!c) {
    return [
      'Usage: qshare <command> [options]',
      '',
      ...wrap(SUMMARY, width, 0),
      '',
      'Commands:',
      ...table(
        commands.map((x) => [`qshare ${commandUsage(x)}`, x.describe]),
        width,
      ),
      '',
      'Options:',
      ...table(
        [
          ...GLOBAL_OPTIONS.map(optionRow),
          ['-h, --help', "show this help; qshare COMMAND --help shows a command's options"],
          ['--version', 'show the version'],
        ],
        width,
      ),
      '',
    ].join('\n');
  }
  const operand = c.operand;
  return [
    `Usage: qshare ${commandUsage(c)}${c.options.length > 0 ? ' [options]' : ''}`,
    '',
    ...wrap(c.describe, width, 0),
    ...(operand
      ? [
          '',
          ...table(
            [
              [
                `<${operand.name}>`,
                [
                  operand.describe,
                  operand.choices ? `one of: ${operand.choices.join(', ')}` : undefined,
                  operand.required ? undefined : '(optional)',
                ]
                  .filter(Boolean)
                  .join('; '),
              ],
            ],
            width,
          ),
        ]
      : []),
    ...(c.options.length > 0 ? ['', 'Options:', ...table(c.options.map(optionRow), width)] : []),
    '',
    'Global options:',
    ...table([...GLOBAL_OPTIONS.map(optionRow), ['-h, --help', 'show this help']], width),
    '',
  ].join('\n');
}

function optionRow(o: OptionSpec): [string, string] {
  if (o.type === 'boolean')
    return [
      o.default === true ? `--[no-]${o.name}` : `--${o.name}`,
      o.default === true ? `${o.describe} (default: on)` : o.describe,
    ];
  return [`--${o.name} ${o.value ?? o.name.toUpperCase()}`, o.describe];
}

/** Two columns: the left as wide as its widest entry (at most a third of the width), the right wrapped beside it. */
function table(rows: readonly (readonly [string, string])[], width: number): string[] {
  const left = Math.min(Math.max(...rows.map(([l]) => l.length)), Math.floor(width / 3));
  const indent = 2 + left + 2;
  const out: string[] = [];
  for (const [l, r] of rows) {
    const text = wrap(r, width, indent);
    if (l.length > left) {
      out.push(`  ${l}`, ...text);
    } else {
      out.push(`  ${l.padEnd(left)}  ${(text[0] ?? '').trimStart()}`, ...text.slice(1));
    }
  }
  return out;
}

/** Words of `text` in lines of at most `width` characters, each indented by `indent` spaces. */
export function wrap(text: string, width: number, indent: number): string[] {
  const room = Math.max(20, width - indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => `${' '.repeat(indent)}${l}`);
}
