import { isMusicfsError } from "@musicfs/core";
import { describe, expect, it } from "vitest";
import { type LayoutInput, layoutPaths } from "../src/layout.js";
import { compileTemplate } from "../src/template.js";
import { isDir, Tree, type TreeFile } from "../src/tree.js";

const template = compileTemplate("{albumartist}/{year} - {album}/{disc-track} {title}.{ext}");

function track(over: Partial<LayoutInput> & { path: string }): LayoutInput {
  const { path, ...rest } = over;
  return {
    root: "/music",
    title: null,
    artist: null,
    album: null,
    albumartist: null,
    track: null,
    trackTotal: null,
    disc: null,
    discTotal: null,
    year: null,
    genre: null,
    label: null,
    compilation: false,
    genres: [],
    ...rest,
    pathText: path,
  };
}

describe("compileTemplate", () => {
  it("renders the default layout with padded track numbers", () => {
    const parts = template.render({
      albumartist: "Pink Floyd",
      year: "1979",
      album: "The Wall",
      "disc-track": "01",
      title: "In the Flesh?",
      ext: "flac",
    });
    expect(parts).toEqual(["Pink Floyd", "1979 - The Wall", "01 In the Flesh?.flac"]);
  });

  it("uses fallbacks for missing fields, and a template's own fallback first", () => {
    expect(template.render({ ext: "mp3" })).toEqual(["Unknown Artist", "0000 - Unknown Album", "00 Unknown Title.mp3"]);
    expect(compileTemplate("{genre|No Genre}/{title}").render({ title: "x" })).toEqual(["No Genre", "x"]);
  });

  it("keeps a slash inside a value from becoming a directory", () => {
    expect(template.render({ albumartist: "AC/DC", album: "../../etc", year: "1980", title: "a/b", ext: "mp3" })).toEqual([
      "AC_DC",
      "1980 - .._.._etc",
      "00 a_b.mp3",
    ]);
  });

  it("rejects unknown fields with the list of valid ones", () => {
    try {
      compileTemplate("{artist}/{bogus}");
      expect.unreachable();
    } catch (err) {
      expect(isMusicfsError(err, "CONFIG_INVALID")).toBe(true);
      expect((err as Error).message).toContain("{bogus}");
    }
  });
});

describe("layoutPaths", () => {
  it("places a file under Artists, each genre, its label and year, and Files", () => {
    const paths = layoutPaths(
      track({
        path: "/music/PF/wall/01.flac",
        title: "In the Flesh?",
        artist: "Pink Floyd",
        album: "The Wall",
        track: 1,
        year: 1979,
        genre: "Progressive Rock",
        genres: ["Progressive Rock", "Art Rock"],
        label: "Harvest",
      }),
      template,
    );
    expect(paths.map((p) => p.join("/"))).toEqual([
      "Artists/Pink Floyd/1979 - The Wall/01 In the Flesh?.flac",
      "Genres/Progressive Rock/Pink Floyd/The Wall/01 In the Flesh?.flac",
      "Genres/Art Rock/Pink Floyd/The Wall/01 In the Flesh?.flac",
      "Labels/Harvest/Pink Floyd/The Wall/01 In the Flesh?.flac",
      "Years/1979/Pink Floyd/The Wall/01 In the Flesh?.flac",
      "Files/music/PF/wall/01.flac",
    ]);
  });

  it("writes disc-track for multi-disc albums and falls back to the file name for a missing title", () => {
    const [artists] = layoutPaths(
      track({ path: "/music/x/Track 07.mp3", artist: "A", album: "B", track: 7, disc: 2, discTotal: 2 }),
      template,
    );
    expect(artists).toEqual(["Artists", "A", "0000 - B", "2-07 Track 07.mp3"]);
  });

  it("mirrors the origin tree under the root's folder name, with unsafe names made safe", () => {
    const input = track({ path: "/srv/music/a\u0001b/caf\ufffd.mp3", root: "/srv/music" });
    expect(layoutPaths(input, template).at(-1)).toEqual(["Files", "music", "ab", "caf\ufffd.mp3"]);
  });
});

interface F extends TreeFile {
  name: string;
}
const file = (fileId: number, path: string): F => ({ fileId, sortKey: path, name: path });

