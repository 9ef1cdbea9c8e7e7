import { createHash } from "node:crypto";
import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMusicfsError } from "@musicfs/core";
import {
  copyFixtureLibrary,
  ensureFixtureLibrary,
  FIXTURE_MTIME,
  type FixtureFile,
  type FixtureManifest,
  fixtureFsPath,
  generateAlbumTemplates,
  generateFixtureLibrary,
  mapWithConcurrency,
  readTagsIndependently,
  runTool,
} from "@musicfs/test-utils";
import { type IAudioMetadata, parseBuffer, parseFile } from "music-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let tmp: string;
let root: string;
let manifest: FixtureManifest;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "musicfs-fixtures-"));
  root = join(tmp, "library");
  manifest = await generateFixtureLibrary(root);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const good = (): FixtureFile[] => manifest.files.filter((f) => f.kind === "good");
const entry = (path: string): FixtureFile => {
  const found = manifest.files.find((f) => f.path === path);
  if (!found) throw new Error(`no manifest entry ${path}`);
  return found;
};

/** music-metadata as a scanner would call it; Buffer paths and mislabelled files go through content sniffing. */
async function parseLikeAScanner(file: FixtureFile, skipCovers: boolean): Promise<IAudioMetadata> {
  const path = fixtureFsPath(root, file);
  if (typeof path === "string" && file.parseFileOutcome !== "throws") return parseFile(path, { skipCovers, duration: false });
  return parseBuffer(await readFile(path), undefined, { skipCovers, duration: false });
}

/** Every regular file's bytes and mtime, keyed by hex path (non-UTF-8 names included). */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (d: Buffer, rel: string): Promise<void> => {
    for (const e of await readdir(d, { encoding: "buffer", withFileTypes: true })) {
      const p = Buffer.concat([d, Buffer.from("/"), e.name]);
      const key = `${rel}/${e.name.toString("hex")}`;
      const st = await lstat(p);
      if (e.isDirectory()) await visit(p, key);
      else if (e.isFile() && st.mode & 0o444)
        out[key] = `${createHash("sha256")
          .update(await readFile(p))
          .digest("hex")}@${st.mtimeMs}`;
      else out[key] = `${st.mode.toString(8)}@${st.mtimeMs}`;
    }
  };
  await visit(Buffer.from(dir), "");
  return out;
}

