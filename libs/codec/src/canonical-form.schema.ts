// Parsing Canonical Form (Avro specification, "Parsing Canonical Form for Schemas"),
// computed from the schema JSON itself. avsc's `type.schema()` is close but not the
// specification's form (it keeps logical types and short names), and the fingerprint on
// the wire must match what Java, Python or Rust compute for the same .avsc file.

/** A schema as parsed from an .avsc file. */
export type AvroSchemaJson = string | readonly AvroSchemaJson[] | { readonly [key: string]: unknown };

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

export class SchemaFormError extends Error {
  override readonly name = 'SchemaFormError';
}

interface Context {
  /** Full names of the named types defined so far, in definition order. */
  readonly defined: Set<string>;
}

/**
 * The schema's Parsing Canonical Form: [PRIMITIVES] [FULLNAMES] [STRIP] [ORDER] [STRINGS]
 * [INTEGERS] [WHITESPACE]. A named type is written in full at its first occurrence and as
 * its full name afterwards, as the specification's reference implementation does.
 */
export function parsingCanonicalForm(schema: AvroSchemaJson): string {
  return canonical(schema, '', { defined: new Set() });
}

function canonical(schema: unknown, namespace: string, ctx: Context): string {
  if (typeof schema === 'string') return reference(schema, namespace, ctx);
  if (Array.isArray(schema)) return `[${schema.map((branch) => canonical(branch, namespace, ctx)).join(',')}]`;
  if (schema === null || typeof schema !== 'object') {
    throw new SchemaFormError(`not a schema: ${JSON.stringify(schema)}`);
  }
  const obj = schema as Record<string, unknown>;
  const type = obj['type'];
  if (typeof type !== 'string') throw new SchemaFormError(`schema without a type name: ${JSON.stringify(schema)}`);
  switch (type) {
    case 'record':
    case 'error': {
      const name = named(obj, namespace, ctx);
      if (name.alreadyDefined) return JSON.stringify(name.fullName);
      const fields = obj['fields'];
      if (!Array.isArray(fields)) throw new SchemaFormError(`record ${name.fullName} has no fields array`);
      const parts = fields.map((field: unknown) => {
        if (field === null || typeof field !== 'object') throw new SchemaFormError(`bad field in ${name.fullName}`);
        const f = field as Record<string, unknown>;
        if (typeof f['name'] !== 'string') throw new SchemaFormError(`field without a name in ${name.fullName}`);
        return `{"name":${JSON.stringify(f['name'])},"type":${canonical(f['type'], name.namespace, ctx)}}`;
      });
      return `{"name":${JSON.stringify(name.fullName)},"type":"record","fields":[${parts.join(',')}]}`;
    }
    case 'enum': {
      const name = named(obj, namespace, ctx);
      if (name.alreadyDefined) return JSON.stringify(name.fullName);
      const symbols = obj['symbols'];
      if (!Array.isArray(symbols) || !symbols.every((s): s is string => typeof s === 'string')) {
        throw new SchemaFormError(`enum ${name.fullName} needs an array of string symbols`);
      }
      return `{"name":${JSON.stringify(name.fullName)},"type":"enum","symbols":[${symbols.map((s) => JSON.stringify(s)).join(',')}]}`;
    }
    case 'fixed': {
      const name = named(obj, namespace, ctx);
      if (name.alreadyDefined) return JSON.stringify(name.fullName);
      const size = obj['size'];
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        throw new SchemaFormError(`fixed ${name.fullName} needs a non-negative integer size`);
      }
      // [INTEGERS]: String(number) has no leading zeros or exponent for safe integers.
      return `{"name":${JSON.stringify(name.fullName)},"type":"fixed","size":${String(size)}}`;
    }
    case 'array':
      return `{"type":"array","items":${canonical(obj['items'], namespace, ctx)}}`;
    case 'map':
      return `{"type":"map","values":${canonical(obj['values'], namespace, ctx)}}`;
    default:
      // [PRIMITIVES] {"type":"int", "logicalType": ...} becomes "int"; a named reference stays one.
      return reference(type, namespace, ctx);
  }
}

function reference(name: string, namespace: string, ctx: Context): string {
  if (PRIMITIVES.has(name)) return JSON.stringify(name);
  const qualified = name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
  if (ctx.defined.has(qualified)) return JSON.stringify(qualified);
  // Java's parser falls back to the null namespace for an unqualified name; so do we.
  if (ctx.defined.has(name)) return JSON.stringify(name);
  throw new SchemaFormError(`undefined type name: ${name}`);
}

function named(
  obj: Record<string, unknown>,
  enclosing: string,
  ctx: Context,
): { fullName: string; namespace: string; alreadyDefined: boolean } {
  const name = obj['name'];
  if (typeof name !== 'string' || name === '') throw new SchemaFormError(`named type without a name: ${JSON.stringify(obj)}`);
  let fullName: string;
  if (name.includes('.')) {
    fullName = name;
  } else {
    const ns = typeof obj['namespace'] === 'string' ? obj['namespace'] : enclosing;
    fullName = ns === '' ? name : `${ns}.${name}`;
  }
  const lastDot = fullName.lastIndexOf('.');
  const namespace = lastDot < 0 ? '' : fullName.slice(0, lastDot);
  const alreadyDefined = ctx.defined.has(fullName);
  ctx.defined.add(fullName);
  return { fullName, namespace, alreadyDefined };
}
