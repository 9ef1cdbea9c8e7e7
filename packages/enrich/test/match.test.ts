import { describe, expect, it } from "vitest";
import { chooseMatch, primaryArtist, type SearchResultAlbum, stripEditionSuffix, titleKey, verifyResult } from "../src/match.js";

const result = (
  id: string,
  title: string,
  artists: string | { name: string; joinPhrase: string }[],
  extra: Partial<SearchResultAlbum> = {},
) => ({
  id,
  title,
  artists: typeof artists === "string" ? [{ name: artists, joinPhrase: "" }] : artists,
  albumType: "album",
  score: 90,
  ...extra,
});

describe("title normalisation", () => {
  it("removes edition suffixes in parentheses, brackets and after a dash", () => {
    expect(stripEditionSuffix("Abbey Road (Super Deluxe Edition) [2019 Remaster]")).toBe("Abbey Road");
    expect(stripEditionSuffix("Rumours (2011 Remaster)")).toBe("Rumours");
    expect(stripEditionSuffix("OK Computer - 20th Anniversary Edition")).toBe("OK Computer");
    expect(stripEditionSuffix("Led Zeppelin IV [Remastered]")).toBe("Led Zeppelin IV");
  });

  it("keeps parentheses that are part of the title", () => {
    expect(stripEditionSuffix("(What's the Story) Morning Glory?")).toBe("(What's the Story) Morning Glory?");
    expect(stripEditionSuffix("Alive! (Live)")).toBe("Alive! (Live)");
  });

  it("folds case, diacritics, punctuation and a leading The", () => {
    expect(titleKey("The Wall")).toBe(titleKey("wall"));
    expect(titleKey("Ágætis Byrjun")).toBe(titleKey("agaetis byrjun"));
    expect(titleKey("Sgt. Pepper's Lonely Hearts Club Band")).toBe(titleKey("Sgt Peppers Lonely Hearts Club Band"));
  });

  it("takes the main artist of a featuring credit", () => {
    expect(primaryArtist("Mark Ronson feat. Bruno Mars")).toBe("Mark Ronson");
    expect(primaryArtist("Daft Punk (ft. Pharrell Williams)")).toBe("Daft Punk");
    expect(primaryArtist("Simon & Garfunkel")).toBe("Simon & Garfunkel");
  });
});

describe("verification", () => {
  it("rejects a best guess with the right title by the wrong artist, keeping it as a near miss", () => {
    const choice = chooseMatch({ artist: "Nobody Band", album: "The Wall" }, [result("rg-wall", "The Wall", "Pink Floyd", { score: 99 })]);
    expect(choice.match).toBeUndefined();
    expect(choice.candidates).toHaveLength(1);
    expect(choice.candidates[0]?.reason).toContain("artist differs");
    expect(choice.candidates[0]?.score).toBe(99);
  });

  it("picks the verified result even when a wrong one scores higher", () => {
    const choice = chooseMatch({ artist: "Pink Floyd", album: "The Wall" }, [
      result("rg-cover", "The Wall", "The Wall Tribute Band", { score: 95 }),
      result("rg-wall", "The Wall", "Pink Floyd", { score: 80 }),
    ]);
    expect(choice.match?.result.id).toBe("rg-wall");
  });

  it("matches despite edition suffixes, diacritics and a leading The", () => {
    expect(
      verifyResult({ artist: "Beatles", album: "Abbey Road (Super Deluxe Edition)" }, result("x", "Abbey Road", "The Beatles")).verified,
    ).toBe(true);
    expect(verifyResult({ artist: "Sigur Ros", album: "Agaetis Byrjun" }, result("x", "Ágætis byrjun", "Sigur Rós")).verified).toBe(true);
  });

  it("prefers an exact title over an edition-stripped one", () => {
    const choice = chooseMatch({ artist: "Pink Floyd", album: "The Wall" }, [
      result("deluxe", "The Wall (Deluxe Edition)", "Pink Floyd", { score: 95 }),
      result("plain", "The Wall", "Pink Floyd", { score: 90 }),
    ]);
    expect(choice.match?.result.id).toBe("plain");
  });

  it("matches an 'A feat. B' file artist against A, and any member of a joint credit", () => {
    expect(
      verifyResult({ artist: "Mark Ronson feat. Bruno Mars", album: "Uptown Special" }, result("x", "Uptown Special", "Mark Ronson"))
        .verified,
    ).toBe(true);
    const joint = [
      { name: "JAY-Z", joinPhrase: " & " },
      { name: "Kanye West", joinPhrase: "" },
    ];
    expect(verifyResult({ artist: "Jay-Z & Kanye West", album: "Watch the Throne" }, result("x", "Watch the Throne", joint)).verified).toBe(
      true,
    );
  });

  it("matches Various Artists compilations on the title and the compilation type", () => {
    const comp = result("c", "Now That's What I Call Music!", "Various Artists", { albumType: "compilation" });
    expect(verifyResult({ artist: "Various Artists", album: "Now That's What I Call Music", compilation: true }, comp).verified).toBe(true);
    const notComp = result("n", "Now That's What I Call Music!", "Some Band", { albumType: "album" });
    const verdict = verifyResult({ artist: "Various Artists", album: "Now That's What I Call Music", compilation: true }, notComp);
    expect(verdict).toMatchObject({ verified: false, close: true });
  });

  it("lets a MusicBrainz release-group id of the files win outright", () => {
    const choice = chooseMatch({ artist: "Pink Floyd", album: "The Wall", mbReleaseGroupId: "RG-LIVE" }, [
      result("rg-wall", "The Wall", "Pink Floyd", { score: 100 }),
      result("rg-live", "Is There Anybody Out There? The Wall Live", "Pink Floyd", { score: 40 }),
    ]);
    expect(choice.match?.result.id).toBe("rg-live");
    expect(choice.match?.reason).toContain("release-group id");
  });

  it("ignores results that share neither title nor artist", () => {
    const choice = chooseMatch({ artist: "Pink Floyd", album: "The Wall" }, [result("x", "Thriller", "Michael Jackson")]);
    expect(choice).toEqual({ match: undefined, candidates: [] });
  });
});
