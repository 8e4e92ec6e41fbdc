import { Argument, Command, CommanderError, Option } from 'commander';
import { STSClient } from '@aws-sdk/client-sts';
import { FabricError } from '../domain/errors';
import { packageVersion } from '../package-root';
import { applyProfile, sdkClients } from './aws';
import {
  CliDeps,
  costCommand,
  initCommand,
  listCommand,
  logsCommand,
  renderProblems,
  runCommand,
  statusCommand,
  validateCommand,
} from './commands';
import { completionCommand, SHELLS } from './completion';
import { approvalCommand, extendCommand } from './day2';
import { CliError, CliIo, EXIT, ExitCode, printJson, processIo, structuredFormatOf, terminalQuestion } from './io';
import { kubeconfigCommand } from './kubeconfig';
import { gitProbe } from './remote';

/** The local account's commands, loaded when one is used. */
function localAccount(): typeof import('./local-account') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./local-account') as typeof import('./local-account');
}

/**
 * `fabricctl`: commands parse their arguments here and run in ./commands.ts. `main` returns the
 * exit code instead of exiting, so tests run the whole CLI in process.
 */
function addGlobals(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']))
    .option('--json', 'same as -o json')
    .option('--region <region>', "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-2)")
    .option('--profile <profile>', 'AWS named profile (default: AWS_PROFILE)')
    .option('--stack <name>', 'the orchestrator stack (default: FabricOrchestrator)');
}

function addRunOptions(command: Command): Command {
  return command
    .option('--watch', 'follow the execution (default on a terminal)')
    .option('--no-watch', 'start the execution and return')
    .option('--local', 'run on this machine against the AWS emulator instead of the deployed stack')
    .option('--endpoint <url>', 'with --local: an emulator already running')
    .option(
      '--aws',
      'with --local: run the jobs here against your real AWS account, with the real kops on PATH (no emulator, no stand-ins)',
    )
    .option('--keep-emulator', 'with --local: leave the emulator running afterwards (prints its endpoint and pid)')
    .option(
      '--verbose',
      "print every build log line as it comes (otherwise only a failed build's last lines); " +
        "with --local, also the functions' own log lines",
    )
    .option('--approve', 'with --local: approve the plan when the run asks (otherwise asked on a terminal)')
    .option('--rerun', 'start a new execution even if this commit already ran');
}

