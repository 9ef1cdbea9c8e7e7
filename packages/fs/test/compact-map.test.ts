import { describe, expect, it } from "vitest";
import { CompactMap } from "../src/compact-map.js";

describe("CompactMap", () => {
  it("behaves like a Map in insertion order, below and above the size where it turns into one", () => {
    for (const n of [0, 1, 5, 16, 17, 40]) {
      const compact = new CompactMap<number>();
      const map = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        compact.set(`k${i}`, i);
        map.set(`k${i}`, i);
      }
      // Overwriting keeps the position (for n = 0 it adds k0).
      compact.set("k0", -1);
      map.set("k0", -1);
      for (const k of ["k3", "k10", "absent"]) expect(compact.delete(k)).toBe(map.delete(k));
      compact.set("late", 99);
      map.set("late", 99);
      expect(compact.size).toBe(map.size);
      expect([...compact]).toEqual([...map]);
      expect([...compact.keys()]).toEqual([...map.keys()]);
      expect([...compact.values()]).toEqual([...map.values()]);
      for (const k of ["k0", "k1", "k3", "k20", "late", "absent"]) {
        expect(compact.get(k)).toBe(map.get(k));
        expect(compact.has(k)).toBe(map.has(k));
      }
    }
  });
});
