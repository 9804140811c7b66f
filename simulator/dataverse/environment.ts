import type { SimContext } from '../core/context.js';
import type { FixtureEnvironment } from '../core/fixture.js';
import { stableId } from '../core/ids.js';
import { API, type Entity, type Row } from './entity.js';

const CREATED_ON = '2024-01-15T09:00:00Z';

interface Version {
  snapshot: string;
  version: number;
  modifiedOn: string;
}

/**
 * One environment's Dataverse organization: its ids, its links, its business units, and the row
 * versions that make `@odata.etag` and `versionnumber` behave like Dataverse's rowversion.
 */
export class DataverseEnvironment {
  readonly envId: string;
  readonly orgId: string;
  readonly orgName: string;
  /** The SYSTEM user that owns what the platform creates. */
  readonly systemId: string;
  /** The organization's row (its values are computed; only its version is kept). */
  readonly orgRow: Row = {};
  private readonly syntheticBu: Row;
  // Row versions: a row's version changes whenever its content does (also when BAP's addUser or a
  // test edits the state).
  private counter: number;
  private readonly versions = new WeakMap<object, Version>();

  constructor(
    readonly ctx: SimContext,
    readonly environment: FixtureEnvironment,
  ) {
    this.envId = environment.id;
    this.orgId = stableId('organization', this.envId);
    this.orgName = `org${this.envId.replace(/-/g, '').slice(0, 8)}`;
    this.systemId = stableId('system-user', this.envId);
    this.syntheticBu = { businessunitid: stableId('business-unit', this.envId), name: this.orgName, parentbusinessunitid: null };
    this.counter = 1_000_000 + (Number.parseInt(this.orgId.slice(0, 4), 16) % 1000) * 1000;
  }

  /** `https://{instance}/api/data/v9.2`. */
  api(): string {
    return `${this.ctx.urls.dataverse[this.envId] ?? ''}${API}`;
  }

  entityId(entity: Entity, id: string): Record<string, string> {
    return { 'OData-Version': '4.0', 'OData-EntityId': `${this.api()}/${entity.set}(${id})` };
  }

  versionOf(row: object, source: unknown = row): Version {
    const snapshot = JSON.stringify(source);
    const known = this.versions.get(row);
    if (known && known.snapshot === snapshot) return known;
    const entry = { snapshot, version: ++this.counter, modifiedOn: known ? new Date().toISOString().replace(/\.\d+Z$/, 'Z') : CREATED_ON };
    this.versions.set(row, entry);
    return entry;
  }

  /**
   * A column answered alike for every table: the columns every record has (organization, created,
   * modified, version), then what the row stores, then the table's constant default, then null.
   * (A table that answers one of them differently has its own case first.)
   */
  column(row: Row, column: string, defaults: Readonly<Record<string, unknown>> = {}): unknown {
    switch (column) {
      case 'organizationid':
        return this.orgId;
      case 'createdon':
        return CREATED_ON;
      case 'modifiedon':
        return this.versionOf(row).modifiedOn;
      case 'versionnumber':
        return this.versionOf(row).version;
      default:
        if (column in row) return row[column] ?? null;
        return column in defaults ? defaults[column] : null;
    }
  }

  businessUnits(): Row[] {
    return (this.environment.businessunits.length > 0 ? this.environment.businessunits : [this.syntheticBu]) as Row[];
  }

  rootBusinessUnitId(): string {
    const units = this.businessUnits();
    return String((units.find((b) => !b.parentbusinessunitid) ?? units[0])!.businessunitid);
  }

  /** A row's business unit: the one it names, or the root. */
  businessUnitOf(row: Row): string {
    return (row.businessunitid as string | undefined) ?? this.rootBusinessUnitId();
  }
}
