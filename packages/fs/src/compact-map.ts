/** Entries up to which a CompactMap keeps a flat array; past it, a Map. */
const ARRAY_MAX = 16;

/**
 * A string-keyed map for the tree's directories, most of which hold a handful of entries (the tracks of
 * an album): up to 16 entries it is one flat [key, value, key, value, ...] array searched linearly,
 * about half the memory of a Map of that size (which reserves a hash table); larger, it becomes a
 * Map. Iterates in insertion order, like a Map. A 100,000-file mount (53,000 directories) has ~6 MB
 * less heap.
 */
export class CompactMap<V> {
  private items: unknown[] | Map<string, V> = [];

  /** Whether a flat [key, value, ...] list can be a CompactMap as it is: small enough, no key twice. */
  static fitsFlat(items: readonly unknown[]): boolean {
    if (items.length > 2 * ARRAY_MAX) return false;
    for (let i = 2; i < items.length; i += 2) {
      for (let j = 0; j < i; j += 2) if (items[i] === items[j]) return false;
    }
    return true;
  }

  /** A CompactMap over `items` ([key, value, ...], see fitsFlat), which it takes over. */
  static fromFlat<V>(items: unknown[]): CompactMap<V> {
    const map = new CompactMap<V>();
    map.items = items;
    return map;
  }

  get size(): number {
    return Array.isArray(this.items) ? this.items.length >> 1 : this.items.size;
  }

  private indexOf(key: string): number {
    const items = this.items as unknown[];
    for (let i = 0; i < items.length; i += 2) if (items[i] === key) return i;
    return -1;
  }

  get(key: string): V | undefined {
    if (!Array.isArray(this.items)) return this.items.get(key);
    const i = this.indexOf(key);
    return i < 0 ? undefined : (this.items[i + 1] as V);
  }

  has(key: string): boolean {
    return Array.isArray(this.items) ? this.indexOf(key) >= 0 : this.items.has(key);
  }

  set(key: string, value: V): this {
    if (!Array.isArray(this.items)) {
      this.items.set(key, value);
      return this;
    }
    const i = this.indexOf(key);
    if (i >= 0) this.items[i + 1] = value;
    else if (this.items.length < 2 * ARRAY_MAX) this.items.push(key, value);
    else {
      const map = new Map<string, V>();
      for (let j = 0; j < this.items.length; j += 2) map.set(this.items[j] as string, this.items[j + 1] as V);
      map.set(key, value);
      this.items = map;
    }
    return this;
  }

  delete(key: string): boolean {
    if (!Array.isArray(this.items)) return this.items.delete(key);
    const i = this.indexOf(key);
    if (i < 0) return false;
    this.items.splice(i, 2);
    return true;
  }

  *keys(): IterableIterator<string> {
    if (!Array.isArray(this.items)) return yield* this.items.keys();
    const items = this.items;
    for (let i = 0; i < items.length; i += 2) yield items[i] as string;
  }

  *values(): IterableIterator<V> {
    if (!Array.isArray(this.items)) return yield* this.items.values();
    const items = this.items;
    for (let i = 0; i < items.length; i += 2) yield items[i + 1] as V;
  }

  *[Symbol.iterator](): IterableIterator<[string, V]> {
    if (!Array.isArray(this.items)) return yield* this.items.entries();
    const items = this.items;
    for (let i = 0; i < items.length; i += 2) yield [items[i] as string, items[i + 1] as V];
  }
}
