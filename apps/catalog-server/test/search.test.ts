import { fileURLToPath } from "node:url";
import { type CatalogServer, catalogFromInits, DEFAULT_LIMIT, searchCatalog, startCatalogServer } from "@musicfs/catalog-server";
import { type AgregatorTransport, Code, ConnectError, createAgregatorClient, createAgregatorTransport } from "@musicfs/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const catalogFile = fileURLToPath(new URL("./fixtures/catalog.json", import.meta.url));

describe("catalog-server SearchAlbums", () => {
  let server: CatalogServer;
  let transport: AgregatorTransport;
  let client: ReturnType<typeof createAgregatorClient>;

  beforeAll(async () => {
    server = await startCatalogServer({ catalogFile, port: 0 });
    transport = createAgregatorTransport({ endpoint: server.url, timeoutMs: 5000 });
    client = createAgregatorClient(transport);
  });
  afterAll(async () => {
    transport?.close();
    await server?.close();
  });

  const search = async (query: string, artist: string, limit = 0) => (await client.searchAlbums({ query, artist, limit })).albums;

  it("ranks the exact album first with score 100 and returns every catalog field", async () => {
    const albums = await search("Fragile", "Yes");
    expect(albums[0]?.id).toBe("rg-yes-fragile");
    expect(albums[0]?.score).toBe(100);
    expect(albums[0]).toMatchObject({
      title: "Fragile",
      label: "Atlantic",
      releaseDate: "1971-11-26",
      albumType: "album",
      coverUrl: "https://covers.example.invalid/rg-yes-fragile.jpg",
      totalTracks: 9,
      totalDiscs: 1,
    });
    expect(albums[0]?.genres.map((g) => g.name)).toEqual(["progressive rock", "art rock"]);
    expect(albums[0]?.artists.map((a) => [a.id, a.name])).toEqual([["ar-yes", "Yes"]]);
  });

  it("orders results by score, highest first", async () => {
    const scores = (await search("Fragile", "Yes", 10)).map((a) => a.score);
    expect(scores.length).toBeGreaterThan(2);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it("also returns a same-titled album by another artist, scored lower", async () => {
    const albums = await search("Fragile", "Yes", 10);
    const nin = albums.find((a) => a.id === "rg-nin-fragile");
    expect(nin).toBeDefined();
    expect(nin?.score).toBeGreaterThan(0);
    expect(nin?.score).toBeLessThan(100);
  });

  it("answers an album missing from the catalog with a wrong best guess by the same artist", async () => {
    const albums = await search("Going for the One", "Yes");
    expect(albums.length).toBeGreaterThan(0);
    expect(albums[0]?.artists[0]?.name).toBe("Yes");
    expect(albums[0]?.title).not.toBe("Going for the One");
    expect(albums[0]?.score).toBeGreaterThan(0);
    expect(albums[0]?.score).toBeLessThan(100);
  });

  it("answers an artist's album with the same-titled album of another artist ranked first when that artist is asked", async () => {
    const albums = await search("Fragile", "Nine Inch Nails");
    expect(albums.map((a) => a.id).slice(0, 2)).toEqual(["rg-nin-fragile", "rg-yes-fragile"]);
    expect(albums[1]?.score).toBeGreaterThan(0);
  });

  it("returns nothing when no album comes close", async () => {
    expect(await search("Zzzyx Qwv", "Nobody")).toEqual([]);
  });

  it("matches regardless of case, accents and punctuation", async () => {
    const albums = await search("post", "bjork");
    expect(albums[0]?.id).toBe("rg-bjork-post");
    expect(albums[0]?.score).toBe(100);
  });

  it("matches one artist of a joint credit", async () => {
    const albums = await search("Lulu", "Metallica");
    expect(albums[0]?.id).toBe("rg-lulu");
    expect(albums[0]?.score).toBe(100);
  });

  it("scores on the title alone when the artist is empty", async () => {
    const albums = await search("Fragile", "");
    expect(albums.map((a) => a.id)).toEqual(["rg-yes-fragile", "rg-nin-fragile"]);
  });

  it("returns at most limit results", async () => {
    expect(await search("Fragile", "Yes", 2)).toHaveLength(2);
    expect(await search("Fragile", "Yes", 1)).toHaveLength(1);
  });

  it("returns the server default of 5 results when limit is 0", async () => {
    // Six Yes albums plus The Fragile all score above the threshold for this query.
    expect(await search("Fragile", "Yes", 10)).toHaveLength(7);
    expect(await search("Fragile", "Yes", 0)).toHaveLength(DEFAULT_LIMIT);
  });

  it("rejects a negative limit with INVALID_ARGUMENT", async () => {
    const err = await client.searchAlbums({ query: "Fragile", artist: "Yes", limit: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("serves a catalog replaced at run time", async () => {
    const local = await startCatalogServer({ albums: [{ id: "a", title: "Aja", artists: [{ name: "Steely Dan" }] }] });
    const t = createAgregatorTransport({ endpoint: local.url, timeoutMs: 5000 });
    try {
      const c = createAgregatorClient(t);
      expect((await c.searchAlbums({ query: "Aja", artist: "Steely Dan" })).albums.map((a) => a.id)).toEqual(["a"]);
      local.setAlbums([{ id: "b", title: "Gaucho", artists: [{ name: "Steely Dan" }] }]);
      const after = await c.searchAlbums({ query: "Aja", artist: "Steely Dan" });
      expect(after.albums.map((a) => [a.id, a.score])).toEqual([["b", 40]]);
    } finally {
      t.close();
      await local.close();
    }
  });
});

describe("searchCatalog on a large catalog", () => {
  // 2,000 albums where "album", "artist" and the colour words are in hundreds of albums: stop words to the index.
  const colours = ["Blue", "Red", "Green", "Gold"];
  const catalog = catalogFromInits(
    Array.from({ length: 2000 }, (_, i) => ({
      id: `rg-${i}`,
      title: `Album ${i} ${colours[i % 4]}`,
      artists: [{ name: `Artist ${i % 250}` }],
    })),
  );

  it("finds the exact album through its rare words, ranked like a full scan", () => {
    const found = searchCatalog(catalog, "Album 1234 Green", "Artist 234", 5);
    expect(found[0]).toMatchObject({ album: { id: "rg-1234" }, score: 100 });
    // The other results are the artist's other albums, as a scan of the whole catalog ranks them.
    expect(found.slice(1).every((r) => r.album.artists[0]?.name === "Artist 234")).toBe(true);
  });

  it("widens to every album sharing a common word when the rare words find too few", () => {
    const found = searchCatalog(catalog, "Album Blue", "", 5);
    expect(found).toHaveLength(5);
    expect(found.every((r) => r.album.title.endsWith("Blue"))).toBe(true);
  });

  it("still answers a misspelt query with fuzzy guesses from the whole catalog", () => {
    const found = searchCatalog(catalog, "Albmu 1234 Gren", "Artsit 234", 5);
    expect(found.map((r) => r.album.id)).toContain("rg-1234");
  });
});
