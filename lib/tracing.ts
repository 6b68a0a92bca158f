// The OpenTelemetry SDK, started only when tracing is configured (lib/config.ts): a tracer provider that batches
// spans and sends them by OTLP over HTTP, registered as the process's global provider with an AsyncLocalStorage
// context manager (so that a Kafka call's span is a child of the request that made it). Off, nothing is registered
// and the API's no-op tracer is what every span call reaches.
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider,
  type Sampler
} from '@opentelemetry/sdk-trace'
import type { TracingConfig } from './config'

export interface Tracing {
  /** Ends tracing: exports every span still waiting, then unregisters the provider and the context manager. */
  shutdown: () => Promise<void>
}

function sampler (config: TracingConfig): Sampler {
  const root = config.sampler.endsWith('always_off')
    ? new AlwaysOffSampler()
    : config.sampler.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(config.samplerRatio) : new AlwaysOnSampler()
  return config.sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root
}

/**
 * Starts the SDK as the process's tracing. Throws when another provider is registered already (the OpenTelemetry
 * API has one per process: two apps of one process cannot both trace).
 */
export function startTracing (config: TracingConfig): Tracing {
  const exporter = config.protocol === 'http/json' ? new JsonExporter({ url: config.url }) : new ProtobufExporter({ url: config.url })
  const provider = new TracerProvider({
    sampler: sampler(config),
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter })]
  })
  const contextManager = new AsyncLocalStorageContextManager()
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('tracing is already started in this process')
  context.setGlobalContextManager(contextManager.enable())
  let stopped: Promise<void> | undefined
  return {
    shutdown: async () => {
      stopped ??= provider.shutdown().finally(() => {
        trace.disable()
        context.disable()
      })
      await stopped
    }
  }
}
