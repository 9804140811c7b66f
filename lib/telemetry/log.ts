import { AsyncLocalStorage } from 'node:async_hooks';
import { activeTraceId } from './request.js';

/**
 * Structured logs: one JSON-ish object per event (`{ level, event, message?, …fields, traceId,
 * invocationId }`), so the host's log search can filter on any field and join a line to its trace.
 * A field whose name says it holds a secret (password, token, secret, key, authorization, cookie)
 * is never written, whatever its value (U1).
 *
 * Where the lines go is the sink of the log context: the Functions adapter passes the invocation's
 * own logger (`InvocationContext`), which the host ties to the invocation; elsewhere (the CLI,
 * `steward serve`, tests) warnings and errors go to the console and information is dropped.
 */

export type LogLevel = 'info' | 'warn' | 'error';

export type LogRecord = { level: LogLevel; event: string; message?: string; traceId?: string; invocationId?: string } & Record<string, unknown>;

export type LogSink = (level: LogLevel, record: LogRecord) => void;

export interface LogContext {
  invocationId?: string;
  /** The request's trace id (also read from the active span when there is one). */
  traceId?: string;
  sink?: LogSink;
}

const consoleSink: LogSink = (level, record) => {
  if (level === 'error') console.error(JSON.stringify(record));
  else if (level === 'warn') console.warn(JSON.stringify(record));
};

const contexts = new AsyncLocalStorage<LogContext>();

/** Runs `work` with logs carrying this invocation id and going to this sink. */
export function withLogContext<T>(logContext: LogContext, work: () => T): T {
  return contexts.run({ ...contexts.getStore(), ...logContext }, work);
}

const SECRET_FIELD = /password|passwd|secret|token|authorization|cookie|credential|^key$|apikey|privatekey|signature|^sig$|^code$/i;

function clean(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(name) || value === undefined) continue;
    out[name] = value;
  }
  return out;
}

export function logEvent(level: LogLevel, event: string, fields: Record<string, unknown> = {}): LogRecord {
  const logContext = contexts.getStore();
  const traceId = activeTraceId() ?? logContext?.traceId;
  const record: LogRecord = {
    level,
    event,
    ...clean(fields),
    ...(traceId ? { traceId } : {}),
    ...(logContext?.invocationId ? { invocationId: logContext.invocationId } : {}),
  };
  (logContext?.sink ?? consoleSink)(level, record);
  return record;
}
