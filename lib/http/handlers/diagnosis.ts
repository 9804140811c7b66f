import { z } from 'zod';
import { diagnose } from '../../diagnose/diagnose.js';
import { salesforceReadiness } from '../../diagnose/readiness.js';
import { defineRoute, json } from '../pipeline.js';

/** Diagnose and Salesforce readiness (SPEC §3) over HTTP. */

const ENVIRONMENT_ID = z.string().regex(/^[0-9A-Za-z-]{1,64}$/, 'expected an environment id');
const USER_REF = z.string().min(3).max(256).refine((v) => !/[\s/\\]/.test(v), 'expected a user principal name or an Entra object id');
const ORG_ID = z.string().regex(/^00D[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$/, 'expected a Salesforce org id (00D…)');

export const diagnosisRoutes = [
  defineRoute({
    name: 'diagnosis-get',
    methods: ['GET'],
    route: 'environments/{env}/users/{user}/diagnosis',
    role: 'Steward.Read',
    mutation: false,
    params: z.object({ env: ENVIRONMENT_ID, user: USER_REF }),
    async run({ services, params }) {
      return json(200, await diagnose(services, params.user, params.env));
    },
  }),
  defineRoute({
    name: 'salesforce-readiness',
    methods: ['GET'],
    route: 'salesforce/{org}/s2s-readiness',
    role: 'Steward.Read',
    mutation: false,
    params: z.object({ org: ORG_ID }),
    async run({ services, params }) {
      return json(200, await salesforceReadiness(services, params.org));
    },
  }),
];
