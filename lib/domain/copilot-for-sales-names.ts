/**
 * How Copilot for Sales names what it deploys to a Salesforce org (seed 000), with the variants
 * public Microsoft material adds: the `M365 Copilot Sales` prefix of newer orgs and the
 * `CopilotForSalesIntegrationProfile` profile name. Matching ignores case, spaces and punctuation.
 */

const normalize = (value: string) => value.toLowerCase().replace(/[^a-z0-9]/g, '');

const PRODUCT_PREFIXES = ['copilotforsales', 'm365copilotsales', 'm365copilotforsales'];

/** Username prefix of the integration user (S1, S2). */
export function isIntegrationUsername(username: string): boolean {
  const name = normalize(username.split('@')[0] ?? username);
  return PRODUCT_PREFIXES.some((prefix) => name.startsWith(`${prefix}integrationuser`));
}

/** `Copilot For Sales Integration Profile` and its variants (S5). */
export function isIntegrationProfileName(name: string): boolean {
  const n = normalize(name);
  return PRODUCT_PREFIXES.some((prefix) => n === `${prefix}integrationprofile`);
}

/** A permission set deployed by Copilot for Sales (S4). */
export function isCopilotPermissionSet(name: string, label: string | null): boolean {
  return [name, label ?? ''].some((value) => PRODUCT_PREFIXES.some((prefix) => normalize(value).startsWith(prefix)));
}

/** The connected app or External Client App of Copilot for Sales. */
export function isCopilotConnectedApp(name: string): boolean {
  const n = normalize(name);
  return PRODUCT_PREFIXES.some((prefix) => n.includes(prefix));
}

export const SALESFORCE_INTEGRATION_LICENSE_NAME = 'Salesforce Integration';
export const API_INTEGRATION_PSL_DEVELOPER_NAME = 'SalesforceAPIIntegrationPsl';

/** SOQL LIKE patterns broad enough to catch every variant; the functions above decide. */
export const SOQL_CANDIDATE_PATTERNS = {
  username: ['copilotforsales%', 'm365copilot%', 'm365 copilot%', 'm365_copilot%'],
  name: ['%copilot%sales%', '%copilot%for%sales%'],
};
