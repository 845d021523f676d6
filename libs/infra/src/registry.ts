import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// Agency codes become principal, group and topic names: keep them to characters that are safe in all three.
const AGENCY_CODE = /^[A-Z0-9]{2,12}(-[A-Z0-9]{1,12}){0,2}$/;

/**
 * The agency codes of the member registry. Infra needs only the codes, so it reads just those (and checks
 * they are safe as names) instead of depending on the policy engine's full validation.
 */
export function readAgencyCodes(registryPath: string): string[] {
  const doc = parse(readFileSync(registryPath, 'utf8')) as { agencies?: Array<{ code?: unknown }> } | null;
  if (!doc || !Array.isArray(doc.agencies)) throw new Error(`${registryPath}: no "agencies" list`);
  const codes = doc.agencies.map((a, i) => {
    if (typeof a?.code !== 'string' || !AGENCY_CODE.test(a.code)) {
      throw new Error(`${registryPath}: agencies[${i}].code ${JSON.stringify(a?.code)} is not a valid agency code`);
    }
    return a.code;
  });
  const dup = codes.find((c, i) => codes.indexOf(c) !== i);
  if (dup) throw new Error(`${registryPath}: agency ${dup} is listed twice`);
  return codes;
}
