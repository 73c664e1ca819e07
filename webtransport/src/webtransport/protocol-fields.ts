/**
 * Application protocol negotiation fields (draft-ietf-webtrans-http3-16 §3.3):
 * the client offers `wt-available-protocols`, a Structured Field List, and the
 * server answers `wt-protocol`, a Structured Field Item; in both the only valid
 * value type is a String (RFC 9651 §3.3.3). Any other value type, or a field
 * that does not parse, makes the whole field ignored (RFC 9651 §4.2), so
 * negotiation stays optional. Parameters carry no meaning and are ignored.
 */
import { type BareItem, type InnerList, type Item, parseItem, parseList, serializeItem } from 'structured-headers';

const isString = (value: BareItem | Item[]): value is string => typeof value === 'string';

/**
 * The protocols a client offers, most preferred first; [] when the field is
 * absent or ignored (a parse error, an inner list, or a member that is not a String).
 */
export function parseAvailableProtocols(value: string | undefined): string[] {
  if (value === undefined) return [];
  let members: (Item | InnerList)[];
  try {
    members = parseList(value);
  } catch {
    return [];
  }
  const protocols: string[] = [];
  for (const [bare] of members) {
    if (!isString(bare)) return [];
    protocols.push(bare);
  }
  return protocols;
}

/** The protocol a server selected, or undefined when the field is absent or ignored (not a String Item). */
export function parseSelectedProtocol(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let item: Item;
  try {
    item = parseItem(value);
  } catch {
    return undefined;
  }
  const [bare] = item;
  return isString(bare) ? bare : undefined;
}

/** A String item; RangeError for text a String cannot carry (RFC 9651 §3.3.3: printable ASCII only). */
function serializeString(protocol: string): string {
  try {
    return serializeItem(protocol);
  } catch {
    throw new RangeError(`protocol ${JSON.stringify(protocol)} is not a Structured Field String (printable ASCII)`);
  }
}

/** `wt-available-protocols` for the protocols a client offers, in order of preference. */
export function serializeAvailableProtocols(protocols: readonly string[]): string {
  return protocols.map(serializeString).join(', ');
}

/** `wt-protocol` for the protocol a server selected. */
export function serializeSelectedProtocol(protocol: string): string {
  return serializeString(protocol);
}
