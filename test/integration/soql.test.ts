import { describe, expect, it } from 'vitest';
import { soqlList, soqlString } from '../../lib/gateways/salesforce/soql-literal.js';
import { createSoqlDatabase, executeSoql, parseSoql, SoqlError, type SoqlObject } from '../../simulator/salesforce/soql.js';

const objects: SoqlObject[] = [
  {
    name: 'User',
    fields: [
      { name: 'Id', type: 'id' },
      { name: 'Username', type: 'string' },
      { name: 'IsActive', type: 'boolean', defaultValue: false },
      { name: 'ProfileId', type: 'reference', relationship: { name: 'Profile', to: 'Profile' } },
      { name: 'Rank', type: 'int' },
    ],
  },
  {
    name: 'Profile',
    fields: [
      { name: 'Id', type: 'id' },
      { name: 'Name', type: 'string' },
    ],
  },
];

const users = [
  { Id: '005A', Username: 'copilotforsalesintegrationuser@contoso.sf', IsActive: false, ProfileId: '00eCOP', Rank: 3 },
  { Id: '005B', Username: "o'brien@contoso.sf", IsActive: true, ProfileId: '00eSTD', Rank: 1 },
  { Id: '005C', Username: 'back\\slash@contoso.sf', IsActive: true, ProfileId: null, Rank: 2 },
  { Id: '005D', Username: 'M365_Copilot_Sales@contoso.sf', IsActive: true, ProfileId: '00eCOP', Rank: null },
  { Id: '005E', Username: '100%sure@contoso.sf', IsActive: false, ProfileId: '00eSTD', Rank: 5 },
];
const profiles = [
  { Id: '00eCOP', Name: 'Copilot For Sales Integration Profile' },
  { Id: '00eSTD', Name: 'Standard User' },
];

const db = createSoqlDatabase(objects, (name) => (name === 'User' ? users : name === 'Profile' ? profiles : []));

/** Ids of what a query returns. */
const ids = (soql: string) => executeSoql(soql, db).records.map((r) => r.Id);

const errorOf = (soql: string): SoqlError => {
  try {
    executeSoql(soql, db);
  } catch (error) {
    if (error instanceof SoqlError) return error;
    throw error;
  }
  throw new Error(`expected ${soql} to fail`);
};

