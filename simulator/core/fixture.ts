import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The simulated tenant's fixture (SPEC §5). Records keep the real APIs' property names; unknown
 * properties are kept, so a fixture can carry extra real fields.
 */

const rec = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);

const faultScope = z.object({
  throttleRate: z.number().min(0).max(1).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.number().min(0).optional(),
  down: z.boolean().optional(),
  /** Seconds announced in `Retry-After` on throttled answers (default 1). */
  retryAfterSeconds: z.number().int().min(0).optional(),
  /** R4 (scope `graph`): for this long after a user or group is created, reads and writes naming it answer 404. */
  replicationLagMs: z.number().min(0).optional(),
  /** R5 (scope `powerplatform`): for this long after `assignLicense`, BAP `addUser` answers `userNotLicensed` for that user. */
  licensePropagationMs: z.number().min(0).optional(),
  /** R6 (scope `salesforce` or an org id): the org's daily API request limit is spent; every API call answers 403. */
  dailyLimitExceeded: z.boolean().optional(),
  /** SPEC §9 (scope `graph`, `dataverse` or an environment id): every delta / change-tracking token is refused as expired. */
  deltaTokenExpired: z.boolean().optional(),
});
export type FaultScope = z.infer<typeof faultScope>;

const nullableString = z.string().nullable().optional();

