/**
 * The Salesforce orgs' secrets, each in an app setting of its own. App Service resolves a Key
 * Vault reference (`@Microsoft.KeyVault(SecretUri=…)`) only when it is the whole value of a
 * setting, and leaves the reference text in place when it cannot resolve it; a reference inside
 * the `STEWARD_SALESFORCE_ORGS` JSON would reach Salesforce as literal text. So the org list names
 * the setting (`clientSecretSetting`, `privateKeySetting`, e.g. `STEWARD_SALESFORCE_SECRET_CONTOSO`)
 * and the setting holds the reference. The value read is never put in a message.
 */

export interface SecretProblem {
  setting: string;
  expected: string;
}

const KEY_VAULT_REFERENCE = /@Microsoft\.KeyVault\(/i;
/** Setting names Steward accepts for a secret: its own prefix only, so the org list cannot read any setting. */
const SECRET_SETTING_NAME = /^STEWARD_SALESFORCE_SECRET_[A-Z0-9_]+$/;

/**
 * The value of a secret's setting. Problems name the org field and the setting, never the value:
 * missing, an unresolved Key Vault reference (the identity lacks Key Vault Secrets User, or the
 * vault or secret name is wrong), or a name outside `STEWARD_SALESFORCE_SECRET_*`.
 */
export function readSecretSetting(
  env: Record<string, string | undefined>,
  settingName: string,
  field: string,
  problems: SecretProblem[],
): string | undefined {
  if (!SECRET_SETTING_NAME.test(settingName)) {
    problems.push({ setting: field, expected: 'the name of a setting STEWARD_SALESFORCE_SECRET_<ORG> (capitals, digits, _)' });
    return undefined;
  }
  const value = env[settingName];
  if (value === undefined || value === '') {
    problems.push({ setting: settingName, expected: `the secret ${field} names (a Key Vault reference on Azure)` });
    return undefined;
  }
  if (KEY_VAULT_REFERENCE.test(value)) {
    problems.push({
      setting: settingName,
      expected: 'a resolved secret: the Key Vault reference was not resolved (grant the app Key Vault Secrets User and check the secret URI)',
    });
    return undefined;
  }
  return value;
}

/** A Key Vault reference written inside the org JSON, which App Service never resolves. */
export function inlineKeyVaultReference(value: string | undefined): boolean {
  return value !== undefined && KEY_VAULT_REFERENCE.test(value);
}
