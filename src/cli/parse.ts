/**
 * The one reader of qshare's command line, from the command table (spec.ts). Pure. Node's util.parseArgs splits
 * the words (`--a=b`, `-h`, the `--` that ends the options, which word is an option's value); this file checks them
 * against the table and says in its own words what is wrong. `--help`, `--version` and Tab-completion requests are
 * answered from the same table (help.ts, completion.ts).
 */
import { parseArgs } from 'node:util';
import {
  COMMANDS,
  GLOBAL_OPTIONS,
  type CommandName,
  type CommandSpec,
  type OptionSpec,
  type ParsedArgs,
  type ParsedValue,
} from './spec.js';
import { UsageError } from './usage-error.js';

export type CommandLine =
  | { kind: 'run'; command: CommandName; args: ParsedArgs }
  | { kind: 'help'; command?: CommandName }
  | { kind: 'version' }
  /** `qshare --get-completions bash|zsh <words so far>`; `legacy` is the flag scripts written before 0.2 use */
  | { kind: 'complete'; shell: 'bash' | 'zsh' | 'legacy'; words: string[] };

const NUMBER = /^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?$/;
/** a value that starts with a dash but is a number (`--level -1`): no option's name starts with a digit */
const NEGATIVE = /^-[0-9]/;

/** Where the command name is in `words`: the first word that is neither an option nor a global option's value. */
export function commandIndex(words: readonly string[]): number {
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '--') return -1;
    if (!w.startsWith('-') || w === '-') return i;
    const takesValue = GLOBAL_OPTIONS.some((o) => o.type !== 'boolean' && w === `--${o.name}`);
    if (takesValue) i++;
  }
  return -1;
}

export function parseCommandLine(argv: readonly string[], commands: readonly CommandSpec[] = COMMANDS): CommandLine {
  if (argv[0] === '--get-completions') {
    const shell = argv[1] === 'zsh' ? 'zsh' : 'bash';
    return { kind: 'complete', shell, words: argv.slice(2) };
  }
  if (argv[0] === '--get-yargs-completions') return { kind: 'complete', shell: 'legacy', words: argv.slice(1) };

  const end = argv.indexOf('--');
  const optionWords = end < 0 ? argv : argv.slice(0, end);
  const at = commandIndex(argv);
  const name = at < 0 ? undefined : argv[at];
  const spec = commands.find((c) => c.name === name);
  if (optionWords.includes('--help') || optionWords.includes('-h') || name === 'help') {
    const about = name === 'help' ? commands.find((c) => c.name === argv[at + 1]) : spec;
    return about ? { kind: 'help', command: about.name } : { kind: 'help' };
  }
  if (optionWords.includes('--version')) return { kind: 'version' };
  if (name === undefined) throw new UsageError('name a command, for example: qshare add <folder>');
  if (!spec)
    throw new UsageError(
      `there is no command "${name}"${suggest(
        name,
        commands.map((c) => c.name),
      )}`,
    );

  const words = [...argv.slice(0, at), ...argv.slice(at + 1)];
  const { values, operands } = readOptions(words, [...GLOBAL_OPTIONS, ...spec.options], spec);
  const args: Record<string, ParsedValue> = {};
  for (const o of [...GLOBAL_OPTIONS, ...spec.options])
    args[o.name] = values.has(o.name) ? values.get(o.name) : o.default;
  const operand = spec.operand;
  if (!operand) {
    if (operands.length > 0)
      throw new UsageError(`qshare ${spec.name} takes no operand (got "${operands[0]}")`, spec.name);
    return { kind: 'run', command: spec.name, args };
  }
  const [value, extra] = operands;
  if (extra !== undefined)
    throw new UsageError(
      `qshare ${spec.name} takes one <${operand.name}> (got "${value}" and "${extra}"; quote a name with spaces)`,
      spec.name,
    );
  if (value === undefined && operand.required)
    throw new UsageError(
      `qshare ${spec.name} needs <${operand.name}>${operand.describe ? `: ${operand.describe}` : ''}`,
      spec.name,
    );
  if (value === '') throw new UsageError(`<${operand.name}> is empty`, spec.name);
  if (value !== undefined && operand.choices && !operand.choices.includes(value)) {
    throw new UsageError(
      `qshare ${spec.name} <${operand.name}> is one of ${operand.choices.join(', ')} (got "${value}")`,
      spec.name,
    );
  }
  args[operand.name] = value;
  return { kind: 'run', command: spec.name, args };
}

/** The options and operands in `words` (the command name taken out), checked against `options`. */
function readOptions(
  words: string[],
  options: readonly OptionSpec[],
  spec: CommandSpec,
): { values: Map<string, ParsedValue>; operands: string[] } {
  const byName = new Map(options.map((o) => [o.name, o]));
  const config = Object.fromEntries(
    options.map((o) => [o.name, { type: o.type === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
  );
  const { tokens } = parseArgs({ args: words, options: config, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, ParsedValue>();
  const operands: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') operands.push(t.value);
    if (t.kind !== 'option') continue;
    const negated = t.name.startsWith('no-') && !byName.has(t.name) ? byName.get(t.name.slice(3)) : undefined;
    const o = negated?.type === 'boolean' ? negated : byName.get(t.name);
    if (!o) {
      const names = options.map((x) => `--${x.name}`);
      throw new UsageError(`qshare ${spec.name} has no option ${t.rawName}${suggest(t.rawName, names)}`, spec.name);
    }
    if (o.type === 'boolean') {
      if (t.inlineValue)
        throw new UsageError(`${t.rawName} takes no value: write ${t.rawName} or --no-${o.name}`, spec.name);
      values.set(o.name, o !== negated);
      continue;
    }
    const v = t.value;
    if (v === undefined || v === '' || (!t.inlineValue && v.startsWith('-') && !NEGATIVE.test(v))) {
      throw new UsageError(
        `${t.rawName} needs a value${v?.startsWith('-') ? ` (for one that starts with "-", write ${t.rawName}=${v})` : ''}`,
        spec.name,
      );
    }
    if (o.array) {
      values.set(o.name, [...((values.get(o.name) as string[] | undefined) ?? []), v]);
      continue;
    }
    if (values.has(o.name)) throw new UsageError(`${t.rawName} is given twice`, spec.name);
    if (o.type === 'number') {
      if (!NUMBER.test(v)) throw new UsageError(`${t.rawName} takes a number (got "${v}")`, spec.name);
      values.set(o.name, Number(v));
    } else {
      values.set(o.name, v);
    }
  }
  return { values, operands };
}

/** `; did you mean --private?` when one name is close to what was typed (a prefix, or an edit or two away). */
export function suggest(typed: string, names: readonly string[]): string {
  const edits = typed.length >= 4 ? 2 : 1;
  const close = names.filter((n) => (typed.length >= 3 && n.startsWith(typed)) || distance(typed, n) <= edits);
  return close.length === 1 ? `; did you mean ${close[0]}?` : '';
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] as number;
}