export const fixtureSchema = z.object({
  tenant: z.object({
    id: z.string(),
    defaultDomain: z.string(),
    marketingTenantLicense: z.boolean().default(false),
    /** L2 (default true): false → Graph answers 403 to any request that selects `signInActivity`. */
    signInActivityAvailable: z.boolean().optional(),
  }),
  settings: z
    .object({
      environmentLicenseSkus: z.array(z.string()).optional(),
      nonInteractiveWarnAt: z.number().int().optional(),
      salesforceIntegrationLicenseWarnAt: z.number().int().optional(),
      // SPEC §7 additions.
      inactiveDays: z.number().int().positive().optional(),
      licenseHeadroomWarnAt: z.number().int().min(0).optional(),
      licensePrices: z.record(z.string(), z.object({ monthly: z.number().nonnegative(), currency: z.string() })).optional(),
      auditTime: z.string().optional(),
    })
    .default({}),
  graph: z.object({
    subscribedSkus: z.array(
      rec({
        skuId: z.string(),
        skuPartNumber: z.string(),
        capabilityStatus: z.string().default('Enabled'),
        consumedUnits: z.number().default(0),
        prepaidUnits: z.object({ enabled: z.number(), suspended: z.number().default(0), warning: z.number().default(0) }),
      }),
    ),
    users: z.array(
      rec({
        id: z.string(),
        userPrincipalName: z.string(),
        displayName: nullableString,
        accountEnabled: z.boolean().default(true),
        userType: z.string().default('Member'),
        assignedLicenses: z.array(rec({ skuId: z.string(), disabledPlans: z.array(z.string()).default([]) })).default([]),
        createdDateTime: nullableString,
        /** L2; absent or null: never signed in (Graph leaves it out for such a user). */
        signInActivity: rec({
          lastSignInDateTime: nullableString,
          lastNonInteractiveSignInDateTime: nullableString,
          lastSuccessfulSignInDateTime: nullableString,
        })
          .nullable()
          .optional(),
        /** L3: state `Active`, `ActiveWithError`, `Disabled` or `Error`; `error` null on success. */
        licenseAssignmentStates: z
          .array(rec({ skuId: z.string(), state: z.string(), error: nullableString, assignedByGroup: nullableString }))
          .optional(),
      }),
    ),
    groups: z.array(
      rec({
        id: z.string(),
        displayName: z.string(),
        securityEnabled: z.boolean().default(true),
        members: z.array(z.string()).default([]),
        owners: z.array(z.string()).default([]),
        /** U5: a group that can hold directory roles (its direct members then hold them). */
        isAssignableToRole: z.boolean().optional(),
      }),
    ),
    /** `members`: user ids, or ids of role-assignable groups (U5). */
    directoryRoles: z.array(rec({ roleTemplateId: z.string(), displayName: z.string(), members: z.array(z.string()) })).default([]),
  }),
  environments: z
    .array(
      rec({
        id: z.string(),
        displayName: z.string(),
        type: z.enum(['Production', 'Sandbox', 'Trial', 'Developer', 'Default', 'Teams']),
        hasDataverse: z.boolean().default(true),
        securityGroupId: z.string().nullable().default(null),
        passForApps: z.boolean().default(false),
        createdBy: z.string().nullable().default(null),
        orgSettings: z.record(z.string(), z.unknown()).default({}),
        businessunits: z.array(rec({ businessunitid: z.string(), name: z.string(), parentbusinessunitid: z.string().nullable().default(null) })).default([]),
        roles: z.array(rec({ roleid: z.string(), name: z.string() })).default([]),
        teams: z.array(rec({ teamid: z.string(), name: z.string(), roles: z.array(z.string()).default([]), members: z.array(z.string()).default([]) })).default([]),
        systemusers: z.array(
          rec({
            systemuserid: z.string(),
            domainname: nullableString,
            azureactivedirectoryobjectid: nullableString,
            applicationid: nullableString,
            accessmode: z.number().int().default(0),
            isdisabled: z.boolean().default(false),
            islicensed: z.boolean().default(false),
            roles: z.array(z.string()).default([]),
          }),
        ).default([]),
      }),
    )
    .default([]),
  salesforceOrgs: z
    .array(
      rec({
        id: z.string(),
        name: z.string(),
        userLicenses: z.array(rec({ Id: z.string(), Name: z.string(), TotalLicenses: z.number(), UsedLicenses: z.number() })).default([]),
        users: z.array(rec({ Id: z.string(), Username: z.string(), IsActive: z.boolean() })).default([]),
        profiles: z.array(rec({ Id: z.string(), Name: z.string() })).default([]),
        permissionSets: z.array(rec({ Id: z.string(), Name: z.string() })).default([]),
        permissionSetAssignments: z.array(rec({ Id: z.string(), AssigneeId: z.string(), PermissionSetId: z.string() })).default([]),
        permissionSetLicenses: z.array(rec({ Id: z.string(), DeveloperName: z.string() })).default([]),
        permissionSetLicenseAssignments: z.array(rec({ Id: z.string(), AssigneeId: z.string(), PermissionSetLicenseId: z.string() })).default([]),
        connectedApplications: z.array(rec({ Id: z.string(), Name: z.string() })).default([]),
      }),
    )
    .default([]),
  /**
   * Steward's app registration as the tenant consented it: the Microsoft Graph application
   * permissions granted (the `roles` claim of its Graph tokens). Absent: every permission
   * docs/setup.md lists for a read-write deployment.
   */
  app: z.object({ graphPermissions: z.array(z.string()).optional() }).optional(),
  faults: z.object({ seed: z.number().int().optional() }).catchall(faultScope.or(z.number())).optional(),
});

export type Fixture = z.infer<typeof fixtureSchema>;
export type FixtureUser = Fixture['graph']['users'][number];
export type FixtureGroup = Fixture['graph']['groups'][number];
export type FixtureEnvironment = Fixture['environments'][number];
export type FixtureSystemUser = FixtureEnvironment['systemusers'][number];
export type FixtureSalesforceOrg = Fixture['salesforceOrgs'][number];

export function parseFixture(data: unknown): Fixture {
  const result = fixtureSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).slice(0, 10);
    throw new Error(`The fixture is not valid:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** The fixture in this file; an unreadable, malformed or invalid one names the file (and where the JSON breaks). */
export function loadFixture(path: string): Fixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`Cannot read the fixture ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`The fixture ${path} is not valid JSON${jsonPlace(text, (error as Error).message)}: ${(error as Error).message}`);
  }
  try {
    return parseFixture(data);
  } catch (error) {
    throw new Error((error as Error).message.replace('The fixture', `The fixture ${path}`));
  }
}

/** ` at line L, column C` from the position JSON.parse reports (Node 20 gives only the position). */
function jsonPlace(text: string, message: string): string {
  const position = /position (\d+)/.exec(message);
  if (!position) return '';
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  return ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
}
