import { Global, Injectable, Module } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';

/**
 * The kernel's Prometheus registry and the counters hot paths update in memory (HTTP requests,
 * ingest, webhook deliveries). A leaf module every other module may inject without importing
 * anything back; the gauges that read other modules' state are added by MetricsModule.
 * One registry per kernel instance (not prom-client's global one), so several kernels in one
 * process — the tests — never collide.
 */
@Injectable()
export class Telemetry {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'heldar_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly ingestBatches = new Counter({
    name: 'heldar_ingest_batches_total',
    help: 'Detection batches posted to /api/v1/ai/events, by outcome (stored, duplicate)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly ingestDetections = new Counter({
    name: 'heldar_ingest_detections_total',
    help: 'Detections stored by the ingest',
    registers: [this.registry],
  });

  readonly ingestDuration = new Histogram({
    name: 'heldar_ingest_duration_seconds',
    help: 'Time to validate and commit one detection batch',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'heldar_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, retrying, dead)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Express middleware: one observation per finished request, labelled by the matched route pattern. */
  httpMiddleware() {
    return (
      req: { method: string; baseUrl?: string; route?: { path?: unknown } },
      res: { statusCode: number; once(event: 'finish', cb: () => void): unknown },
      next: () => void,
    ): void => {
      const end = this.httpDuration.startTimer();
      res.once('finish', () => {
        const pattern =
          typeof req.route?.path === 'string' ? `${req.baseUrl ?? ''}${req.route.path}` : 'unmatched';
        end({ method: req.method, route: pattern, status: String(res.statusCode) });
      });
      next();
    };
  }
}

@Global()
@Module({ providers: [Telemetry], exports: [Telemetry] })
export class TelemetryModule {}
