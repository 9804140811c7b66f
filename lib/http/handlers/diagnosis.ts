import { z } from 'zod';
import { diagnose } from '../../diagnose/diagnose.js';
import { salesforceReadiness } from '../../diagnose/readiness.js';
import { count, field, list, maybeText, oneOf, record, text, yesNo } from '../answer-schemas.js';
import { defineRoute, json } from '../pipeline.js';
import { environmentId, salesforceOrgId, userReference } from '../validation.js';

/** Diagnose and Salesforce readiness (SPEC §3) over HTTP. */

const reason = record({
  factId: text('Fact ID', 'The domain fact the reason rests on (D4, E5, T3).'),
  message: text('Message', 'What stands in the way, or what is worth knowing.'),
  remediation: text('Remediation', 'What to do about it.'),
});

/** lib/diagnose/diagnose.ts `Diagnosis`. */
export const diagnosisAnswer = record({
  user: field(
    record({
      id: text('User ID', 'The Entra object id of the user.'),
      userPrincipalName: text('User Principal Name', 'The sign-in name of the user.'),
      displayName: text('Display Name', 'The name shown for the user.'),
      accountEnabled: yesNo('Account Enabled', 'True when the account can sign in.'),
      userType: text('User Type', 'Member or Guest.'),
    }).nullable(),
    'User',
    'The Entra user, or null when only a systemuser row was found.',
  ),
  environment: field(
    record({
      id: text('Environment ID', 'The Power Platform environment id.'),
      displayName: text('Environment Name', 'The display name of the environment.'),
      type: text('Environment Type', 'Production, Sandbox, Developer, Trial or Default.'),
      hasDataverse: yesNo('Has Dataverse', 'True when the environment has a Dataverse database.'),
      securityGroupId: maybeText('Security Group ID', 'The Entra group that gates access, or null.'),
    }),
    'Environment',
    'The environment diagnosed.',
  ),
  verdict: oneOf(['eligible', 'not-eligible'], 'Verdict', 'eligible when the user can get in, else not-eligible.'),
  addedBy: oneOf(['background-sync', 'on-demand', 'none'], 'Added By', 'How the user is or would be added to the environment.'),
  expectedAccessMode: oneOf(['administrative', 'non-interactive', 'read-write'], 'Expected Access Mode', 'The access mode the user should have.'),
  currentRow: field(
    record({
      id: text('System User ID', 'The id of the systemuser row.'),
      isdisabled: yesNo('Is Disabled', 'True when the row is disabled.'),
      accessMode: count('Access Mode Value', 'The access mode as Dataverse numbers it.'),
      accessModeName: text('Access Mode', 'The access mode by name.'),
      roles: list(
        record({
          id: text('Role ID', 'The id of the role.'),
          name: maybeText('Role Name', 'The name of the role, or null.'),
          via: oneOf(['direct', 'team', 'group-team'], 'Via', 'How the role is held: direct, through a team, or through a group team.'),
          team: text('Team', 'The team the role comes through.').optional(),
          group: text('Group', 'The Entra group of the group team.').optional(),
        }),
        'Roles',
        'The security roles of the row.',
      ),
    }).nullable(),
    'Current Row',
    'The systemuser row of the user in the environment, or null when there is none.',
  ),
  reasons: list(reason, 'Reasons', 'Why the user cannot get in, each citing its fact.'),
  notes: list(reason, 'Notes', 'What is worth knowing even when the user can get in.'),
  checklist: field(
    record({
      requirements: list(
        record({
          check: oneOf(
            ['dataverse-database', 'account', 'license', 'admin-role', 'security-group', 'environment-type'],
            'Requirement Check',
            'Which requirement: dataverse-database, account, license, admin-role, security-group or environment-type.',
          ),
          factId: text('Fact', 'The fact of the specification the requirement rests on.'),
          status: oneOf(['passed', 'failed', 'not-applicable'], 'Requirement Status', 'passed, failed or not-applicable.'),
          requirement: text('Requirement', 'The requirement, in the admin center words.'),
          evidence: text('Evidence', 'What Steward saw.'),
        }),
        'Requirements',
        'Each requirement of access, passed or failed, with its evidence.',
      ),
      systemUser: text('System User Record', 'The user systemuser record in the environment, in words.'),
      signIn: field(
        record({
          now: yesNo('Can Sign In Now', 'True when the user can sign in to the environment now.'),
          why: text('Sign In Reason', 'Why the user can or cannot sign in now.'),
        }),
        'Sign In',
        'Whether the user can sign in now, and why.',
      ),
      next: field(
        record({
          by: oneOf(['background-sync', 'on-demand', 'never'], 'Next By', 'background-sync, on-demand or never.'),
          what: text('Next Step', 'What brings the user in, or keeps them out.'),
        }),
        'Next',
        'What will happen next.',
      ),
    }),
    'Checklist',
    'The diagnosis as a checklist, like the admin center Run diagnostics.',
  ),
});

export const readinessAnswer = record({
  org: field(record({ id: text('Org ID', 'The Salesforce org id.'), name: text('Org Name', 'The name of the org.') }), 'Org', 'The Salesforce org.'),
  checks: list(
    record({
      id: text('Check', 'S1, S2, S4, S5, connected-app or api-integration-psl.'),
      status: oneOf(['ok', 'warning', 'problem', 'unknown'], 'Status', 'ok, warning, problem or unknown.'),
      message: text('Message', 'What the check found.'),
      resolution: text('Resolution', 'What to do about it.'),
    }),
    'Checks',
    'The readiness checks of the org.',
  ),
});

export const diagnosisRoutes = [
  defineRoute({
    name: 'diagnosis-get',
    doc: {
      operationId: 'DiagnoseUser',
      summary: 'Diagnose why a user cannot get in',
      description: 'Explains whether the user can get into the environment and, if not, why and what to do, each reason citing its fact.',
      answer: diagnosisAnswer,
    },
    methods: ['GET'],
    route: 'environments/{env}/users/{user}/diagnosis',
    role: 'Steward.Read',
    mutation: false,
    params: z.object({ env: environmentId, user: userReference }),
    async run({ services, params }) {
      return json(200, await diagnose(services, params.user, params.env));
    },
  }),
  defineRoute({
    name: 'salesforce-readiness',
    doc: {
      operationId: 'GetSalesforceReadiness',
      summary: 'Check a Salesforce org for Copilot for Sales',
      description: 'Checks whether the Salesforce org is ready for the Copilot for Sales server-to-server flow.',
      answer: readinessAnswer,
    },
    methods: ['GET'],
    route: 'salesforce/{org}/s2s-readiness',
    role: 'Steward.Read',
    mutation: false,
    params: z.object({ org: salesforceOrgId }),
    async run({ services, params }) {
      return json(200, await salesforceReadiness(services, params.org));
    },
  }),
];
