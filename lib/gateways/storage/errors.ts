import { ServiceError } from '../http/service-error.js';

/**
 * Storage SDK failures (Tables, Blobs, Queues) as `ServiceError`s: service `storage`, the call, the
 * status and the service's own code and first line of message. One place for every store.
 */

export function statusOf(cause: unknown): number | undefined {
  if (cause instanceof ServiceError) return cause.status;
  const status = (cause as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export function toStorageError(operation: string, cause: unknown, target?: string): ServiceError {
  if (cause instanceof ServiceError) {
    if (cause.service === 'storage' && cause.operation === operation) return cause;
    return new ServiceError(
      { service: 'storage', operation, target: cause.target ?? target, status: cause.status, code: cause.code, retryAfterSeconds: cause.retryAfterSeconds, cause },
      cause.message,
    );
  }
  const error = cause as { statusCode?: unknown; code?: unknown; message?: unknown; details?: { odataError?: { code?: unknown } } } | null;
  const status = typeof error?.statusCode === 'number' ? error.statusCode : undefined;
  const odataCode = error?.details?.odataError?.code;
  const code = typeof error?.code === 'string' && error.code ? error.code : typeof odataCode === 'string' && odataCode ? odataCode : undefined;
  return new ServiceError({ service: 'storage', operation, target, status, code, cause }, serviceMessage(error?.message, cause));
}

/** The service's own message, first line: Table errors often come as `{"odata.error":{…}}` text. */
function serviceMessage(message: unknown, cause: unknown): string {
  if (typeof message !== 'string') return String(cause);
  let text = message;
  if (text.trimStart().startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { 'odata.error'?: { message?: { value?: unknown } } };
      const value = parsed['odata.error']?.message?.value;
      if (typeof value === 'string') text = value;
    } catch {
      // not JSON after all: keep the text
    }
  }
  return (text.split('\n')[0] ?? '').slice(0, 500);
}
