/** The services Steward talks to; every error names one of them. */
export type ServiceName =
  | 'graph'
  | 'powerplatform'
  | 'dataverse'
  | 'salesforce'
  | 'storage'
  | 'alerts'
  | 'identity';

export interface ServiceErrorInit {
  service: ServiceName;
  /** The remote call that failed, in the gateway's words: `listSystemUsers`, `GET /users`. */
  operation: string;
  /** The environment id, Salesforce org id or other target the call was for, when there is one. */
  target?: string;
  status?: number;
  /** The service's own error code (`Request_ResourceNotFound`, `0x80040217`, `INVALID_FIELD`). */
  code?: string;
  /** Seconds the service asked us to wait (429/503 with `Retry-After`), when it outlasted our retries. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * An upstream call failed. Callers branch on `service`, `status` and `code`, never on message text.
 * The message never carries a token, password or secret: only the service, the call, the target and
 * the service's own error text.
 */
export class ServiceError extends Error {
  readonly service: ServiceName;
  readonly operation: string;
  readonly target: string | undefined;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(init: ServiceErrorInit, detail?: string) {
    const where = init.target ? ` for ${init.target}` : '';
    const status = init.status !== undefined ? ` (HTTP ${init.status}${init.code ? ` ${init.code}` : ''})` : '';
    super(`${init.service} ${init.operation}${where} failed${status}${detail ? `: ${detail}` : ''}`, {
      cause: init.cause,
    });
    this.name = 'ServiceError';
    this.service = init.service;
    this.operation = init.operation;
    this.target = init.target;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  /**
   * A Salesforce org's daily API request limit is spent (403 `REQUEST_LIMIT_EXCEEDED`, R6): not
   * retried; the org answers again once the rolling 24 hours free some calls.
   */
  get isDailyApiLimit(): boolean {
    return this.service === 'salesforce' && this.status === 403 && this.code === 'REQUEST_LIMIT_EXCEEDED';
  }

  /** Throttling or unavailability that outlasted the retries: the HTTP API answers 503 + Retry-After. */
  get isTransient(): boolean {
    return this.status === 429 || this.status === 503 || this.status === 504;
  }
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof ServiceError;
}
