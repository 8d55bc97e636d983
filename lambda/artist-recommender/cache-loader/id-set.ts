/**
 * An exact set of user ids, packed in two typed arrays outside the JavaScript heap. A load has to
 * remember every id it has seen to refuse a repeat, and a `Set<string>` of a million ids holds
 * about 60 MB of small heap objects that every major collection traces; the heap is then sized from
 * that live set, which lifted the loader's peak RSS for a million users from 184 MB to 338 MB. Here
 * an id costs its length plus one byte in `bytes` and two to four 4-byte slots in `table`.
 *
 * Ids are what `KEY_PART_PATTERN` admits: ASCII, 1 to 128 characters; anything else is refused.
 */
export class UserIdSet {
  /** Open addressing with linear probing; 0 is an empty slot, otherwise 1 + the id's offset. */
  private table = new Uint32Array(1 << 16);
  /** Each id as one length byte, then its characters. */
  private bytes = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `id`; false when it was already in the set. */
  add(id: string): boolean {
    if (id.length === 0 || id.length > MAX_ID_LENGTH) {
      throw new RangeError(`an id must have 1 to ${MAX_ID_LENGTH} characters; got ${id.length}`);
    }
    // Kept at most half full, so a probe sequence stays short.
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const mask = this.table.length - 1;
    for (let slot = hashString(id) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot];
      if (entry === 0) {
        this.table[slot] = this.append(id) + 1;
        this.count++;
        return true;
      }
      if (this.equals(entry - 1, id)) return false;
    }
  }

  private append(id: string): number {
    if (this.used + 1 + id.length > this.bytes.length) {
      const larger = Buffer.allocUnsafe(this.bytes.length * 2);
      this.bytes.copy(larger, 0, 0, this.used);
      this.bytes = larger;
    }
    const offset = this.used;
    this.bytes[offset] = id.length;
    for (let i = 0; i < id.length; i++) {
      const code = id.charCodeAt(i);
      if (code > 0x7f) throw new RangeError(`an id must be ASCII; got ${JSON.stringify(id)}`);
      this.bytes[offset + 1 + i] = code;
    }
    this.used += 1 + id.length;
    return offset;
  }

  private equals(offset: number, id: string): boolean {
    if (this.bytes[offset] !== id.length) return false;
    for (let i = 0; i < id.length; i++) {
      if (this.bytes[offset + 1 + i] !== id.charCodeAt(i)) return false;
    }
    return true;
  }

  private rehash(capacity: number): void {
    const previous = this.table;
    this.table = new Uint32Array(capacity);
    const mask = capacity - 1;
    for (const entry of previous) {
      if (entry === 0) continue;
      let slot = this.hashStored(entry - 1) & mask;
      while (this.table[slot] !== 0) slot = (slot + 1) & mask;
      this.table[slot] = entry;
    }
  }

  /** The hash of a stored id: the same as `hashString` of the id, since ids are ASCII. */
  private hashStored(offset: number): number {
    let hash = FNV_OFFSET;
    const end = offset + 1 + this.bytes[offset];
    for (let i = offset + 1; i < end; i++) hash = Math.imul(hash ^ this.bytes[i], FNV_PRIME);
    return hash >>> 0;
  }
}

const MAX_ID_LENGTH = 128;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the character codes. */
function hashString(id: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), FNV_PRIME);
  return hash >>> 0;
}
