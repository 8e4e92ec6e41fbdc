import type { Command, Option } from 'commander';
import type { CliDeps } from './commands';
import { CliError, EXIT, ExitCode } from './io';

/**
 * `fabricctl completion bash|zsh`: a completion script made from the program's own commands and
 * options (commander has none built in), so a command or option added to main.ts completes without
 * anyone listing it here. Hidden options (the kubeconfig plugin's --credential) are left out.
 */

export type Shell = 'bash' | 'zsh';
export const SHELLS: readonly Shell[] = ['bash', 'zsh'];

/** What completes after an option or in an argument's place. */
type Values = { readonly kind: 'none' } | { readonly kind: 'files' } | { readonly kind: 'words'; readonly words: readonly string[] };

export interface OptionModel {
  /** Its spellings: `-o`, `--output`. */
  readonly flags: readonly string[];
  readonly description: string;
  /** Undefined when the option takes no value. */
  readonly value?: Values;
}

export interface CommandModel {
  /** Its name, then its aliases. */
  readonly names: readonly string[];
  readonly description: string;
  readonly options: readonly OptionModel[];
  /** What its arguments complete to, in order. */
  readonly args: readonly Values[];
  /** Its last argument takes any number of words (`validate <spec...>`). */
  readonly variadic: boolean;
}

export interface CompletionModel {
  readonly program: string;
  readonly options: readonly OptionModel[];
  readonly commands: readonly CommandModel[];
}

/** Arguments and option values that are paths: a spec file, a file to write. */
const PATH_VALUES = /^(spec|file|path|out)$/;

function valuesOf(placeholder: string | undefined, choices: readonly string[] | undefined): Values {
  if (choices && choices.length > 0) return { kind: 'words', words: choices };
  if (placeholder !== undefined && PATH_VALUES.test(placeholder)) return { kind: 'files' };
  return { kind: 'none' };
}

function optionModel(option: Option): OptionModel {
  const flags = [option.short, option.long].filter((f): f is string => typeof f === 'string');
  const takesValue = option.required || option.optional;
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  return { flags, description: option.description, ...(takesValue ? { value: valuesOf(placeholder, option.argChoices) } : {}) };
}

/** The model of a commander program, read through its help API (what `--help` lists). */
export function completionModel(program: Command): CompletionModel {
  const help = program.createHelp();
  const commandNames = help.visibleCommands(program).flatMap((c) => [c.name(), ...c.aliases()]);
  return {
    program: program.name(),
    options: help.visibleOptions(program).map(optionModel),
    commands: help.visibleCommands(program).map((command) => ({
      names: [command.name(), ...command.aliases()],
      description: command.summary() || command.description(),
      options: help.visibleOptions(command).map(optionModel),
      args: command.registeredArguments.map((arg) =>
        // `help [command]` completes to the commands.
        command.name() === 'help' ? { kind: 'words' as const, words: commandNames } : valuesOf(arg.name(), arg.argChoices),
      ),
      variadic: command.registeredArguments.at(-1)?.variadic === true,
    })),
  };
}

