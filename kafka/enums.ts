// The clients' enums are plain objects at run time (no reverse mapping as TypeScript's own enums have): the name of
// a value is looked up.

/** The name under which `table` holds `value`; UNKNOWN when none does. */
export const nameOf = (table: object, value: number): string =>
  Object.entries(table).find(([, v]) => v === value)?.[0] ?? 'UNKNOWN'
