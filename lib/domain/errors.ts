/**
 * Why a use case (an operation, a diagnosis, an audit query) did not do what was asked, in the
 * domain's words. The HTTP layer maps these to problem+json (lib/http/problem.ts); nothing here
 * knows about HTTP.
 */

/** The fact ids of SPEC §1 a refusal may cite. */
export type FactId =
  | 'U1' | 'T2' | 'T3' | 'T4' | 'T5' | 'T6' | 'A1' | 'A2'
  | 'E1' | 'E2' | 'E4' | 'E5' | 'E6'
  | 'D1' | 'D3' | 'D4.1' | 'D4.2' | 'D4.3' | 'D5'
  | 'S1' | 'S2';

export type MissingThing =
  | 'user'
  | 'environment'
  | 'role'
  | 'org'
  | 'systemuser'
  | 'integration-user'
  | 'audit-run'
  | 'suppression'
  | 'audit-report';

export abstract class OperationError extends Error {}

/** Something the caller named does not exist (unknown user, environment, role, org…). */
export class NotFoundError extends OperationError {
  constructor(
    readonly kind: MissingThing,
    readonly id: string,
    detail?: string,
  ) {
    super(detail ?? `No ${kind.replace('-', ' ')} '${id}'.`);
    this.name = 'NotFoundError';
  }
}

/**
 * A business rule refuses the operation (cap of 7, E5, D3, an unknown SKU or one with no free
 * units, a user mastered on-premises…). Nothing was changed when this is thrown.
 */
export class RuleRefusal extends OperationError {
  constructor(
    /** Short stable code the caller can branch on, e.g. `non-interactive-cap`. */
    readonly code: string,
    message: string,
    readonly factId?: FactId,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'RuleRefusal';
  }
}

/**
 * A service refused a step although Steward's own checks of the rules had just passed: the tenant
 * changed while the call ran (a parallel disable took the user out of the security group, a
 * licence was removed meanwhile). The caller may retry and get another answer, so this refusal is
 * never kept as the answer to an Idempotency-Key.
 */
export class ConcurrentChangeRefusal extends RuleRefusal {
  override readonly name = 'ConcurrentChangeRefusal';
}

/**
 * An upstream service refused what the caller asked for because of the input itself (for
 * example Graph refusing a UPN whose domain is not verified): the caller must change the request.
 */
export class UpstreamRefusal extends OperationError {
  constructor(
    readonly service: string,
    readonly operation: string,
    message: string,
    readonly serviceCode?: string,
  ) {
    super(message);
    this.name = 'UpstreamRefusal';
  }
}