describe("Tree", () => {
  it("disambiguates colliding names with (2), (3) in origin-path order, whatever the insertion order", () => {
    const a = file(3, "/m/a.flac");
    const b = file(1, "/m/b.flac");
    const c = file(2, "/m/c.flac");
    const forward = new Tree<F>(["Artists"], 0);
    const backward = new Tree<F>(["Artists"], 0);
    for (const f of [a, b, c]) forward.place(f, [["Artists", "X", "Song.flac"]], 0);
    for (const f of [c, b, a]) backward.place(f, [["Artists", "X", "Song.flac"]], 0);
    for (const tree of [forward, backward]) {
      expect(tree.lookup("/Artists/X")).toSatisfy(isDir);
      expect((tree.lookup("/Artists/X") as { names(): string[] }).names()).toEqual(["Song (2).flac", "Song (3).flac", "Song.flac"]);
      expect(tree.lookup("/Artists/X/Song.flac")).toBe(a);
      expect(tree.lookup("/Artists/X/Song (2).flac")).toBe(b);
      expect(tree.lookup("/Artists/X/Song (3).flac")).toBe(c);
    }
  });

  it("does not hand a suffixed name to a file that already owns it", () => {
    const tree = new Tree<F>(["Artists"], 0);
    const literal = file(1, "/m/z.flac");
    tree.place(literal, [["Artists", "Song (2).flac"]], 0);
    tree.place(file(2, "/m/a.flac"), [["Artists", "Song.flac"]], 0);
    tree.place(file(3, "/m/b.flac"), [["Artists", "Song.flac"]], 0);
    expect(tree.lookup("/Artists/Song (2).flac")).toBe(literal);
    expect((tree.lookup("/Artists") as { names(): string[] }).names()).toEqual(["Song (2).flac", "Song (3).flac", "Song.flac"]);
  });

  it("lets a directory keep its name over a file of the same name", () => {
    const tree = new Tree<F>(["Files"], 0);
    tree.place(file(1, "/m/x/y"), [["Files", "x", "y"]], 0);
    tree.place(file(2, "/m/x"), [["Files", "x"]], 0);
    expect(tree.lookup("/Files/x")).toSatisfy(isDir);
    expect(tree.lookup("/Files/x (2)")).toMatchObject({ fileId: 2 });
  });

  it("removes a file from every view and prunes directories it leaves empty", () => {
    const tree = new Tree<F>(["Artists", "Genres"], 0);
    const f = file(1, "/m/a.flac");
    tree.place(
      f,
      [
        ["Artists", "A", "B", "a.flac"],
        ["Genres", "Rock", "a.flac"],
      ],
      0,
    );
    tree.place(file(2, "/m/b.flac"), [["Artists", "A", "C", "b.flac"]], 0);
    tree.remove(f, 5);
    expect(tree.lookup("/Artists/A/B")).toBeUndefined();
    expect(tree.lookup("/Genres/Rock")).toBeUndefined();
    expect(tree.lookup("/Genres")).toSatisfy(isDir);
    expect(tree.lookup("/Artists/A/C/b.flac")).toMatchObject({ fileId: 2 });
    expect((tree.lookup("/Artists/A") as { mtimeMs: number }).mtimeMs).toBe(5);
  });

  it("indexes names on first use: a file placed and removed before any lookup leaves nothing behind", () => {
    const tree = new Tree<F>(["Artists"], 0);
    const files = Array.from({ length: 40 }, (_, i) => file(i + 1, `/m/${i}.flac`));
    // 40 claims in one directory (past the flat-array size), two of them for the same name.
    for (const f of files) tree.place(f, [["Artists", "X", f.fileId === 40 ? "1.flac" : `${f.fileId}.flac`]], 0);
    tree.remove(files[0]!, 1);
    const names = (tree.lookup("/Artists/X") as { names(): string[] }).names();
    expect(names).toHaveLength(39);
    expect(tree.lookup("/Artists/X/1.flac")).toBe(files[39]);
    tree.place(files[0]!, [["Artists", "X", "1.flac"]], 2);
    expect(tree.lookup("/Artists/X/1.flac")).toBe(files[0]);
    expect(tree.lookup("/Artists/X/1 (2).flac")).toBe(files[39]);
    for (const f of files) tree.remove(f, 3);
    expect(tree.lookup("/Artists/X")).toBeUndefined();
  });

  it("lists a file once where two of its placements spell the same name", () => {
    const tree = new Tree<F>(["Genres"], 0);
    const f = file(1, "/m/a.flac");
    tree.place(
      f,
      [
        ["Genres", "Rock", "a.flac"],
        ["Genres", "Rock", "a.flac"],
      ],
      0,
    );
    expect(f.treeSlots).toHaveLength(2);
    expect((tree.lookup("/Genres/Rock") as { names(): string[] }).names()).toEqual(["a.flac"]);
    tree.remove(f, 1);
    expect(tree.lookup("/Genres/Rock")).toBeUndefined();
  });

  it("returns undefined for paths through a file or to nothing", () => {
    const tree = new Tree<F>(["Artists"], 0);
    tree.place(file(1, "/m/a"), [["Artists", "a"]], 0);
    expect(tree.lookup("/Artists/a/b")).toBeUndefined();
    expect(tree.lookup("/Nope")).toBeUndefined();
    expect(tree.lookup("/")).toBe(tree.root);
  });
});