/** A bash word list, single-quoted. */
function quoted(words: readonly string[]): string {
  return `'${words.join(' ').replace(/'/g, `'\\''`)}'`;
}

/** bash: the reply for `values`, as a line of the generated script (empty when nothing completes). */
function bashReply(reply: string, values: Values | undefined): string {
  if (values?.kind === 'files') return `${reply} compgen -f -- "\${cur}"`;
  if (values?.kind === 'words') return `${reply} compgen -W ${quoted(values.words)} -- "\${cur}"`;
  return 'COMPREPLY=()';
}

/** A bash case pattern of words, each quoted. */
function pattern(words: readonly string[]): string {
  return words.map((w) => `'${w}'`).join('|');
}

/** The shell function's name: `_fabricctl`. */
function functionName(model: CompletionModel): string {
  return `_${model.program.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export function bashCompletion(model: CompletionModel): string {
  const fn = functionName(model);
  const reply = `${fn}_reply`;
  // Words that are option values, not arguments: the flags that take a value in every command that has them.
  const allOptions = [...model.options, ...model.commands.flatMap((c) => c.options)];
  const boolean = new Set(allOptions.filter((o) => o.value === undefined).flatMap((o) => o.flags));
  const valued = [...new Set(allOptions.filter((o) => o.value !== undefined).flatMap((o) => o.flags))].filter((f) => !boolean.has(f));
  const lines: string[] = [
    `# ${model.program} completion for bash (made from the program's own commands by \`${model.program} completion bash\`).`,
    `# Load it in this shell: source <(${model.program} completion bash)`,
    `# or for every shell: ${model.program} completion bash > ~/.local/share/bash-completion/completions/${model.program}`,
    '',
    '# Sets COMPREPLY to the lines a command prints (bash 3.2 has no mapfile).',
    `${reply}() {`,
    '  local word',
    '  COMPREPLY=()',
    '  while IFS= read -r word; do COMPREPLY+=("${word}"); done < <("$@")',
    '}',
    '',
    `${fn}() {`,
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}" cmd="" i word',
    '  local -a args=()',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    word="${COMP_WORDS[i]}"',
    '    case "${word}" in',
    ...(valued.length > 0 ? [`      ${pattern(valued)}) ((i++)) ;;`] : []),
    '      -*) ;;',
    '      *)',
    '        if [[ -z "${cmd}" ]]; then cmd="${word}"; else args+=("${word}"); fi',
    '        ;;',
    '    esac',
    '  done',
    '  case "${cmd}" in',
  ];
  const commandWords = model.commands.flatMap((c) => c.names);
  const valueCases = (options: readonly OptionModel[]) =>
    options.filter((o) => o.value !== undefined).map((o) => `        ${pattern(o.flags)}) ${bashReply(reply, o.value)}; return ;;`);
  lines.push(
    '    "")',
    '      case "${prev}" in',
    ...valueCases(model.options),
    '      esac',
    '      if [[ "${cur}" == -* ]]; then',
    `        ${reply} compgen -W ${quoted(model.options.flatMap((o) => o.flags))} -- "\${cur}"`,
    '      else',
    `        ${reply} compgen -W ${quoted(commandWords)} -- "\${cur}"`,
    '      fi',
    '      ;;',
  );
  for (const command of model.commands) {
    lines.push(`    ${pattern(command.names)})`, '      case "${prev}" in', ...valueCases(command.options), '      esac');
    lines.push(
      '      if [[ "${cur}" == -* ]]; then',
      `        ${reply} compgen -W ${quoted(command.options.flatMap((o) => o.flags))} -- "\${cur}"`,
      '        return',
      '      fi',
    );
    // The argument in the cursor's place; past the last, only a variadic one goes on.
    lines.push('      case "${#args[@]}" in');
    command.args.forEach((values, index) => {
      const last = index === command.args.length - 1;
      lines.push(`        ${last && command.variadic ? '*' : index}) ${bashReply(reply, values)} ;;`);
    });
    if (!command.variadic) lines.push('        *) COMPREPLY=() ;;');
    lines.push('      esac');
    lines.push('      ;;');
  }
  lines.push('  esac', '}', '', `complete -o filenames -F ${fn} ${model.program}`, '');
  return lines.join('\n');
}

/** A zsh description: short, and without what would end a spec early (brackets, colons, quotes). */
function zshText(text: string): string {
  let short = (text.split('; ')[0] ?? text).replace(/: /g, ', ').replace(/:/g, ' ').replace(/\[/g, '(').replace(/\]/g, ')');
  if (short.length > 80) short = `${short.slice(0, 77)}...`;
  return short.replace(/'/g, "'\\''");
}

function zshAction(values: Values | undefined): string {
  if (values?.kind === 'files') return '_files';
  if (values?.kind === 'words') return `(${values.words.join(' ')})`;
  return ' ';
}

function zshOptionSpecs(options: readonly OptionModel[]): string[] {
  return options.map((o) => {
    const exclusive = o.flags.length > 1 ? `(${o.flags.join(' ')})` : '';
    const names = o.flags.length > 1 ? `{${o.flags.join(',')}}` : (o.flags[0] ?? '');
    const value = o.value === undefined ? '' : `:value:${zshAction(o.value)}`;
    return `'${exclusive}'${names}'[${zshText(o.description)}]${value}'`;
  });
}

export function zshCompletion(model: CompletionModel): string {
  const fn = functionName(model);
  const lines: string[] = [
    `#compdef ${model.program}`,
    `# ${model.program} completion for zsh (made from the program's own commands by \`${model.program} completion zsh\`).`,
    `# Load it in this shell: source <(${model.program} completion zsh)`,
    `# or for every shell: ${model.program} completion zsh > "\${fpath[1]}/_${model.program}"`,
    '',
    `${fn}() {`,
    '  local curcontext="$curcontext" state line',
    '  typeset -A opt_args',
    '  local -a commands',
    '  commands=(',
    ...model.commands.flatMap((c) => c.names.map((name) => `    '${name}:${zshText(c.description)}'`)),
    '  )',
    '  _arguments -C \\',
    ...zshOptionSpecs(model.options).map((spec) => `    ${spec} \\`),
    "    '1: :->command' \\",
    "    '*:: :->args'",
    '  case $state in',
    '    command)',
    `      _describe -t commands '${model.program} command' commands`,
    '      ;;',
    '    args)',
    '      case $line[1] in',
  ];
  for (const command of model.commands) {
    const argSpecs = command.args.map((values, index) => {
      const last = index === command.args.length - 1;
      return `'${last && command.variadic ? '*' : String(index + 1)}: :${zshAction(values)}'`;
    });
    lines.push(`        ${command.names.join('|')})`, '          _arguments \\');
    for (const spec of [...zshOptionSpecs(command.options), ...argSpecs]) lines.push(`            ${spec} \\`);
    lines[lines.length - 1] = (lines[lines.length - 1] ?? '').replace(/ \\$/, '');
    lines.push('          ;;');
  }
  lines.push(
    '      esac',
    '      ;;',
    '  esac',
    '}',
    '',
    '# Autoloaded from $fpath the file is the function; sourced, it registers itself.',
    `if [ "$funcstack[1]" = "${fn}" ]; then`,
    `  ${fn} "$@"`,
    'else',
    `  compdef ${fn} ${model.program}`,
    'fi',
    '',
  );
  return lines.join('\n');
}

export async function completionCommand(deps: CliDeps, shell: string, program: Command): Promise<ExitCode> {
  const model = completionModel(program);
  if (shell === 'bash') deps.io.out(bashCompletion(model));
  else if (shell === 'zsh') deps.io.out(zshCompletion(model));
  else throw new CliError(EXIT.USAGE, 'ShellUnsupported', `no completion for ${JSON.stringify(shell)}: choose one of ${SHELLS.join(', ')}`);
  return EXIT.OK;
}
