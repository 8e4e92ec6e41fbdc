import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sdkClients } from '../../lib/cli/aws';
import { bashCompletion, completionModel, zshCompletion } from '../../lib/cli/completion';
import { buildProgram } from '../../lib/cli/main';
import { runCli, tempDir } from './support';

/** `fabricctl completion bash|zsh`: the bash script is run by bash as bash runs it on TAB. */
const HAS_ZSH = spawnSync('zsh', ['--version'], { stdio: 'ignore' }).status === 0;
const HAS_SHELLCHECK = spawnSync('shellcheck', ['--version'], { stdio: 'ignore' }).status === 0;
for (const [found, tool, what] of [
  [HAS_ZSH, 'zsh', 'the zsh script parses'],
  [HAS_SHELLCHECK, 'shellcheck', 'the bash script is shellcheck-clean'],
] as const) {
  // eslint-disable-next-line no-console
  if (!found) console.warn(`SKIPPED completion test "${what}": ${tool} is not installed on this machine`);
}

function program() {
  const io = { out: () => undefined, err: () => undefined, isTTY: false, env: {}, cwd: '.', now: () => new Date(0) };
  return buildProgram({ io, clients: sdkClients, git: () => undefined }, () => undefined);
}

describe('fabricctl completion bash', () => {
  let script: string;
  let cwd: string;
  beforeAll(async () => {
    cwd = tempDir();
    const run = await runCli(['completion', 'bash'], { cwd });
    expect(run.code).toBe(0);
    script = join(cwd, 'completion.bash');
    writeFileSync(script, run.out);
    writeFileSync(join(cwd, 'fabric.json'), '{}');
  });

  /** What bash offers for the last word of `words` (the line typed so far, cursor at its end). */
  function complete(...words: string[]): string[] {
    const result = spawnSync(
      'bash',
      [
        '-c',
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _fabricctl; printf "%s\\n" "${COMPREPLY[@]}"',
        'bash',
        script,
        'fabricctl',
        ...words,
      ],
      {
        cwd,
        encoding: 'utf8',
      },
    );
    expect(result.stderr).toBe('');
    return result.stdout.split('\n').filter((l) => l !== '');
  }

  test('GIVEN no command yet WHEN completed THEN every command and alias of the program is offered', () => {
    const names = program().commands.flatMap((c) => [c.name(), ...c.aliases()]);
    expect(complete('')).toEqual(expect.arrayContaining([...names, 'help']));
    expect(complete('')).toEqual(expect.arrayContaining(['up', 'plan', 'down', 'status', 'ls', 'completion']));
  });

  test('GIVEN a prefix WHEN completed THEN only the commands it starts', () => {
    expect(complete('ap')).toEqual(['approve']);
  });

  test('GIVEN up and a dash WHEN completed THEN its options and the global ones', () => {
    expect(complete('up', '--')).toEqual(
      expect.arrayContaining(['--watch', '--no-watch', '--local', '--verbose', '--keep-emulator', '--output', '--json', '--region']),
    );
  });

  test('GIVEN kubeconfig WHEN its options are completed THEN the hidden plugin option is not offered', () => {
    const offered = complete('kubeconfig', 'demo', '--');
    expect(offered).toEqual(expect.arrayContaining(['--out', '--ttl', '--server']));
    expect(offered).not.toContain('--credential');
  });

  test('GIVEN -o WHEN its value is completed THEN the formats', () => {
    expect(complete('status', '-o', '')).toEqual(['text', 'json', 'yaml']);
    expect(complete('-o', 'y')).toEqual(['yaml']);
  });

  test('GIVEN up WHEN its spec is completed THEN files, also after an option and its value', () => {
    expect(complete('up', 'fab')).toEqual(['fabric.json']);
    expect(complete('--region', 'eu-west-1', 'up', '--endpoint', 'http://127.0.0.1:5000', 'fab')).toEqual(['fabric.json']);
  });

  test('GIVEN down WHEN its name is completed THEN no files are offered (a fabric is not a file)', () => {
    expect(complete('down', 'fab')).toEqual([]);
  });

  test('GIVEN completion WHEN its shell is completed THEN bash and zsh', () => {
    expect(complete('completion', '')).toEqual(['bash', 'zsh']);
  });

  (HAS_SHELLCHECK ? test : test.skip)('GIVEN the script WHEN shellcheck reads it THEN it is clean', () => {
    const shellcheck = spawnSync('shellcheck', ['-s', 'bash', script], { encoding: 'utf8' });
    expect(`${shellcheck.stdout}${shellcheck.stderr}`).toBe('');
  });
});

describe('completion scripts are made from the program', () => {
  test('GIVEN a command added to the program WHEN scripts are made THEN it and its options complete, with no list to update', () => {
    const p = program();
    p.command('frobnicate <spec>').description('a new command').option('--wobble <level>', 'how much');
    const model = completionModel(p);
    expect(model.commands.find((c) => c.names[0] === 'frobnicate')).toMatchObject({
      options: expect.arrayContaining([expect.objectContaining({ flags: ['--wobble'] })]),
      args: [{ kind: 'files' }],
    });
    expect(bashCompletion(model)).toContain("'frobnicate')");
    expect(zshCompletion(model)).toContain("'frobnicate:a new command'");
  });

  test(
    'GIVEN the zsh script WHEN read ' +
      'THEN every command is described, -o offers the formats, the hidden option is absent and it registers itself',
    async () => {
      const run = await runCli(['completion', 'zsh']);
      expect(run.code).toBe(0);
      expect(run.out.split('\n')[0]).toBe('#compdef fabricctl');
      for (const command of program().commands) expect(run.out).toContain(`    '${command.name()}:`);
      expect(run.out).toContain("'(-o --output)'{-o,--output}'[output format]:value:(text json yaml)'");
      expect(run.out).not.toContain('--credential');
      expect(run.out).toContain('compdef _fabricctl fabricctl');
    },
  );

  (HAS_ZSH ? test : test.skip)('GIVEN zsh WHEN it parses the script THEN there is no syntax error', async () => {
    const run = await runCli(['completion', 'zsh']);
    const dir = tempDir();
    writeFileSync(join(dir, '_fabricctl'), run.out);
    expect(spawnSync('zsh', ['-n', join(dir, '_fabricctl')], { encoding: 'utf8' }).status).toBe(0);
  });

  test('fails when the shell is not one it knows: exit 2 naming the choices', async () => {
    const run = await runCli(['completion', 'fish']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('Allowed choices are bash, zsh');
  });
});
