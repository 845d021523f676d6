// avsc reads an array or map block count and then loops that many times, even when the
// count is far larger than the bytes left (a read past the end "fails silently" and the
// check comes only at the very end). A corrupt or hostile record of a dozen bytes can then
// pin a core for minutes or exhaust the heap, before the consumer gets the chance to
// dead-letter it. The array and map types below bound every block count by the bytes left,
// when reading and when skipping (resolvers skip writer fields the reader does not have).
//
// They rely on avsc internals, kept in this one file: the `_read`/`_skip` methods of types
// and the tap's `buf`/`pos`/`readLong`/`skipLong`/`readString`/`skipString`. The codec's
// tests fail if a new avsc version changes them. Maps also keep a "__proto__" key as data.
import avro from 'avsc';
import type { Schema, Type } from 'avsc';

interface AvroTap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
}

interface ItemCodec {
  _read(tap: AvroTap): unknown;
  _skip(tap: AvroTap): void;
}

/** Thrown from inside avsc's read loop; the codec turns it into a CodecError. */
export class BlockCountError extends Error {
  override readonly name = 'BlockCountError';
}

/** The item count of the next block (0 at the end); with `skipSizedBlocks`, blocks that state their byte size are skipped whole. */
function readBlockCount(tap: AvroTap, skipSizedBlocks: boolean): number {
  for (;;) {
    let n = tap.readLong();
    if (n >= 0) return checked(tap, n);
    n = -n;
    const size = tap.readLong();
    if (!skipSizedBlocks) return checked(tap, n);
    if (size < 0 || size > tap.buf.length - tap.pos) throw new BlockCountError(`block of ${size} bytes with ${remaining(tap)} left`);
    tap.pos += size;
  }
}

function checked(tap: AvroTap, n: number): number {
  // Every item takes at least one byte (the catalog rejects schemas where it would not).
  if (n > tap.buf.length - tap.pos) throw new BlockCountError(`block of ${n} items with ${remaining(tap)} bytes left`);
  return n;
}

function remaining(tap: AvroTap): number {
  return Math.max(0, tap.buf.length - tap.pos);
}

// Subclasses rather than patched instances: avsc freezes its type objects. Resolvers copy
// `_read` from the reader type, so they get the bounded one too.
class BoundedArrayType extends avro.types.ArrayType {
  _read(tap: AvroTap): unknown[] {
    const items = this.itemsType as unknown as ItemCodec;
    let out: unknown[] | undefined;
    let i = 0;
    let n: number;
    while ((n = readBlockCount(tap, false))) {
      // Preallocating is what avsc does for speed; n is bounded above, so it is safe here.
      out ??= new Array<unknown>(n);
      while (n--) out[i++] = items._read(tap);
    }
    return out ?? [];
  }

  _skip(tap: AvroTap): void {
    const items = this.itemsType as unknown as ItemCodec;
    let n: number;
    while ((n = readBlockCount(tap, true))) {
      while (n--) items._skip(tap);
    }
  }
}

class BoundedMapType extends avro.types.MapType {
  _read(tap: AvroTap): Record<string, unknown> {
    const values = this.valuesType as ItemCodec;
    const out: Record<string, unknown> = {};
    let n: number;
    while ((n = readBlockCount(tap, false))) {
      while (n--) {
        const key = tap.readString();
        const value = values._read(tap);
        // A "__proto__" key must stay data: plain assignment would set the object's prototype.
        if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        else out[key] = value;
      }
    }
    return out;
  }

  _skip(tap: AvroTap): void {
    const values = this.valuesType as ItemCodec;
    let n: number;
    while ((n = readBlockCount(tap, true))) {
      while (n--) {
        tap.skipString();
        values._skip(tap);
      }
    }
  }
}

/**
 * `typeHook` for `Type.forSchema`: arrays and maps become their bounded versions.
 * avsc's option types are loose (`any`) here, hence the `unknown` casts.
 */
export function boundedCollectionsHook(schema: Schema, opts: unknown): Type | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const type = (schema as { type?: unknown }).type;
  if (type === 'array') return new BoundedArrayType(schema, opts);
  if (type === 'map') return new BoundedMapType(schema, opts);
  return undefined;
}

/** True when every array and map inside `root` is a bounded one. */
export function hasBoundedCollections(root: Type): boolean {
  let bounded = true;
  walk(root, (type) => {
    if (avro.Type.isType(type, 'array') && !(type instanceof BoundedArrayType)) bounded = false;
    if (avro.Type.isType(type, 'map') && !(type instanceof BoundedMapType)) bounded = false;
  });
  return bounded;
}

/** Sub-types of a parsed type, for the walks below. */
function children(type: Type): Type[] {
  const t = type as unknown as {
    fields?: { type: Type }[];
    itemsType?: Type;
    valuesType?: Type;
    types?: Type[];
    underlyingType?: Type;
  };
  if (avro.Type.isType(type, 'record', 'error')) return (t.fields ?? []).map((f) => f.type);
  if (avro.Type.isType(type, 'array')) return [t.itemsType!];
  if (avro.Type.isType(type, 'map')) return [t.valuesType!];
  if (avro.Type.isType(type, 'union')) return t.types ?? [];
  if (avro.Type.isType(type, 'logical')) return [t.underlyingType!];
  return [];
}

function walk(root: Type, visit: (type: Type) => void): void {
  const seen = new Set<Type>();
  const stack = [root];
  while (stack.length > 0) {
    const type = stack.pop()!;
    if (seen.has(type)) continue;
    seen.add(type);
    visit(type);
    stack.push(...children(type));
  }
}

/** The fewest bytes a value of this type can take, 0 for null-like types; recursion counts as 0. */
function minEncodedSize(type: Type, visiting: Set<Type> = new Set()): number {
  if (visiting.has(type)) return 0;
  if (avro.Type.isType(type, 'null')) return 0;
  if (avro.Type.isType(type, 'fixed')) return (type as unknown as { size: number }).size;
  if (avro.Type.isType(type, 'float')) return 4;
  if (avro.Type.isType(type, 'double')) return 8;
  if (avro.Type.isType(type, 'logical')) return minEncodedSize((type as avro.types.LogicalType).underlyingType, visiting);
  if (avro.Type.isType(type, 'record', 'error')) {
    visiting.add(type);
    const size = children(type).reduce((sum, field) => sum + minEncodedSize(field, visiting), 0);
    visiting.delete(type);
    return size;
  }
  // boolean, int, long, bytes, string, enum, array, map, union: at least one byte.
  return 1;
}

/** Paths of arrays whose items can take zero bytes; the bounded read forbids those. */
export function zeroSizeArrayItems(root: Type): string[] {
  const found: string[] = [];
  walk(root, (type) => {
    if (avro.Type.isType(type, 'array')) {
      const items = (type as unknown as { itemsType: Type }).itemsType;
      if (minEncodedSize(items) === 0) found.push(String(type));
    }
  });
  return found;
}
