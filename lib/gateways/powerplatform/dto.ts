import type { Environment, EnvironmentType } from '../../domain/model.js';
import { isGuid } from '../http/odata.js';

/**
 * The Power Platform admin API's (BAP) environment records, as `…/scopes/admin/environments`
 * answers them, and their one conversion to the domain's `Environment`. Nothing outside the
 * gateway sees these names.
 */

export interface WireEnvironment {
  id?: string;
  name: string;
  type?: string;
  properties?: {
    displayName?: string;
    environmentSku?: string;
    isDefault?: boolean;
    databaseType?: string;
    createdBy?: { id?: string; type?: string } | null;
    linkedEnvironmentMetadata?: {
      instanceUrl?: string;
      instanceApiUrl?: string;
      securityGroupId?: string | null;
    } | null;
    addons?: { addonType?: string; allocated?: number }[] | null;
  };
}

export interface WireEnvironmentPage {
  value: WireEnvironment[];
  nextLink?: string;
}

const SKUS: Record<string, EnvironmentType> = {
  production: 'Production',
  sandbox: 'Sandbox',
  trial: 'Trial',
  subscriptionbasedtrial: 'Trial',
  developer: 'Developer',
  default: 'Default',
  teams: 'Teams',
};

const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** BAP `environmentSku` → `EnvironmentType`; the default environment is `Default` whatever its SKU says. */
export function environmentTypeOf(sku: string | undefined, isDefault: boolean | undefined): EnvironmentType {
  if (isDefault) return 'Default';
  // An SKU this version does not know is treated as a regular (Production) environment.
  return SKUS[(sku ?? '').toLowerCase()] ?? 'Production';
}

export function toEnvironment(wire: WireEnvironment): Environment {
  const p = wire.properties ?? {};
  const linked = p.linkedEnvironmentMetadata ?? null;
  const url = (linked?.instanceUrl || linked?.instanceApiUrl || '').trim().replace(/\/+$/, '');
  const hasDataverse = url.length > 0 && (p.databaseType ?? 'CommonDataService').toLowerCase() !== 'none';
  const group = typeof linked?.securityGroupId === 'string' ? linked.securityGroupId.trim().toLowerCase() : '';
  const creator = typeof p.createdBy?.id === 'string' && isGuid(p.createdBy.id) ? p.createdBy.id.toLowerCase() : null;
  return {
    id: wire.name,
    displayName: p.displayName ?? wire.name,
    type: environmentTypeOf(p.environmentSku, p.isDefault),
    hasDataverse,
    instanceUrl: hasDataverse ? url : null,
    securityGroupId: group && group !== ZERO_GUID ? group : null,
    // Environment-level pass per app (D2, D4.2 ii) is the `AppPass` capacity add-on allocated to it.
    passForApps: (p.addons ?? []).some((a) => a?.addonType?.toLowerCase() === 'apppass' && (a.allocated ?? 0) > 0),
    createdBy: creator,
  };
}
