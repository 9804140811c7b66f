import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadSettings } from '../../lib/config/settings.js';

const minimal = { STEWARD_TENANT_ID: '099f18cd-c2b1-4991-acf9-ec30677febac', STEWARD_STORAGE_CONNECTION: 'UseDevelopmentStorage=true' };

describe('settings', () => {
  it('fills the defaults an admin expects', () => {
    const settings = loadSettings(minimal);
    expect(settings.endpoints.graph).toBe('https://graph.microsoft.com');
    expect(settings.auditSchedule).toBe('0 0 2 * * *');
    expect(settings.nonInteractiveWarnAt).toBe(6);
    expect(settings.alerts.minimumSeverity).toBe('warning');
    expect(settings.readOnly).toBe(false);
    expect(settings.environmentLicenseSkus).toContain('DYN365_ENTERPRISE_SALES');
  });

  it("links the report's check pages to docs/checks/ by default, or to the URL given, and refuses any other scheme", () => {
    expect(loadSettings(minimal).docsBaseUrl).toBe('docs/checks/');
    const github = 'https://github.com/contoso/steward/blob/main/docs/checks/';
    expect(loadSettings({ ...minimal, STEWARD_DOCS_BASE_URL: github }).docsBaseUrl).toBe(github);
    for (const bad of ['javascript:alert(1)//', 'data:text/html,x', 'https://x.example/"><script>']) {
      expect(() => loadSettings({ ...minimal, STEWARD_DOCS_BASE_URL: bad })).toThrow(/STEWARD_DOCS_BASE_URL: expected an http\(s\) URL or a relative path/);
    }
  });

  it('names every missing or malformed setting and what it expects', () => {
    let error: unknown;
    try {
      loadSettings({
        STEWARD_GRAPH_URL: 'not a url',
        STEWARD_NON_INTERACTIVE_WARN_AT: '9',
        STEWARD_READ_ONLY: 'maybe',
        STEWARD_SALESFORCE_ORGS: '[{"id":"bad"}]',
        STEWARD_STORAGE_CONNECTION: 'x',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const settings = (error as ConfigurationError).problems.map((p) => p.setting);
    expect(settings).toEqual(
      expect.arrayContaining([
        'STEWARD_TENANT_ID',
        'STEWARD_GRAPH_URL',
        'STEWARD_NON_INTERACTIVE_WARN_AT',
        'STEWARD_READ_ONLY',
        'STEWARD_SALESFORCE_ORGS.0.id',
      ]),
    );
    expect((error as Error).message).toContain('STEWARD_GRAPH_URL');
  });

  it('requires a storage connection', () => {
    expect(() => loadSettings({ STEWARD_TENANT_ID: 't' })).toThrow(/STEWARD_STORAGE_CONNECTION/);
  });

  it('parses lists and the Salesforce org list', () => {
    const settings = loadSettings({
      ...minimal,
      STEWARD_ENVIRONMENTS: 'a, b,,c',
      STEWARD_SALESFORCE_ORGS: JSON.stringify([
        { id: '00D5g000004ABCDEAA', name: 'Contoso', loginUrl: 'https://contoso.my.salesforce.com', clientId: 'id', clientSecret: 's' },
      ]),
    });
    expect(settings.environmentAllowList).toEqual(['a', 'b', 'c']);
    expect(settings.salesforceOrgs[0]?.auth).toBe('client-credentials');
  });
});

describe('audit schedule', () => {
  it('refuses a schedule NCRONTAB cannot read', () => {
    expect(() => loadSettings({ ...minimal, STEWARD_AUDIT_SCHEDULE: '0 0 25 * * *' })).toThrow(/STEWARD_AUDIT_SCHEDULE: expected a valid NCRONTAB/);
    expect(() => loadSettings({ ...minimal, STEWARD_AUDIT_SCHEDULE: '0 2 * * *' })).toThrow(/six fields/);
  });
  it('reads licence prices, the inactivity threshold and the audit time (SPEC §7), and names a bad price', () => {
    const settings = loadSettings({
      ...minimal,
      STEWARD_LICENSE_PRICES: '{"DYN365_ENTERPRISE_SALES":{"monthly":95,"currency":"EUR"},"POWERAPPS_PER_USER":{"monthly":20,"currency":"USD"}}',
      STEWARD_INACTIVE_DAYS: '30',
      STEWARD_AUDIT_TIME: '2026-03-01T00:00:00Z',
    });
    expect(settings.licensePrices).toEqual({ DYN365_ENTERPRISE_SALES: { monthly: 95, currency: 'EUR' }, POWERAPPS_PER_USER: { monthly: 20, currency: 'USD' } });
    expect(settings.inactiveDays).toBe(30);
    expect(settings.auditTime).toBe('2026-03-01T00:00:00Z');
    expect(loadSettings(minimal)).toMatchObject({ licensePrices: {}, inactiveDays: 90, licenseHeadroomWarnAt: 1, auditTime: undefined });

    const problems = (env: Record<string, string>) => {
      try {
        loadSettings({ ...minimal, ...env });
        return [];
      } catch (error) {
        return (error as ConfigurationError).problems.map((p) => p.setting);
      }
    };
    expect(problems({ STEWARD_LICENSE_PRICES: '{"SPE_E3":{"monthly":-1,"currency":"euro"}}' })).toEqual([
      'STEWARD_LICENSE_PRICES.SPE_E3.monthly',
      'STEWARD_LICENSE_PRICES.SPE_E3.currency',
    ]);
    expect(problems({ STEWARD_LICENSE_PRICES: 'not json' })).toEqual(['STEWARD_LICENSE_PRICES']);
    expect(problems({ STEWARD_AUDIT_TIME: 'yesterday' })).toEqual(['STEWARD_AUDIT_TIME']);
  });
});

describe('storage connection strings (issue 14)', () => {
  it('names the setting and what is wrong with a connection string, and takes the usual shapes', async () => {
    const { connectionStringProblem } = await import('../../lib/config/storage.js');
    expect(connectionStringProblem('UseDevelopmentStorage=true')).toBeNull();
    expect(connectionStringProblem('DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net')).toBeNull();
    expect(connectionStringProblem('TableEndpoint=https://acct.table.core.windows.net;SharedAccessSignature=sv=2024')).toBeNull();
    expect(connectionStringProblem('garbage')).toMatch(/"garbage" is not a key=value part/);
    expect(connectionStringProblem('AccountName=acct;AccountKey=a2V5;TableEndpoint=nope')).toMatch(/the tableendpoint "nope" is not an http\(s\) URL/);
    expect(connectionStringProblem('AccountName=acct')).toMatch(/it has only accountname/);
    expect(() => loadSettings({ STEWARD_TENANT_ID: 't', STEWARD_STORAGE_CONNECTION: 'garbage' })).toThrow(/STEWARD_STORAGE_CONNECTION: expected a storage connection string/);
  });
});
