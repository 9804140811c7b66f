import type { InvocationContext } from '@azure/functions';
import { SpanKind } from '@opentelemetry/api';
import { withLogContext, type LogSink } from '../lib/telemetry/log.js';
import { inRequestSpan } from '../lib/telemetry/request.js';

/** Structured log lines through the invocation's own logger, which the host ties to the invocation. */
export function invocationSink(context: InvocationContext): LogSink {
  return (level, record) => {
    if (level === 'error') context.error(record);
    else if (level === 'warn') context.warn(record);
    else context.info(record);
  };
}

/**
 * A timer or queue invocation: its work runs in a span continuing the host's trace
 * (`traceContext.traceParent`), and its logs carry the invocation id and that trace id.
 */
export function inInvocation<T>(context: InvocationContext, work: () => Promise<T>): Promise<T> {
  const attributes = { 'faas.invocation_id': context.invocationId, 'steward.function': context.functionName };
  return inRequestSpan(
    context.functionName,
    context.traceContext?.traceParent ?? undefined,
    attributes,
    (traceId) => withLogContext({ invocationId: context.invocationId, traceId, sink: invocationSink(context) }, work),
    SpanKind.CONSUMER,
  );
}