describe('SOQL evaluator of the simulator', () => {
  it('matches LIKE with % and _, ignoring case, and escaped wildcards literally', () => {
    expect(ids("SELECT Id FROM User WHERE Username LIKE 'COPILOT%'")).toEqual(['005A']);
    expect(ids("SELECT Id FROM User WHERE Username LIKE 'm365_copilot%'")).toEqual(['005D']);
    expect(ids("SELECT Id FROM User WHERE Username LIKE '%@contoso.sf'")).toHaveLength(5);
    // `_` is one character: "o'brien" has a quote where the pattern has "_".
    expect(ids("SELECT Id FROM User WHERE Username LIKE 'o_brien%'")).toEqual(['005B']);
    expect(ids("SELECT Id FROM User WHERE Username LIKE '100\\%%'")).toEqual(['005E']);
    expect(ids("SELECT Id FROM User WHERE Username LIKE '1\\%%'")).toEqual([]);
    expect(ids("SELECT Id FROM User WHERE Username LIKE 'm365\\_copilot%'")).toEqual(['005D']);
  });

  it('evaluates IN and NOT IN', () => {
    expect(ids("SELECT Id FROM User WHERE Id IN ('005A', '005C', '005Z')")).toEqual(['005A', '005C']);
    expect(ids("SELECT Id FROM User WHERE ProfileId NOT IN ('00eCOP')")).toEqual(['005B', '005C', '005E']);
    expect(ids('SELECT Id FROM User WHERE Rank IN (1, 5)')).toEqual(['005B', '005E']);
  });

  it('groups AND / OR by parentheses and refuses to mix them without', () => {
    const left = "SELECT Id FROM User WHERE (IsActive = false AND Rank = 3) OR Username LIKE 'back%'";
    const right = "SELECT Id FROM User WHERE IsActive = false AND (Rank = 3 OR Username LIKE 'back%')";
    expect(ids(left)).toEqual(['005A', '005C']);
    expect(ids(right)).toEqual(['005A']);
    const mixed = errorOf("SELECT Id FROM User WHERE IsActive = false AND Rank = 3 OR Username LIKE 'back%'");
    expect(mixed.errorCode).toBe('MALFORMED_QUERY');
    expect(mixed.message).toContain("unexpected token: 'OR'");
    expect(ids("SELECT Id FROM User WHERE IsActive = true AND (NOT Username LIKE 'o%')")).toEqual(['005C', '005D']);
    expect(ids("SELECT Id FROM User WHERE NOT (IsActive = true OR Rank > 4)")).toEqual(['005A']);
  });

  it('reads quoted strings with backslash escapes', () => {
    expect(ids("SELECT Id FROM User WHERE Username = 'o\\'brien@contoso.sf'")).toEqual(['005B']);
    expect(ids("SELECT Id FROM User WHERE Username = 'back\\\\slash@contoso.sf'")).toEqual(['005C']);
    expect(ids("SELECT Id FROM User WHERE Username = 'O\\u0027BRIEN@contoso.sf'")).toEqual(['005B']);
    // The quote cannot end the literal early: the whole text is one value.
    expect(ids("SELECT Id FROM User WHERE Username = 'x\\' OR Username LIKE \\'%'")).toEqual([]);
    expect(errorOf("SELECT Id FROM User WHERE Username = 'a\\qb'").errorCode).toBe('MALFORMED_QUERY');
  });

  it('compares true, false, null and numbers', () => {
    expect(ids('SELECT Id FROM User WHERE IsActive = false')).toEqual(['005A', '005E']);
    expect(ids('SELECT Id FROM User WHERE ProfileId = null')).toEqual(['005C']);
    expect(ids('SELECT Id FROM User WHERE Rank != null AND Rank >= 2')).toEqual(['005A', '005C', '005E']);
    expect(ids('SELECT Id FROM User WHERE Rank != 3')).toEqual(['005B', '005C', '005D', '005E']);
  });

  it('sorts, limits, counts and answers with canonical names and attributes', () => {
    expect(ids('SELECT Id FROM User ORDER BY Rank DESC NULLS LAST LIMIT 3')).toEqual(['005E', '005A', '005C']);
    expect(ids('SELECT Id FROM User ORDER BY Rank LIMIT 2 OFFSET 1')).toEqual(['005B', '005C']);
    expect(ids('select id from user order by username desc limit 1')).toEqual(['005B']);
    expect(executeSoql('SELECT COUNT() FROM User WHERE IsActive = true', db)).toMatchObject({ totalSize: 3, records: [] });
    const [record] = executeSoql("select username, isactive from USER where id = '005A'", db, {
      recordUrl: (type, id) => `/services/data/v62.0/sobjects/${type}/${id}`,
    }).records;
    expect(record).toEqual({
      attributes: { type: 'User', url: '/services/data/v62.0/sobjects/User/005A' },
      Username: 'copilotforsalesintegrationuser@contoso.sf',
      IsActive: false,
    });
  });

  it('follows parent relationships in SELECT and WHERE', () => {
    const result = executeSoql("SELECT Id, Profile.Name FROM User WHERE Profile.Name LIKE 'copilot%' ORDER BY Id", db);
    expect(result.records.map((r) => [r.Id, (r.Profile as { Name: string }).Name])).toEqual([
      ['005A', 'Copilot For Sales Integration Profile'],
      ['005D', 'Copilot For Sales Integration Profile'],
    ]);
    expect(executeSoql("SELECT Profile.Name FROM User WHERE Id = '005C'", db).records[0]?.Profile).toBeNull();
  });

  it('refuses malformed queries, unknown fields and unknown objects with Salesforce error codes', () => {
    for (const soql of [
      'SELECT FROM User',
      'SELECT Id User',
      'SELECT Id FROM User WHERE',
      "SELECT Id FROM User WHERE Username = 'unterminated",
      'SELECT Id FROM User LIMIT many',
      'SELECT Id FROM User WHERE Id = "double"',
      "SELECT Id FROM User WHERE (Username = 'a'",
      'SELECT Id, FROM User',
      'DELETE FROM User',
      '',
    ]) {
      expect(errorOf(soql).errorCode, soql).toBe('MALFORMED_QUERY');
    }
    const field = errorOf("SELECT Id, Nickname FROM User WHERE Username = 'a'");
    expect(field.errorCode).toBe('INVALID_FIELD');
    expect(field.message).toContain("No such column 'Nickname' on entity 'User'");
    expect(errorOf("SELECT Id FROM User WHERE Nickname = 'a'").errorCode).toBe('INVALID_FIELD');
    expect(errorOf('SELECT Id FROM User ORDER BY Nickname').errorCode).toBe('INVALID_FIELD');
    expect(errorOf('SELECT Manager.Name FROM User').errorCode).toBe('INVALID_FIELD');
    const type = errorOf('SELECT Id FROM PermissionSetLicenseAssignment');
    expect(type.errorCode).toBe('INVALID_TYPE');
    expect(type.message).toContain("sObject type 'PermissionSetLicenseAssignment' is not supported");
  });

  it('reads back every value the gateway quotes with soqlString', () => {
    const values = ["o'brien", 'back\\slash', "\\'", "'; DELETE", 'tab\there', 'line\nbreak', '%_%', '', "''", 'é ü 漢'];
    for (const value of values) {
      const query = parseSoql(`SELECT Id FROM User WHERE Username = ${soqlString(value)}`);
      expect(query.where, value).toMatchObject({ kind: 'compare', value: { kind: 'string', value } });
    }
    expect(soqlString("o'brien@contoso.sf")).toBe("'o\\'brien@contoso.sf'");
    expect(soqlString('a\\b')).toBe("'a\\\\b'");
    const list = parseSoql(`SELECT Id FROM User WHERE Id IN ${soqlList(["a'", 'b'])}`);
    expect(list.where).toMatchObject({ kind: 'in', values: [{ value: "a'" }, { value: 'b' }] });
  });
});
