import fc from 'fast-check';
import type * as v from 'valibot';
import type { Frame } from '../src/frames.ts';

/**
 * Derives fast-check arbitraries from the valibot frame schemas, so every frame
 * type (including ones added later) is covered by the property tests without a
 * hand-written generator that could drift from the schema.
 */
interface SchemaNode {
  type: string;
  pipe?: readonly { type: string; requirement?: unknown }[];
  entries?: Record<string, SchemaNode>;
  item?: SchemaNode;
  wrapped?: SchemaNode;
  literal?: unknown;
  options?: readonly SchemaNode[];
}

/** The validation actions of a schema, including those of pipes nested inside it. */
function actions(node: SchemaNode): { type: string; requirement?: unknown }[] {
  if (node.pipe === undefined) return [];
  const [base, ...rest] = node.pipe;
  return [...(base !== undefined && base !== node ? actions(base as SchemaNode) : []), ...rest];
}

function requirements(node: SchemaNode, type: string): unknown[] {
  return actions(node)
    .filter((action) => action.type === type)
    .map((action) => action.requirement);
}

function requirement(node: SchemaNode, type: string): unknown {
  return requirements(node, type)[0];
}

function arbitraryFor(node: SchemaNode): fc.Arbitrary<unknown> {
  const root = node;
  const maxLengths = requirements(node, 'max_length') as number[];
  const maxLength = maxLengths.length > 0 ? Math.min(...maxLengths) : undefined;
  const minLength = requirement(node, 'min_length') as number | undefined;
  const exactLength = requirement(node, 'length') as number | undefined;
  switch (root.type) {
    case 'object': {
      const entries = root.entries ?? {};
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      const optional: string[] = [];
      for (const [key, child] of Object.entries(entries)) {
        record[key] = arbitraryFor(child);
        if (child.type === 'optional') optional.push(key);
      }
      const required = Object.keys(entries).filter((key) => !optional.includes(key));
      // Absent optional fields are left out entirely, as the encoder does.
      return fc.record(record, { requiredKeys: required }).map((value) => {
        const ordered: Record<string, unknown> = {};
        for (const key of Object.keys(entries)) if (key in value) ordered[key] = value[key];
        return ordered;
      });
    }
    case 'optional':
      return arbitraryFor(root.wrapped as SchemaNode);
    case 'literal':
      return fc.constant(root.literal);
    case 'boolean':
      return fc.boolean();
    case 'number': {
      const min = Math.max(0, ...(requirements(node, 'min_value') as number[]));
      const max = Math.min(Number.MAX_SAFE_INTEGER, ...(requirements(node, 'max_value') as number[]));
      return fc.oneof(
        fc.integer({ min, max: Math.min(max, min + 300) }),
        fc.maxSafeNat().map((n) => min + (n % (max - min + 1))),
      );
    }
    case 'string': {
      const regex = requirement(node, 'regex') as RegExp | undefined;
      const limit = maxLength ?? 64;
      if (regex !== undefined) return fc.stringMatching(regex).filter((s) => s.length <= limit);
      return fc.string({ unit: 'binary', maxLength: Math.min(limit, 64) });
    }
    case 'custom': // bytes
      return fc.uint8Array({ minLength: exactLength ?? 0, maxLength: exactLength ?? Math.min(maxLength ?? 64, 96) });
    case 'array': {
      const items = fc.array(arbitraryFor(root.item as SchemaNode), {
        minLength: minLength ?? 0,
        maxLength: Math.min(maxLength ?? 4, 4),
      });
      // A list with a `check` (device lists: ids ascending, unique) is generated in that order.
      const check = requirement(node, 'check') as ((input: unknown) => boolean) | undefined;
      return check === undefined ? items : items.map(inDeviceOrder).filter((list) => check(list));
    }
    case 'variant':
      return fc.oneof(...(root.options ?? []).map(arbitraryFor));
    default:
      throw new Error(`no arbitrary for valibot schema type ${root.type}`);
  }
}

/** Items sorted by `deviceId`, one per id: the canonical order of a device list. */
function inDeviceOrder(items: unknown[]): unknown[] {
  const byId = new Map<number, unknown>();
  for (const item of items) byId.set((item as { deviceId: number }).deviceId, item);
  return [...byId].sort(([a], [b]) => a - b).map(([, item]) => item);
}

export function arbitraryFrame(schema: v.GenericSchema): fc.Arbitrary<Frame> {
  return arbitraryFor(schema as unknown as SchemaNode) as fc.Arbitrary<Frame>;
}