export function buildProgram(deps: CliDeps, setExit: (code: ExitCode) => void): Command {
  const program = new Command('fabricctl')
    .description(
      'Provision highly available kops Kubernetes fabrics, one per git branch, with the fabricctl state machine in your AWS account.',
    )
    .version(packageVersion())
    .showHelpAfterError('(run fabricctl --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.io.out(s), writeErr: (s) => deps.io.err(s) });
  addGlobals(program);

  const run =
    (fn: (opts: Record<string, unknown>, command: Command) => Promise<ExitCode>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command;
      const opts = command.optsWithGlobals<Record<string, unknown>>();
      applyProfile(opts.profile as string | undefined, deps.io.env);
      setExit(await fn(opts, command));
    };
  // Commands that read what runs: with --local, against the running local account (lib/cli/local-account.ts).
  const runAgainst = (fn: (deps: CliDeps, opts: Record<string, unknown>, command: Command) => Promise<ExitCode>) =>
    run(async (opts, command) => {
      if (!opts.local) return fn(deps, opts, command);
      const local = localAccount();
      return fn(local.localAccountDeps(deps, local.requireLocalAccount(deps)), opts, command);
    });
  const withLocal = (command: Command): Command =>
    command.option('--local', 'against the local account on this machine (fabricctl local start)');

  addGlobals(program.command('init <name>'))
    .description("write ./fabric.json for a new fabric, with the region's zones discovered and pinned")
    .requiredOption('--domain <domain>', 'public Route 53 hosted zone the cluster is named under')
    .addOption(new Option('--zone-count <n>', 'zones to spread over (odd, for etcd quorum)').choices(['3', '5']).default('3'))
    .option('-f, --file <path>', 'where to write the spec', 'fabric.json')
    .option('--force', 'overwrite an existing file')
    .action(run((opts, c) => initCommand(deps, c.args[0] ?? '', opts as never)));

  addGlobals(program.command('validate <spec...>'))
    .description(
      'check specs with the schema the state machine uses; lists every problem (field, value, fix). ' +
        'A directory means every fabric.json under it; two specs naming the same fabric are reported',
    )
    .action(run((opts, c) => validateCommand(deps, c.args, opts)));

  addRunOptions(addGlobals(program.command('up <spec>')))
    .description('provision (or update) the fabric a spec describes')
    .action(run((opts, c) => runCommand(deps, 'provision', c.args[0] ?? '', opts)));

  addRunOptions(addGlobals(program.command('plan <spec>')))
    .description('show what provisioning would change, changing nothing')
    .action(run((opts, c) => runCommand(deps, 'plan', c.args[0] ?? '', opts)));

  addRunOptions(addGlobals(program.command('down <name>')))
    .description('destroy a fabric (cluster, then network); the state bucket and its versions are kept')
    .option('--confirm <name>', "the fabric's name again (asked for on a terminal when missing)")
    .option('--fabric-region <region>', "the fabric's region when it differs from the stack's")
    .action(run((opts, c) => runCommand(deps, 'destroy', c.args[0] ?? '', opts)));

  withLocal(addGlobals(program.command('status [name]')))
    .description("a fabric's record: status, zones, outputs, last execution, age (all fabrics without a name)")
    .option('--bucket-prefix <prefix>', "state bucket prefix (default: the stack's, else fabricctl-state)")
    .action(runAgainst((d, opts, c) => statusCommand(d, c.args[0], opts)));

  withLocal(addGlobals(program.command('list')))
    .alias('ls')
    .description('the fabrics of this account and region')
    .option('--bucket-prefix <prefix>', "state bucket prefix (default: the stack's, else fabricctl-state)")
    .action(runAgainst((d, opts) => listCommand(d, opts)));

  withLocal(addGlobals(program.command('logs <name>')))
    .description("the steps of a fabric's last execution and its build logs")
    .option('--bucket-prefix <prefix>', "state bucket prefix (default: the stack's, else fabricctl-state)")
    .action(runAgainst((d, opts, c) => logsCommand(d, c.args[0] ?? '', opts)));

  withLocal(addGlobals(program.command('approve <name>')))
    .description('approve the plan a provision of the fabric waits on (specs with "approve": "required", protected fabrics)')
    .action(runAgainst((d, opts, c) => approvalCommand(d, 'approve', c.args[0] ?? '', opts)));

  withLocal(addGlobals(program.command('reject <name>')))
    .description('reject the plan a provision of the fabric waits on: the run ends, nothing is applied')
    .option('--reason <text>', "why, kept in the run's failure cause")
    .action(runAgainst((d, opts, c) => approvalCommand(d, 'reject', c.args[0] ?? '', opts)));

  withLocal(addGlobals(program.command('extend <name> <duration>')))
    .description('move a leased fabric\'s expiry (spec "expiresAfter") later, e.g. fabricctl extend demo 24h')
    .option('--fabric-region <region>', "the fabric's region when it differs from the stack's")
    .action(runAgainst((d, opts, c) => extendCommand(d, c.args[0] ?? '', c.args[1] ?? '', opts)));

  addGlobals(program.command('kubeconfig <name>'))
    .description(
      "write a kubeconfig for the fabric's cluster (merged into $KUBECONFIG's first file or ~/.kube/config, as the current context) " +
        'whose credentials are short-lived client certificates fabricctl mints when kubectl asks',
    )
    .option('--out <file>', 'write to this file instead (mode 0600; other entries in it are kept)')
    .option('--ttl <duration>', 'lifetime of each client certificate, 5m to 24h', '1h')
    .option('--server <url>', "the API's URL when not https://api.<cluster> (the certificate is still checked for api.<cluster>)")
    .option('--bucket-prefix <prefix>', "state bucket prefix (default: the stack's, else fabricctl-state)")
    .option('--local', 'read the fabric from the AWS emulator of a local run (needs --endpoint)')
    .option('--endpoint <url>', 'with --local: the emulator a run left running (--keep-emulator)')
    // What the kubeconfig's exec plugin runs: prints a client-go ExecCredential.
    .addOption(new Option('--credential').hideHelp())
    .action(run((opts, c) => kubeconfigCommand(deps, c.args[0] ?? '', opts)));

  const local = program
    .command('local')
    .description(
      'a local account on this machine that keeps running: the AWS emulator with its state in a folder, the stand-ins, ' +
        'and a Step Functions endpoint running the synthesized state machine',
    );
  addGlobals(local.command('start'))
    .description(
      'start the local account in the background (its folder: $FABRICCTL_LOCAL_HOME, else ~/.fabricctl/local); ' +
        'then --local commands and aws --endpoint-url use it',
    )
    .option('--port <port>', "the Step Functions endpoint's port (default: a free one)")
    .option(
      '--repository <name=dir>',
      'a CodeCommit repository the runs read fabric.json from, answered from a local git work tree (repeatable)',
      (value: string, all: string[] = []) => [...all, value],
    )
    .option('--verbose', "keep the functions' own log lines in the daemon's log")
    .action(run((opts) => localAccount().localStartCommand(deps, opts)));
  addGlobals(local.command('status'))
    .description('what the local account runs (PIDs, endpoints) and whether each part is alive')
    .action(run((opts) => localAccount().localStatusCommand(deps, opts)));
  addGlobals(local.command('stop'))
    .description('stop the local account by its PIDs; its state stays in its folder for the next start')
    .action(run((opts) => localAccount().localStopCommand(deps, opts)));

  addGlobals(program.command('cost <spec>'))
    .description('estimate what the fabric costs per month, and a run')
    .action(run((opts, c) => costCommand(deps, c.args[0] ?? '', opts)));

  program
    .command('completion')
    .description('print a shell completion script made from these commands: source <(fabricctl completion bash), or zsh')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action(run((_opts, c) => completionCommand(deps, c.args[0] ?? '', program)));

  return program;
}

function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  const name = (error as Error).name ?? '';
  if (name === 'FabricSpecInvalid' || name === 'InsufficientZones') return EXIT.USAGE;
  if (/NotFound|DoesNotExist|NoSuch/.test(name)) return EXIT.NOT_FOUND;
  return EXIT.FAILED;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], givenDeps: CliDeps): Promise<ExitCode> {
  let code: ExitCode = EXIT.OK;
  const format = structuredFormatOf(argv);
  // Every printJson of the run (and the error below) writes the format asked for.
  const deps: CliDeps = format === undefined ? givenDeps : { ...givenDeps, io: { ...givenDeps.io, format } };
  const program = buildProgram(deps, (c) => {
    code = c;
  });
  const wantsJson = format !== undefined;
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; every other parse error is a usage error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help'
        ? EXIT.OK
        : EXIT.USAGE;
    }
    const exit = exitCodeOf(error);
    const e = error as Error & { details?: unknown; problems?: unknown };
    const details = error instanceof CliError ? error.details : error instanceof FabricError ? e.problems : undefined;
    if (wantsJson) {
      printJson(deps.io, { error: e.name, message: e.message, ...(details === undefined ? {} : { problems: details }) });
    } else {
      deps.io.err(`error: ${e.name}: ${e.message}\n`);
      if (Array.isArray(details)) deps.io.err(renderProblems(details as never));
    }
    return exit;
  }
}

/** Production wiring: real streams, the SDK's clients, git, Ctrl-C stops watching. */
export async function cli(argv: readonly string[] = process.argv.slice(2)): Promise<ExitCode> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  const io: CliIo = processIo();
  try {
    return await main(argv, {
      io,
      clients: sdkClients,
      git: gitProbe,
      signal: controller.signal,
      ask: terminalQuestion(),
      configRegion: async () => {
        try {
          return await new STSClient({}).config.region();
        } catch {
          return undefined;
        }
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

if (require.main === module) {
  void cli().then((code) => {
    process.exitCode = code;
  });
}
