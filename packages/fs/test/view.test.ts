import { FakeClock, silentLogger } from "@musicfs/core";
import { openLibrary } from "@musicfs/db";
import { describe, expect, it } from "vitest";
import { type LazyEnrichRequest, LibraryView } from "../src/index.js";
import { insertTrack, useTempLibrary } from "./fixtures.js";

const temp = useTempLibrary("musicfs-view-");

function album(n: number, over: { artist?: string; album?: string; enrichmentAttempts?: number; enrichmentSource?: "provider" } = {}) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      insertTrack(temp.lib, {
        path: `/music/${over.album ?? "Wall"}/${String(i + 1).padStart(2, "0")}.flac`,
        root: "/music",
        title: `Track ${i + 1}`,
        artist: over.artist ?? "Pink Floyd",
        album: over.album ?? "The Wall",
        track: i + 1,
        year: 1979,
        enrichmentAttempts: over.enrichmentAttempts,
        enrichmentSource: over.enrichmentSource,
        size: 100,
        mtimeUs: 0,
      }),
    ),
  );
}

async function makeView(opts: { enabled?: boolean; accept?: boolean } = {}) {
  const pushed: LazyEnrichRequest[] = [];
  const clock = new FakeClock();
  const enricher = {
    accept: opts.accept ?? true,
    tryPush(r: LazyEnrichRequest) {
      pushed.push(r);
      return this.accept;
    },
  };
  const view = new LibraryView(temp.lib, {
    pathTemplate: "{albumartist}/{year} - {album}/{disc-track} {title}.{ext}",
    headerCacheEntries: 8,
    retryMax: 3,
    clock,
    log: silentLogger(),
    enricher: opts.enabled === false ? undefined : enricher,
  });
  await view.load();
  return { view, pushed, enricher, clock };
}

describe("lazy enrichment from the FUSE layer (design §4.3.6)", () => {
  it("makes one request when a 12-track album is listed and every track stat'ed", async () => {
    await album(12);
    const { view, pushed } = await makeView();
    const names = view.readdir("/Artists/Pink Floyd/1979 - The Wall").filter((n) => !n.startsWith("."));
    expect(names).toHaveLength(12);
    for (const name of names) await view.getattr(`/Artists/Pink Floyd/1979 - The Wall/${name}`);
    expect(pushed).toHaveLength(1);
    expect(pushed[0]).toMatchObject({ artist: "Pink Floyd", album: "The Wall" });
  });

  it("asks nothing for enriched files, files without artist or album, or after retry_max failures", async () => {
    await album(2, { album: "Enriched", enrichmentSource: "provider" });
    await album(2, { album: "Failing", enrichmentAttempts: 3 });
    await insertTrack(temp.lib, { path: "/music/loose.flac", root: "/music", title: "Loose", artist: "Someone", size: 1, mtimeUs: 0 });
    const { view, pushed } = await makeView();
    for (const path of [
      "/Artists/Pink Floyd/1979 - Enriched",
      "/Artists/Pink Floyd/1979 - Failing",
      "/Artists/Someone/0000 - Unknown Album",
    ]) {
      for (const name of view.readdir(path).filter((n) => !n.startsWith("."))) await view.getattr(`${path}/${name}`);
    }
    expect(pushed).toHaveLength(0);
  });

  it("has no queue at all when the provider is disabled, and the tree is the same", async () => {
    await album(3);
    const enabled = await makeView();
    const disabled = await makeView({ enabled: false });
    const path = "/Artists/Pink Floyd/1979 - The Wall";
    expect(disabled.view.readdir(path)).toEqual(enabled.view.readdir(path));
    expect(disabled.view.stats().enrichmentRequests).toBe(0);
    expect(disabled.pushed).toHaveLength(0);
  });

  it("asks again on the next access when the queue was full", async () => {
    await album(2);
    const { view, pushed, enricher } = await makeView({ accept: false });
    const path = "/Artists/Pink Floyd/1979 - The Wall/01 Track 1.flac";
    await view.getattr(path);
    enricher.accept = true;
    await view.getattr(path);
    await view.getattr(path);
    expect(pushed).toHaveLength(2);
    expect(view.stats()).toMatchObject({ enrichmentDrops: 1, enrichmentRequests: 1 });
  });

  it("asks again after a failed attempt is recorded, once its backoff has passed", async () => {
    const [first] = await album(1);
    const { view, pushed, clock } = await makeView();
    const path = "/Artists/Pink Floyd/1979 - The Wall/01 Track 1.flac";
    await view.getattr(path);
    temp.lib.sqlite
      .prepare("UPDATE file_metadata SET enrichment_attempts = 1, next_attempt_at = ?, updated_at = ? WHERE file_id = ?")
      .run(clock.now() + 60_000, Date.now(), first);
    view.refreshFile(first!);
    await view.getattr(path);
    expect(pushed).toHaveLength(1);
    clock.advance(60_001);
    await view.getattr(path);
    expect(pushed).toHaveLength(2);
  });
});

describe("LibraryView refresh", () => {
  it("does nothing when the database did not change", async () => {
    await album(2);
    const { view } = await makeView();
    expect(view.refresh()).toBeNull();
  });

  it("moves a file whose tags changed and drops the directories it left", async () => {
    const [id] = await album(1);
    const { view } = await makeView();
    const writer = openLibrary(temp.lib.path);
    try {
      writer.sqlite
        .prepare("UPDATE file_metadata SET album = 'Animals', metadata_version = metadata_version + 1, updated_at = ? WHERE file_id = ?")
        .run(Date.now(), id);
    } finally {
      writer.close();
    }
    expect(view.refresh()).toEqual({ changed: 1, removed: 0 });
    expect(view.pathsOf(id!)).toContain("/Artists/Pink Floyd/1979 - Animals/01 Track 1.flac");
    expect(view.tree.lookup("/Artists/Pink Floyd/1979 - The Wall")).toBeUndefined();
  });
});
