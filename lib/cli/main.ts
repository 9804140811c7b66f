import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runAuditCommand } from './audit-command.js';
import { EXIT } from './exit-codes.js';
import { LIST_WHATS, runListCommand, type ListWhat } from './list-command.js';
import { fromWorkingFolder } from './paths.js';
import { runDiagnoseCommand, runReadinessCommand } from './diagnose-command.js';
import { doctorCommand } from './doctor-command.js';
import { runReportCommand } from './report-command.js';
import { runServeCommand } from './serve-command.js';
import { runSnapshotCommand } from './snapshot-command.js';

/** `steward`: the audit, diagnose, readiness, serve and snapshot commands of SPEC §6, and report (issue 13). */
const program = new Command()
  .name('steward')
  .description('Keeps the people and integration accounts of a Microsoft tenant healthy (Entra ID, Dataverse, Salesforce).')
  .showHelpAfterError()
  .exitOverride();

const fixture = ['--fixture <file>', 'run against the simulated tenant of this fixture (starts the simulator and embedded storage), e.g. fixtures/demo.json', fromWorkingFolder] as const;
const storage = ['--storage <connection-string>', 'Azure Table Storage to use instead of the embedded one'] as const;

program
  .command('audit')
  .description('run the nightly audit once and print its findings')
  .option(...fixture)
  .option(...storage)
  .option('--json', 'print the run as JSON (SPEC §6)')
  .option('--now <time>', 'ISO time the audit takes as "now" for sign-in ages (overrides the fixture\'s settings.auditTime)')
  .option('--report <file>', "write the run's report page (self-contained HTML) to this file", fromWorkingFolder)
  .option('--full', 'read everything, not only what changed since the last run (SPEC §9)')
  .addOption(new Option('--fail-on <severity>', 'exit 1 when open findings at this severity or above remain').choices(['critical', 'warning', 'info']))
  .action((options) => runAuditCommand(options));

program
  .command('report')
  .description("write a finished audit run's report page (HTML), or its findings as CSV")
  .option(...storage)
  .requiredOption('--run <id>', 'the run id, or latest')
  .option('--out <file>', 'where to write it (stdout when omitted)', fromWorkingFolder)
  .option('--csv', 'the findings as CSV instead of the page')
  .action((options) => runReportCommand(options));

program
  .command('diagnose')
  .description("explain why a user can or cannot get into an environment")
  .option(...fixture)
  .option(...storage)
  .requiredOption('--environment <name-or-id>', "environment name or id (see 'steward list environments')")
  .requiredOption('--user <user>', "UPN, Entra object id or display name (see 'steward list users')")
  .option('--json', 'print the result as JSON')
  .action((options) => runDiagnoseCommand(options));

program
  .command('readiness')
  .description('check a Salesforce org for the Copilot for Sales server-to-server flow')
  .option(...fixture)
  .option(...storage)
  .requiredOption('--org <name-or-id>', "Salesforce org name or id (see 'steward list orgs')")
  .option('--json', 'print the result as JSON')
  .action((options) => runReadinessCommand(options));

program
  .command('list')
  .description('list what the other commands can name: environments, orgs, users of an environment, checks')
  .addArgument(new Argument('<what>', 'what to list').choices(LIST_WHATS))
  .option(...fixture)
  .option(...storage)
  .option('--environment <name-or-id>', 'with users: the environment')
  .option('--search <text>', "with users: only those whose name or user name contains it")
  .option('--json', 'print the list as JSON')
  .action((what: ListWhat, options) => runListCommand(what, options));

program
  .command('serve')
  .description('serve the HTTP API on 127.0.0.1 with the handlers the Functions host runs')
  .option(...fixture)
  .option(...storage)
  .option('--port <n>', 'port (0 picks a free one)', (value) => {
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('expected a port number');
    return port;
  }, 7071)
  .option('--key <key>', 'function key callers must send (x-functions-key or ?code=); generated when omitted')
  .action((options) => runServeCommand(options));

program
  .command('snapshot')
  .description('read the tenant (read-only) and write it as a fixture that audit, diagnose and readiness run on offline')
  .option(...fixture)
  .option(...storage)
  .requiredOption('--out <file>', 'where to write the fixture (JSON, SPEC §5)', fromWorkingFolder)
  .option('--anonymize', 'replace names, UPNs and mails consistently (ids kept)')
  .action((options) => runSnapshotCommand(options));

program.addCommand(doctorCommand());

// Keep-alive sockets of the SDKs would hold the process open after the work is done: exit once
// stdout has drained (serve only returns when stopped).
program
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    // Commander has already printed its own errors (and the help it was asked for).
    if (!(error instanceof CommanderError)) process.stderr.write(`steward: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = error instanceof CommanderError && error.exitCode === 0 ? EXIT.ok : EXIT.error;
  })
  .finally(() => process.stdout.write('', () => process.exit()));
