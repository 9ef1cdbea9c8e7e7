import { mkdtemp, rename, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock, isMusicfsError } from "@musicfs/core";
import { type Library, openLibrary } from "@musicfs/db";
import { scanLibrary } from "@musicfs/scan";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeLibrary, makeTemplates, run } from "./helpers.js";

let work: string;
let templates: Awaited<ReturnType<typeof makeTemplates>>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "musicfs-scan-"));
  templates = await makeTemplates(join(work, "templates"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("scanLibrary", () => {
  let root: string;
  let lib: Library;
  let n = 0;

  beforeEach(async () => {
    root = join(work, `lib-${++n}`);
    await makeLibrary(root, templates, 3, 4);
    lib = openLibrary(join(work, `db-${n}.db`));
  });
  afterEach(() => lib.close());

  const fileIds = () =>
    new Map(
      (lib.sqlite.prepare("SELECT path_text, file_id FROM files").all() as { path_text: string; file_id: number }[]).map((r) => [
        r.path_text,
        r.file_id,
      ]),
    );

  it("adds every file with its tags and stream properties on a first scan", async () => {
    const s = await scanLibrary({ lib }, { roots: [root], threads: 0 });
    expect(lib.sqlite.prepare("SELECT path_text, code, message FROM scan_errors").all()).toEqual([]);
    expect(s).toMatchObject({ seen: 12, added: 12, updated: 0, unchanged: 0, errors: 0, interrupted: false });
    const row = lib.sqlite
      .prepare(
        "SELECT f.format, f.codec, f.sample_rate, f.channels, f.duration, m.title, m.artist, m.album, m.genre, m.genres_json, m.album_key, m.enrichment_source FROM files f JOIN file_metadata m USING (file_id) WHERE f.path_text LIKE '%Album 0/01 Track.flac'",
      )
      .get() as Record<string, unknown>;
    expect(row).toMatchObject({
      format: "flac",
      codec: "FLAC",
      sample_rate: 22050,
      channels: 1,
      title: "Flac Song",
      artist: "Test Artist",
      album: "Test Album",
      genre: "Rock",
      genres_json: '["Rock"]',
      album_key: "test artist\u001ftest album",
      enrichment_source: "embedded",
    });
    expect(row.duration as number).toBeCloseTo(0.5, 1);
    const formats = lib.sqlite.prepare("SELECT format, count(*) AS n FROM files GROUP BY 1 ORDER BY 1").all();
    expect(formats).toEqual([
      { format: "flac", n: 3 },
      { format: "mp3", n: 3 },
      { format: "mp4", n: 3 },
      { format: "ogg", n: 3 },
    ]);
    expect(lib.sqlite.prepare("SELECT album_key, artist, album FROM albums").all()).toEqual([
      { album_key: "test artist\u001ftest album", artist: "Test Artist", album: "Test Album" },
    ]);
  });

  it("only stats an unchanged library on a re-scan", async () => {
    await scanLibrary({ lib }, { roots: [root], threads: 0 });
    const parsedAt = lib.sqlite.prepare("SELECT sum(parsed_at) AS t FROM files").get();
    const s = await scanLibrary({ lib, clock: new FakeClock(Date.now() + 60_000) }, { roots: [root], threads: 0 });
    expect(s).toMatchObject({ seen: 12, added: 0, updated: 0, unchanged: 12, removed: 0, bytesRead: 0 });
    expect(lib.sqlite.prepare("SELECT sum(parsed_at) AS t FROM files").get()).toEqual(parsedAt);
  });

  it("re-parses a touched file once, keeping its file_id", async () => {
    await scanLibrary({ lib }, { roots: [root], threads: 0 });
    const before = fileIds();
    const target = join(root, "Artist 0", "Album 0", "01 Track.flac");
    await run("metaflac", ["--remove-tag=TITLE", "--set-tag=TITLE=Retitled", target]);
    const s = await scanLibrary({ lib }, { roots: [root], threads: 0 });
    expect(s).toMatchObject({ updated: 1, unchanged: 11, added: 0 });
    expect(fileIds()).toEqual(before);
    const m = lib.sqlite.prepare("SELECT title, metadata_version FROM file_metadata WHERE file_id = ?").get(before.get(target)) as Record<
      string,
      unknown
    >;
    expect(m).toEqual({ title: "Retitled", metadata_version: 2 });
  });

  it("removes a deleted file and its metadata", async () => {
    await scanLibrary({ lib }, { roots: [root], threads: 0 });
    const target = join(root, "Artist 1", "Album 1", "02 Track.ogg");
    const id = fileIds().get(target)!;
    await unlink(target);
    const s = await scanLibrary({ lib }, { roots: [root], threads: 0 });
    expect(s).toMatchObject({ removed: 1, unchanged: 11 });
    expect(fileIds().has(target)).toBe(false);
    expect(lib.sqlite.prepare("SELECT count(*) AS n FROM file_metadata WHERE file_id = ?").get(id)).toEqual({ n: 0 });
  });

  it("keeps the file_id of a renamed or moved file without re-parsing it", async () => {
    await scanLibrary({ lib }, { roots: [root], threads: 0 });
    const from = join(root, "Artist 0", "Album 0", "03 Track.ogg");
    const to = join(root, "Artist 2", "Album 2", "Moved Here.ogg");
    const id = fileIds().get(from)!;
    await rename(from, to);
    const s = await scanLibrary({ lib }, { roots: [root], threads: 0 });
    expect(s).toMatchObject({ moved: 1, added: 0, removed: 0, updated: 0 });
    expect(fileIds().get(to)).toBe(id);
    expect(fileIds().has(from)).toBe(false);
  });

  it("resets a provider enrichment when the album changes, and keeps an orchestrator's", async () => {
    await scanLibrary({ lib }, { roots: [root], threads: 0 });
    const provider = join(root, "Artist 0", "Album 0", "01 Track.flac");
    const orchestrated = join(root, "Artist 1", "Album 1", "04 Track.flac");
    const ids = fileIds();
    const enrich = lib.sqlite.prepare(
      "UPDATE file_metadata SET enrichment_source = ?, enriched_at = 1, label = 'Harvest', genres_json = '[\"Art Rock\"]', genre = 'Art Rock', enrichment_attempts = 2, overrides_json = ? WHERE file_id = ?",
    );
    enrich.run("provider", null, ids.get(provider));
    enrich.run("orchestrator", JSON.stringify(["genres", "label"]), ids.get(orchestrated));
    for (const f of [provider, orchestrated]) await run("metaflac", ["--remove-tag=ALBUM", "--set-tag=ALBUM=Another Album", f]);
    await scanLibrary({ lib }, { roots: [root], threads: 0 });
    const get = lib.sqlite.prepare(
      "SELECT album, album_key, enrichment_source, enriched_at, enrichment_attempts, label, genre, genres_json FROM file_metadata WHERE file_id = ?",
    );
    expect(get.get(ids.get(provider))).toEqual({
      album: "Another Album",
      album_key: "test artist\u001fanother album",
      enrichment_source: "embedded",
      enriched_at: null,
      enrichment_attempts: 0,
      label: null,
      genre: "Rock",
      genres_json: '["Rock"]',
    });
    expect(get.get(ids.get(orchestrated))).toMatchObject({
      album: "Another Album",
      enrichment_source: "orchestrator",
      label: "Harvest",
      genre: "Art Rock",
      genres_json: '["Art Rock"]',
    });
  });

  it("keeps a provider enrichment when a re-parse leaves the album alone", async () => {
    await scanLibrary({ lib }, { roots: [root], threads: 0 });
    const target = join(root, "Artist 0", "Album 0", "01 Track.flac");
    const id = fileIds().get(target)!;
    lib.sqlite
      .prepare(
        "UPDATE file_metadata SET enrichment_source = 'provider', enriched_at = 5, label = 'Harvest', genres_json = '[\"Art Rock\"]', genre = 'Art Rock' WHERE file_id = ?",
      )
      .run(id);
    await run("metaflac", ["--remove-tag=TITLE", "--set-tag=TITLE=New Title", target]);
    await scanLibrary({ lib }, { roots: [root], threads: 0 });
    expect(
      lib.sqlite.prepare("SELECT title, enrichment_source, enriched_at, label, genre FROM file_metadata WHERE file_id = ?").get(id),
    ).toEqual({
      title: "New Title",
      enrichment_source: "provider",
      enriched_at: 5,
      label: "Harvest",
      genre: "Art Rock",
    });
  });

  it("records bad files with a reason and goes on", async () => {
    const bad = join(root, "bad");
    await run("mkdir", ["-p", bad]);
    await writeFile(join(bad, "empty.mp3"), "");
    await writeFile(join(bad, "text.ogg"), "this is not audio at all, just text in a file named .ogg\n");
    const flac = await import("node:fs/promises").then((fs) => fs.readFile(templates.flac));
    await writeFile(join(bad, "truncated.flac"), flac.subarray(0, 100));
    await run("mkfifo", [join(bad, "pipe.mp3")]);
    await writeFile(join(bad, Buffer.concat([Buffer.from("bad-"), Buffer.from([0xff, 0xfe])]).toString("latin1") + "x.txt"), "ignored");
    const nonUtf8 = Buffer.concat([Buffer.from(`${bad}/name-`), Buffer.from([0xff, 0xfe]), Buffer.from(".flac")]);
    await writeFile(nonUtf8, flac);
    const s = await scanLibrary({ lib }, { roots: [root], threads: 0 });
    expect(s).toMatchObject({ added: 13, errors: 4 });
    const errors = lib.sqlite.prepare("SELECT path_text, code FROM scan_errors WHERE severity = 'error' ORDER BY code").all() as {
      path_text: string;
      code: string;
    }[];
    expect(errors.map((e) => [e.path_text.split("/").pop(), e.code])).toEqual([
      ["empty.mp3", "EMPTY_FILE"],
      ["pipe.mp3", "NOT_REGULAR_FILE"],
      ["truncated.flac", "TRUNCATED"],
      ["text.ogg", "UNSUPPORTED_FORMAT"],
    ]);
    const stored = lib.sqlite.prepare("SELECT path FROM files WHERE path = ?").get(nonUtf8) as { path: Buffer } | undefined;
    expect(stored?.path.equals(nonUtf8)).toBe(true);
  });

  it("reports without writing in a dry run", async () => {
    await scanLibrary({ lib }, { roots: [root], threads: 0 });
    await unlink(join(root, "Artist 0", "Album 0", "01 Track.flac"));
    const touched = join(root, "Artist 1", "Album 1", "01 Track.mp3");
    await utimes(touched, new Date(), new Date(Date.now() + 5000));
    const s = await scanLibrary({ lib }, { roots: [root], dryRun: true });
    expect(s).toMatchObject({ dryRun: true, removed: 1, updated: 1, unchanged: 10, scanId: null });
    expect(s.examples?.updated).toEqual([touched]);
    expect(lib.sqlite.prepare("SELECT count(*) AS n FROM files").get()).toEqual({ n: 12 });
  });

  it("refuses to run beside another live scan of the same library", async () => {
    lib.sqlite.prepare("INSERT INTO scans (started_at, roots_json, status, pid) VALUES (1, '[]', 'running', ?)").run(process.ppid);
    const err = await scanLibrary({ lib }, { roots: [root] }).catch((e: unknown) => e);
    expect(isMusicfsError(err, "ALREADY_RUNNING")).toBe(true);
  });

  it("closes the record of a scan that died and proceeds", async () => {
    lib.sqlite.prepare("INSERT INTO scans (started_at, roots_json, status, pid) VALUES (1, '[]', 'running', 999999)").run();
    const s = await scanLibrary({ lib }, { roots: [root], threads: 0 });
    expect(s.added).toBe(12);
    expect(lib.sqlite.prepare("SELECT status FROM scans ORDER BY scan_id").all()).toEqual([
      { status: "interrupted" },
      { status: "completed" },
    ]);
  });

  it("parses on worker threads with the same results as on the main thread", async () => {
    const threaded = openLibrary(join(work, `db-${n}-threads.db`));
    try {
      await scanLibrary({ lib }, { roots: [root], threads: 0 });
      await scanLibrary({ lib: threaded }, { roots: [root], threads: 2 });
      expect(threaded.sqlite.prepare("SELECT code, message FROM scan_errors").all()).toEqual([]);
      const q =
        "SELECT f.path_text, f.format, f.duration, m.title, m.genres_json FROM files f JOIN file_metadata m USING (file_id) ORDER BY 1";
      expect(threaded.sqlite.prepare(q).all()).toEqual(lib.sqlite.prepare(q).all());
    } finally {
      threaded.close();
    }
  });
});
