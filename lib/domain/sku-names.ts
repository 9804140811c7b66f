/**
 * Product names of licences by SKU part number (`skuPartNumber` of Graph's subscribedSkus), as
 * Microsoft lists them in "Product names and service plan identifiers for licensing"
 * (https://learn.microsoft.com/en-us/entra/identity/users/licensing-service-plan-reference), the
 * "Product name" and "String ID" columns. Only the SKUs Steward's settings and fixtures name; any
 * other SKU is shown by its part number.
 */
export const SKU_PRODUCT_NAMES: Readonly<Record<string, string>> = {
  // Dynamics 365 and Power Apps: the default environment licences (D4.2).
  DYN365_ENTERPRISE_SALES: 'Dynamics 365 for Sales Enterprise Edition',
  DYN365_SALES_PREMIUM: 'Dynamics 365 Sales Premium',
  D365_SALES_PRO: 'Dynamics 365 for Sales Professional',
  DYN365_ENTERPRISE_CUSTOMER_SERVICE: 'Dynamics 365 for Customer Service Enterprise Edition',
  DYN365_CUSTOMER_SERVICE_PRO: 'Dynamics 365 Customer Service Professional',
  DYN365_ENTERPRISE_FIELD_SERVICE: 'Dynamics 365 for Field Service Enterprise Edition',
  DYN365_ENTERPRISE_PLAN1: 'Dynamics 365 Customer Engagement Plan',
  DYN365_ENTERPRISE_TEAM_MEMBERS: 'Dynamics 365 for Team Members Enterprise Edition',
  DYN365_TEAM_MEMBERS: 'Dynamics 365 Team Members',
  POWERAPPS_PER_USER: 'Power Apps Premium',
  POWERAPPS_PER_APP_NEW: 'Power Apps per app plan (1 app or portal)',
  POWERAPPS_DEV: 'Microsoft Power Apps for Developer',
  // Microsoft 365 and Office 365: the free Dataverse plans (D4.2 v).
  SPE_E3: 'Microsoft 365 E3',
  SPE_E5: 'Microsoft 365 E5',
  SPE_F1: 'Microsoft 365 F3',
  SPB: 'Microsoft 365 Business Premium',
  O365_BUSINESS_PREMIUM: 'Microsoft 365 Business Standard',
  O365_BUSINESS_ESSENTIALS: 'Microsoft 365 Business Basic',
  ENTERPRISEPACK: 'Office 365 E3',
  ENTERPRISEPREMIUM: 'Office 365 E5',
  // Others the fixtures hold.
  EMS: 'Enterprise Mobility + Security E3',
  PROJECTPREMIUM: 'Project Online Premium',
  VISIOCLIENT: 'Visio Online Plan 2',
};

/** `Product name (SKU_PART_NUMBER)`, or the part number alone when the product is not in the table. */
export function licenceLabel(skuPartNumber: string): string {
  const name = SKU_PRODUCT_NAMES[skuPartNumber];
  return name ? `${name} (${skuPartNumber})` : skuPartNumber;
}
