import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, isSpanContextValid, trace, type Attributes, type Span } from '@opentelemetry/api';
import { TRACER_NAME } from './upstream.js';

/**
 * The span of one HTTP API call, continuing the caller's W3C trace (`traceparent`: the Functions
 * host passes its own in `InvocationContext.traceContext`, `steward serve` reads the header). Its
 * trace id goes into every problem+json answer and the operation log row, so a person holding an
 * answer finds the call's spans and logs.
 *
 * Without a registered OpenTelemetry SDK the span records nothing but still has a trace id: the
 * caller's, else a random one (W3C Trace Context: 16 random bytes), so an answer always names one.
 */

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The span context a `traceparent` header carries (W3C Trace Context §3.2), or undefined when malformed. */
export function parseTraceParent(value: string | undefined): { traceId: string; spanId: string; traceFlags: number } | undefined {
  const match = TRACEPARENT.exec((value ?? '').trim().toLowerCase());
  if (!match || match[1] === 'ff') return undefined;
  const spanContext = { traceId: match[2]!, spanId: match[3]!, traceFlags: parseInt(match[4]!, 16) & TraceFlags.SAMPLED };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

export function isTraceId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value) && !/^0+$/.test(value);
}

/** Runs `work` inside a span of its own (server by default; the active span), handing it the trace id. */
export function inRequestSpan<T>(
  name: string,
  traceParent: string | undefined,
  attributes: Attributes,
  work: (traceId: string, span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.SERVER,
): Promise<T> {
  const remote = parseTraceParent(traceParent);
  const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, { ...remote, isRemote: true }) : ROOT_CONTEXT;
  let span = trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes }, parent);
  if (!isSpanContextValid(span.spanContext())) {
    // No SDK and no caller's trace: a trace id of our own, carried by a span that records nothing.
    span = trace.wrapSpanContext({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.NONE });
  }
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await work(span.spanContext().traceId, span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The trace id of the active span, if there is a valid one. */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
