import { describe, expect, it } from "vitest";
import { collisionName, cutUtf8, fitName, NAME_MAX_BYTES, safeName, sanitizeComponent } from "../src/naming.js";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

describe("sanitizeComponent", () => {
  it("replaces slashes and NUL so a tag cannot add a directory level", () => {
    expect(sanitizeComponent("AC/DC")).toBe("AC_DC");
    expect(sanitizeComponent("../../etc")).toBe(".._.._etc");
    expect(sanitizeComponent("a\u0000b")).toBe("a_b");
  });

  it("never produces '.', '..' or an empty name", () => {
    expect(sanitizeComponent(".")).toBe("_");
    expect(sanitizeComponent("..")).toBe("__");
    expect(sanitizeComponent("  ")).toBe("_");
    expect(sanitizeComponent("", "Unknown Artist")).toBe("Unknown Artist");
    expect(sanitizeComponent(" .. ")).toBe("__");
  });

  it("removes control characters and bidi overrides and trims whitespace", () => {
    expect(sanitizeComponent(" Tab\there\u0007 \u202eevil\n")).toBe("Tabhere evil");
  });

  it("normalises to NFC so the same title always gives the same bytes", () => {
    expect(sanitizeComponent("Beyonce\u0301")).toBe("Beyoncé");
  });

  it("repairs lone surrogates instead of producing invalid UTF-8", () => {
    expect(sanitizeComponent("a\ud800b")).toBe("a\ufffdb");
  });
});

describe("fitName", () => {
  it("cuts long names to 255 bytes on a character boundary and keeps the extension", () => {
    const name = `${"é".repeat(200)}.flac`;
    const fitted = fitName(name);
    expect(bytes(fitted)).toBeLessThanOrEqual(NAME_MAX_BYTES);
    expect(fitted.endsWith(".flac")).toBe(true);
    expect(fitted).toBe(`${"é".repeat(125)}.flac`);
  });

  it("does not split a 4-byte character", () => {
    const cut = cutUtf8("😀".repeat(70), 255);
    expect(cut).toBe("😀".repeat(63));
    expect(cut.toWellFormed()).toBe(cut);
  });

  it("keeps room for a collision suffix", () => {
    const name = `${"x".repeat(300)}.mp3`;
    const second = collisionName(name, 2);
    expect(bytes(second)).toBe(NAME_MAX_BYTES);
    expect(second.endsWith(" (2).mp3")).toBe(true);
  });

  it("puts the suffix before the extension", () => {
    expect(collisionName("01 Song.flac", 3)).toBe("01 Song (3).flac");
    expect(collisionName("Album", 2)).toBe("Album (2)");
  });

  it("safeName combines both", () => {
    expect(safeName(`${"/".repeat(300)}`)).toBe("_".repeat(255));
  });
});
