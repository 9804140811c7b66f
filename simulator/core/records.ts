import type { FixtureSystemUser } from './fixture.js';

/**
 * Builders of fixture records (SPEC §5) in the real APIs' property names, shared by the simulator,
 * the generated tenant, the demo tenant (`fixtures/`) and the tests (`test/support/builders.ts`
 * re-exports and extends them). Product code never imports this file; the CLI's demo does.
 */

/** The contact columns of a systemuser's P1 profile, empty (an account no directory sync fills). */
export const EMPTY_CONTACT = {
  mobilephone: null,
  address1_telephone1: null,
  address1_line1: null,
  address1_city: null,
  address1_stateorprovince: null,
  address1_country: null,
} as const;

/** T2: an application user as Dataverse creates it: non-interactive (4), unlicensed, first name `#`. */
export function applicationUserRecord(r: {
  systemuserid: string;
  applicationid: string;
  azureactivedirectoryobjectid: string;
  domainname: string;
  lastname: string;
  internalemailaddress: string;
}): FixtureSystemUser {
  return {
    systemuserid: r.systemuserid,
    domainname: r.domainname,
    azureactivedirectoryobjectid: r.azureactivedirectoryobjectid,
    applicationid: r.applicationid,
    accessmode: 4,
    isdisabled: false,
    islicensed: false,
    firstname: '#',
    lastname: r.lastname,
    fullname: `# ${r.lastname}`,
    title: null,
    internalemailaddress: r.internalemailaddress,
    ...EMPTY_CONTACT,
    roles: [],
  };
}