describe("generateFixtureLibrary", () => {
  it("lays good files out in artist/album folders as regular files with the fixed mtime", async () => {
    expect(good().length).toBeGreaterThanOrEqual(35);
    for (const f of good()) {
      const st = await stat(fixtureFsPath(root, f));
      expect(st.isFile(), f.path).toBe(true);
      expect(st.size, f.path).toBeGreaterThan(500);
      expect(st.mtime.getTime(), f.path).toBe(FIXTURE_MTIME.getTime());
    }
    expect(entry("Aurora Lane/Northern Lights/12 - Thaw.flac").tags?.trackTotal).toBe(12);
    for (const ignored of manifest.ignored) expect((await stat(join(root, ignored))).isFile()).toBe(true);
  });

  it("covers every container and codec the scanner must read", () => {
    const kinds = new Set(good().map((f) => `${f.format}|${f.codec}|${f.tagTypes?.join("+")}`));
    expect([...kinds].sort()).toEqual([
      "AIFF|PCM|AIFF+ID3v2.4",
      "FLAC|FLAC|vorbis",
      "M4A/isom/iso2|ALAC|iTunes",
      "M4A/isom/iso2|MPEG-4/AAC|iTunes",
      "MPEG|MPEG 2.5 Layer 3|ID3v1",
      "MPEG|MPEG 2.5 Layer 3|ID3v2.3",
      "MPEG|MPEG 2.5 Layer 3|ID3v2.4",
      "MPEG|MPEG 2.5 Layer 3|ID3v2.4+ID3v1",
      "Ogg|Opus|vorbis",
      "Ogg|Vorbis I|vorbis",
      "WAVE|PCM|exif",
    ]);
  });

  it("gives music-metadata's view of every good file: container, codec, tag types and common tags", async () => {
    await mapWithConcurrency(good(), 4, async (f) => {
      const m = await parseLikeAScanner(f, true);
      const c = m.common;
      expect(
        {
          format: m.format.container,
          codec: m.format.codec,
          tagTypes: m.format.tagTypes,
          title: c.title ?? null,
          artist: c.artist ?? null,
          album: c.album ?? null,
          albumartist: c.albumartist ?? null,
          track: c.track.no,
          trackTotal: c.track.of,
          disc: c.disk.no,
          discTotal: c.disk.of,
          year: c.year ?? null,
          genres: c.genre ?? [],
          compilation: c.compilation ?? false,
          musicbrainzReleaseGroupId: c.musicbrainz_releasegroupid ?? null,
        },
        f.path,
      ).toEqual({ format: f.format, codec: f.codec, tagTypes: f.tagTypes, ...f.tags, hasPicture: undefined });
      const withCovers = await parseLikeAScanner(f, false);
      expect((withCovers.common.picture?.length ?? 0) > 0, f.path).toBe(f.tags?.hasPicture);
    });
  });

  it("agrees with mutagen on title, artist, album, genres and pictures of every good file", async () => {
    await mapWithConcurrency(good(), 2, async (f) => {
      const t = await readTagsIndependently(fixtureFsPath(root, f));
      expect(t.pictureCount > 0, f.path).toBe(f.tags?.hasPicture);
      if (f.format === "WAVE") {
        // mutagen 1.46 reads only ID3 chunks in WAV, not the RIFF INFO list ffmpeg writes.
        expect(t.type).toBe("WAVE");
        return;
      }
      expect({ title: t.common.title, artist: t.common.artist, album: t.common.album, genre: t.common.genre ?? [] }, f.path).toEqual({
        title: [f.tags?.title],
        artist: [f.tags?.artist],
        album: [f.tags?.album],
        genre: f.tags?.genres,
      });
    });
  });

  it("keeps hostile tag values verbatim: control characters, NUL, 100,000 characters, slashes and dot-dot", () => {
    expect(entry("bad/control-chars.flac").tags?.title).toBe("Bad\u0001Title\u0000X");
    expect(entry("bad/long-title.flac").tags?.title).toHaveLength(100_000);
    expect(entry("AC_DC/High Voltage Hum/01 - Live Wire.mp3").tags?.artist).toBe("AC/DC");
    expect(entry("AC_DC/High Voltage Hum/02 - etc passwd.mp3").tags?.title).toBe("../../etc/passwd");
  });

  it("creates each bad case with the file type its error class needs", async () => {
    const bad = manifest.files.filter((f) => f.kind === "bad");
    expect(bad.map((f) => `${f.errorClass} ${f.path}`).sort()).toEqual(
      [
        "CORRUPT bad/not-audio.ogg",
        "CORRUPT bad/random.m4a",
        "CORRUPT bad/random.mp3",
        "CORRUPT bad/truncated.flac",
        "EMPTY bad/empty.flac",
        "EMPTY bad/empty.mp3",
        "NOT_REGULAR bad/x.mp3",
        "SYMLINK bad/dangling.flac",
        "SYMLINK bad/loop/up",
        "UNREADABLE bad/unreadable.flac",
        ...(bad.some((f) => f.path === "bad/dev.mp3") ? ["NOT_REGULAR bad/dev.mp3"] : []),
      ].sort(),
    );
    for (const f of bad) {
      const st = await lstat(join(root, f.path));
      const type = st.isSymbolicLink() ? "symlink" : st.isFIFO() ? "fifo" : st.isCharacterDevice() ? "char-device" : "file";
      expect(type, f.path).toBe(f.fileType);
      if (f.errorClass === "EMPTY") expect(st.size).toBe(0);
      if (f.linkTarget !== undefined) expect(await readlink(join(root, f.path))).toBe(f.linkTarget);
    }
    expect((await lstat(join(root, "bad/truncated.flac"))).size).toBe(100);
    expect((await lstat(join(root, "bad/unreadable.flac"))).mode & 0o777).toBe(0);
    expect(entry("bad/unreadable.flac").unreadableUnlessRoot).toBe(true);
    await expect(stat(join(root, "bad/dangling.flac"))).rejects.toMatchObject({ code: "ENOENT" });
    expect((await stat(join(root, "bad/loop/up/loop/up/loop"))).isDirectory()).toBe(true);
  });

  it("names one valid FLAC with non-UTF-8 bytes, reachable through pathHex", async () => {
    const f = good().find((g) => g.pathHex !== undefined);
    expect(f?.pathHex).toBe(Buffer.from("bad/bad\xff\xfe.flac", "latin1").toString("hex"));
    const names = await readdir(Buffer.from(join(root, "bad")), { encoding: "buffer" });
    expect(names.some((n) => n.equals(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x2e, 0x66, 0x6c, 0x61, 0x63])))).toBe(true);
    expect(f?.format).toBe("FLAC");
  });

  it("pins what music-metadata's parseFile does with each bad regular file", async () => {
    const cases = manifest.files.filter((f) => f.parseFileOutcome !== undefined);
    expect(cases.length).toBe(7);
    for (const f of cases) {
      const outcome = await parseFile(join(root, f.path), { skipCovers: true }).then(
        (m) => (m.format.container === undefined ? "resolves-without-container" : "resolves-with-container"),
        () => "throws",
      );
      expect(outcome, f.path).toBe(f.parseFileOutcome);
    }
    // Resolving is not success: the random bytes come back as a different format than the extension says.
    expect((await parseFile(join(root, "bad/random.mp3"))).format.container).toBe("ADTS/MPEG-2");
    expect((await parseFile(join(root, "bad/truncated.flac"))).common.title).toBeUndefined();
  });

  it("groups albums by album artist (else artist) and album", () => {
    const albums = Object.fromEntries(manifest.albums.map((a) => [`${a.artist} / ${a.album}`, a.paths.length]));
    expect(albums).toEqual({
      "Aurora Lane / Northern Lights": 12,
      "Aurora Lane / Daybreak (Deluxe Edition)": 2,
      "Aurora Lane / Live at the Harbour": 2,
      "The Glass Orchard / Seasons": 4,
      "Various Artists / Summer Sampler 2021": 3,
      "Sigur Rós / Ljósið": 2,
      "山田花子 / 夜明けの歌": 2,
      "AC/DC / High Voltage Hum": 2,
      "Marta Kowalski / Paper Boats": 2,
      "Old Tapes / Cassette Sessions": 2,
      "Field Recordings / Room Tone": 2,
      "Bad Inputs / Hostile Tags": 4,
    });
    const sampler = manifest.files.filter((f) => f.tags?.album === "Summer Sampler 2021");
    expect(sampler.map((f) => [f.tags?.artist, f.tags?.compilation])).toEqual([
      ["Beyoncé", true],
      ["DJ Mono feat. Kira Vale", true],
      ["Marta Kowalski", true],
    ]);
    const seasons = manifest.files.filter((f) => f.tags?.album === "Seasons").map((f) => [f.tags?.disc, f.tags?.discTotal, f.tags?.track]);
    expect(seasons).toEqual([
      [1, 2, 1],
      [1, 2, 2],
      [2, 2, 1],
      [2, 2, 2],
    ]);
  });

  it("is byte-identical, mtimes included, when generated again through the cache", async () => {
    const cache = join(tmp, "cache");
    const cached = await ensureFixtureLibrary(cache);
    expect(cached.manifest).toEqual(manifest);
    expect(await fingerprint(cached.root)).toEqual(await fingerprint(root));
  });
});

