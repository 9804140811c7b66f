import { context, metrics, trace, type AttributeValue } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { UPSTREAM_ATTRIBUTES } from '../../lib/telemetry/upstream.js';

/** A metric reader that collects when asked (the test reads what the app recorded so far). */
class OnDemandMetricReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export interface TestTelemetry {
  /** The spans ended so far. */
  spans(): ReadableSpan[];
  /** The spans of upstream calls, optionally of one service. */
  upstream(service?: string): ReadableSpan[];
  reset(): void;
  /** Every metric recorded so far, by name. */
  metrics(): Promise<Map<string, MetricData>>;
  /** The sum of a counter's data points whose attributes include `where`. */
  counter(name: string, where?: Record<string, AttributeValue>): Promise<number>;
}

/**
 * Registers an in-memory OpenTelemetry SDK as the global one, as `@azure/monitor-opentelemetry`
 * does in production: an async-hooks context manager, a tracer provider exporting to memory and a
 * meter provider with an on-demand reader. Each test file runs in its own process (vitest forks).
 */
export function installTestTelemetry(): TestTelemetry {
  const exporter = new InMemorySpanExporter();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  const reader = new OnDemandMetricReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  const collect = async () => {
    const { resourceMetrics } = await reader.collect();
    const byName = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    return byName;
  };
  return {
    spans: () => exporter.getFinishedSpans(),
    upstream: (service) =>
      exporter.getFinishedSpans().filter((s) => s.attributes[UPSTREAM_ATTRIBUTES.service] !== undefined && (service === undefined || s.attributes[UPSTREAM_ATTRIBUTES.service] === service)),
    reset: () => exporter.reset(),
    metrics: collect,
    counter: async (name, where = {}) => {
      const metric = (await collect()).get(name);
      if (!metric || metric.dataPointType !== DataPointType.SUM) return 0;
      return metric.dataPoints
        .filter((point) => Object.entries(where).every(([key, value]) => point.attributes[key] === value))
        .reduce((sum, point) => sum + (point.value as number), 0);
    },
  };
}
