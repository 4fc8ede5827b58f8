/**
 * The yargs parser, built from the command table (spec.ts). It handles what fast-parse.ts leaves to it: --help,
 * --version, Tab-completion requests, and every command line that is wrong or unusual, with yargs' messages.
 * Loaded only then (yargs takes about as long to load as Node takes to start).
 */
import yargs, { type Argv } from 'yargs';
import { helpWidth } from './help-cache.js';
import { UsageError } from './usage-error.js';
import { COMMANDS, GLOBAL_OPTIONS, USAGE, yargsCommand, type CommandSpec, type OptionSpec, type ParsedArgs, type ParsedCommand, type ParsedValue } from './spec.js';

function addOption(y: Argv, o: OptionSpec): Argv {
  return y.option(o.name, {
    type: o.type,
    describe: o.describe,
    ...(o.array ? { array: true } : {}),
    ...(o.default !== undefined ? { default: o.default } : {}),
  });
}

function build(c: CommandSpec, y: Argv): Argv {
  let out = y;
  if (c.operand) {
    const p = c.operand;
    out = out.positional(p.name, {
      type: 'string',
      ...(p.describe ? { describe: p.describe } : {}),
      ...(p.choices ? { choices: [...p.choices] } : {}),
      ...(p.required ? { demandOption: true } : {}),
    });
  }
  for (const o of c.options) out = addOption(out, o);
  return out;
}

/** The values the table names, from what yargs parsed (yargs also adds camelCase copies, `_` and `$0`). */
function pick(c: CommandSpec, a: Record<string, unknown>): ParsedArgs {
  const args: Record<string, ParsedValue> = {};
  for (const o of [...GLOBAL_OPTIONS, ...c.options]) args[o.name] = a[o.name] as ParsedValue;
  if (c.operand) args[c.operand.name] = a[c.operand.name] as ParsedValue;
  return args;
}

/**
 * Parses `words` with yargs. Returns the command to run, or undefined when yargs answered by itself (help,
 * version, completions: already printed). A wrong command line → UsageError with yargs' message.
 */
export async function parseWithYargs(words: string[], version: string, columns: number | undefined): Promise<ParsedCommand | undefined> {
  let parsed: ParsedCommand | undefined;
  let parser = yargs(words).scriptName('qshare').usage(USAGE).version(version);
  for (const o of GLOBAL_OPTIONS) parser = addOption(parser, o);
  for (const c of COMMANDS) {
    parser = parser.command(
      yargsCommand(c),
      c.describe,
      (y) => build(c, y),
      (a) => {
        parsed = { command: c.name, args: pick(c, a) };
      },
    );
  }
  await parser
    .demandCommand(1, 'name a command: qshare add <folder>')
    .strict()
    .help()
    .alias('h', 'help')
    .wrap(helpWidth(columns))
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs reports its own parse/validation failures as a message (or a YError, possibly wrapping what an
      // earlier fail() threw)
      if (err instanceof UsageError) throw err;
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(msg || err?.message || 'invalid command line');
    })
    .parseAsync();
  return parsed;
}