describe("ensureFixtureLibrary", () => {
  it("reuses a stamped cache and regenerates an unstamped leftover", async () => {
    const cache = join(tmp, "cache-reuse");
    const first = await ensureFixtureLibrary(cache);
    await writeFile(join(first.root, "marker.txt"), "kept");
    const second = await ensureFixtureLibrary(cache);
    expect(await readFile(join(second.root, "marker.txt"), "utf8")).toBe("kept");

    await rm(join(cache, "manifest.json"));
    const third = await ensureFixtureLibrary(cache);
    await expect(stat(join(third.root, "marker.txt"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(third.manifest.files.length).toBe(manifest.files.length);
  });

  it("lets concurrent callers share one library", async () => {
    const cache = join(tmp, "cache-race");
    const [a, b] = await Promise.all([ensureFixtureLibrary(cache), ensureFixtureLibrary(cache)]);
    expect(a.root).toBe(b.root);
    expect((await readdir(tmp)).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });
});

describe("copyFixtureLibrary", () => {
  it("copies symlinks, FIFOs, modes, mtimes and non-UTF-8 names verbatim", async () => {
    const dest = join(tmp, "copy");
    await copyFixtureLibrary(root, dest);
    expect(await fingerprint(dest)).toEqual(await fingerprint(root));
    expect((await lstat(join(dest, "bad/x.mp3"))).isFIFO()).toBe(true);
    expect((await lstat(join(dest, "bad/loop/up"))).isSymbolicLink()).toBe(true);
  });
});

describe("generateAlbumTemplates", () => {
  it("writes one tagged file per format that music-metadata reads", async () => {
    const dir = join(tmp, "templates");
    const templates = await generateAlbumTemplates(dir);
    expect(templates.map((t) => t.path.slice(dir.length + 1))).toEqual([
      "template.flac",
      "template.mp3",
      "template.ogg",
      "template.opus",
      "template.m4a",
      "template.wav",
      "template.aiff",
    ]);
    for (const t of templates) {
      const m = await parseFile(t.path);
      expect([m.format.container, m.format.codec, m.common.title, m.common.album], t.path).toEqual([
        t.format,
        t.codec,
        "Template",
        "Bench Album",
      ]);
    }
  });
});

describe("readTagsIndependently", () => {
  it("reports type null for a file mutagen cannot identify", async () => {
    const t = await readTagsIndependently(join(root, "bad/not-audio.ogg"));
    expect(t).toMatchObject({ type: null, raw: {}, pictureCount: 0 });
  });

  it("reads multi-value genres and ID3v1-only tags", async () => {
    const v24 = await readTagsIndependently(join(root, "Aurora Lane/Daybreak (Deluxe Edition)/01 - First Light.mp3"));
    expect([v24.id3Version, v24.common.genre]).toEqual(["2.4", ["Electronic", "Synthpop"]]);
    const v1 = await readTagsIndependently(join(root, "Old Tapes/Cassette Sessions/01 - Side A.mp3"));
    expect([v1.id3Version, v1.common.title, v1.common.genre, v1.common.date]).toEqual(["1.1", ["Side A"], ["Rock"], ["1987"]]);
  });
});

describe("runTool", () => {
  it("returns exit code, stdout and stderr without throwing on failure", async () => {
    const r = await runTool("sh", ["-c", "echo out; echo err >&2; exit 3"]);
    expect(r).toEqual({ code: 3, signal: null, stdout: "out\n", stderr: "err\n" });
  });

  it("returns stdout as a Buffer when asked and feeds stdin", async () => {
    const r = await runTool("cat", [], { stdout: "buffer", input: Buffer.from([0, 255, 1]) });
    expect(r.stdout).toEqual(Buffer.from([0, 255, 1]));
  });

  it("kills a tool that runs past its timeout and reports IO_ERROR", async () => {
    const err = await runTool("sleep", ["10"], { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(isMusicfsError(err, "IO_ERROR")).toBe(true);
    expect((err as Error).message).toContain("timed out after 100 ms");
  });

  it("reports IO_ERROR when the tool does not exist", async () => {
    const err = await runTool("/nonexistent/tool", []).catch((e: unknown) => e);
    expect(isMusicfsError(err, "IO_ERROR")).toBe(true);
  });
});
