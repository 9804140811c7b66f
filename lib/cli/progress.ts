import cliProgress from 'cli-progress';
import { currentAuditedTarget } from '../audit/runner.js';
import { retryWaitLine, targetDoneLine } from '../domain/run-progress.js';
import type { RunTarget } from '../domain/finding.js';
import { onUpstreamRetry } from '../telemetry/upstream.js';

/**
 * The audit's progress on stderr (stdout keeps the report or the JSON): a bar on a terminal,
 * otherwise a line per finished target (a log, a pipeline); either way a target waiting on
 * retries is named, with the service and how long.
 */
export function auditProgress(stream: NodeJS.WriteStream = process.stderr) {
  const bar = stream.isTTY
    ? new cliProgress.SingleBar({ format: 'Auditing {bar} {value}/{total} targets  {target}', stream, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  let started = false;
  // Calls of one target wait together (a page of queries, a $batch): a line once per target and try.
  const lastLine = new Map<string | undefined, string>();
  const stopWaits = onUpstreamRetry((wait) => {
    const target = currentAuditedTarget();
    const line = retryWaitLine(target, wait);
    if (lastLine.get(target) === line) return;
    lastLine.set(target, line);
    if (bar && started) bar.update({ target: line });
    else if (!bar) stream.write(`${line}\n`);
  });
  return {
    onTargetDone(target: RunTarget, done: number, total: number) {
      if (!bar) {
        stream.write(`${targetDoneLine(target, done, total)}\n`);
        return;
      }
      if (!started) {
        bar.start(total, done - 1, { target: '' });
        started = true;
      }
      bar.update(done, { target: target.name ?? target.id });
    },
    stop() {
      stopWaits();
      bar?.stop();
    },
  };
}
