import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Encoding, encodeAlbum } from "./audio-encoder.js";
import { seededRandom, setTreeTimes, uuidFromName } from "./deterministic.js";
import { mapWithConcurrency } from "./run-tool.js";

/** An album in the fake metadata-agregator's catalog, in the proto's JSON form (camelCase). */
export interface CatalogAlbum {
  id: string;
  title: string;
  artists: { id: string; name: string; joinPhrase: string }[];
  genres: { id: string; name: string }[];
  label: string;
  releaseDate: string;
  albumType: string;
  coverUrl: string;
  totalTracks: number;
  totalDiscs: number;
}

export interface SampleAlbum {
  artist: string;
  title: string;
  year: number;
  encoding: Encoding;
  /** Album folder relative to the library root. */
  dir: string;
  /** Track files relative to the library root. */
  tracks: string[];
  /** The catalog entry a correct lookup returns; null for the albums the catalog only has decoys for. */
  catalogId: string | null;
}

export interface SampleLibrary {
  root: string;
  albums: SampleAlbum[];
  catalog: CatalogAlbum[];
}

interface AlbumSeed {
  artist: string;
  title: string;
  year: number;
  encoding: Encoding;
  tracks: number;
  genres: string[];
  label: string;
  /** The catalog has only decoys for this one, so the demo shows a miss. */
  miss?: boolean;
}

const SEEDS: AlbumSeed[] = [
  {
    artist: "Pink Floyd",
    title: "The Wall",
    year: 1979,
    encoding: "flac",
    tracks: 12,
    genres: ["Progressive Rock", "Art Rock"],
    label: "Harvest",
  },
  {
    artist: "Aurora Lane",
    title: "Northern Lights",
    year: 2019,
    encoding: "mp3-id3v2.4",
    tracks: 10,
    genres: ["Electronic", "Ambient"],
    label: "Polar Pier Records",
  },
  {
    artist: "The Glass Orchard",
    title: "Seasons",
    year: 2016,
    encoding: "ogg-vorbis",
    tracks: 8,
    genres: ["Indie Folk"],
    label: "Orchard House",
  },
  {
    artist: "Los Caminantes",
    title: "Tierra Roja",
    year: 2012,
    encoding: "opus",
    tracks: 9,
    genres: ["Latin Folk"],
    label: "Sol y Sombra",
    miss: true,
  },
  {
    artist: "Neon Harbor",
    title: "Midnight Transit",
    year: 2018,
    encoding: "m4a-aac",
    tracks: 11,
    genres: ["Synthwave", "Electronic"],
    label: "Night Shift Audio",
  },
  { artist: "Hollow Pines", title: "Ember & Ash", year: 2014, encoding: "flac", tracks: 10, genres: ["Post-Rock"], label: "Timberline" },
  {
    artist: "Velvet Static",
    title: "Signal Lost",
    year: 2020,
    encoding: "mp3-id3v2.3",
    tracks: 12,
    genres: ["Shoegaze", "Dream Pop"],
    label: "Fuzzbox",
  },
  {
    artist: "Kiyoshi Tanaka Trio",
    title: "Blue Lanterns",
    year: 2009,
    encoding: "m4a-aac",
    tracks: 9,
    genres: ["Jazz"],
    label: "Blue Room Records",
  },
  {
    artist: "Sable & Finch",
    title: "Lowland Hymns",
    year: 2017,
    encoding: "opus",
    tracks: 10,
    genres: ["Americana", "Folk"],
    label: "Prairie Lights",
  },
  { artist: "Grey Meridian", title: "Cartography", year: 2015, encoding: "flac", tracks: 11, genres: ["Math Rock"], label: "Gridline" },
  {
    artist: "Crimson Tides",
    title: "Undertow",
    year: 2010,
    encoding: "ogg-vorbis",
    tracks: 11,
    genres: ["Alternative Rock"],
    label: "Riptide",
    miss: true,
  },
  {
    artist: "Juniper Vale",
    title: "Wildflower Radio",
    year: 2022,
    encoding: "mp3-id3v2.4",
    tracks: 8,
    genres: ["Indie Pop"],
    label: "Meadowlark",
  },
  {
    artist: "The Copper Kites",
    title: "Altitude",
    year: 2011,
    encoding: "m4a-aac",
    tracks: 12,
    genres: ["Britpop", "Rock"],
    label: "Updraft",
  },
  {
    artist: "Iron Lattice",
    title: "Foundry",
    year: 2008,
    encoding: "ogg-vorbis",
    tracks: 10,
    genres: ["Industrial", "Metal"],
    label: "Anvil Works",
  },
  {
    artist: "Nadia Okafor",
    title: "Sunrise in Lagos",
    year: 2019,
    encoding: "opus",
    tracks: 9,
    genres: ["Afrobeat", "Soul"],
    label: "Lagoon Music",
  },
  { artist: "Pale Atlas", title: "Drift Maps", year: 2013, encoding: "flac", tracks: 8, genres: ["Ambient"], label: "Low Tide" },
  {
    artist: "Miles Ardent Quartet",
    title: "After Hours at the Blue Room",
    year: 2006,
    encoding: "m4a-aac",
    tracks: 10,
    genres: ["Jazz", "Bebop"],
    label: "Blue Room Records",
  },
  {
    artist: "Daft Punk",
    title: "Discovery",
    year: 2001,
    encoding: "mp3-id3v2.4",
    tracks: 12,
    genres: ["French House", "Electronic"],
    label: "Virgin",
  },
  {
    artist: "Lumen Choir",
    title: "Vespers",
    year: 2018,
    encoding: "flac",
    tracks: 9,
    genres: ["Choral", "Classical"],
    label: "Cathedral Tapes",
  },
  {
    artist: "Echo Parade",
    title: "Bright Machines",
    year: 2023,
    encoding: "mp3-id3v2.3",
    tracks: 10,
    genres: ["Synthpop"],
    label: "Neon Avenue",
  },
  { artist: "Fjord & Fable", title: "Salt Roads", year: 2016, encoding: "opus", tracks: 8, genres: ["Nordic Folk"], label: "Skerry" },
  {
    artist: "Solène Marchand",
    title: "Chansons d'hiver",
    year: 2020,
    encoding: "m4a-aac",
    tracks: 10,
    genres: ["Chanson", "Pop"],
    label: "Rive Gauche",
  },
  {
    artist: "Aurora Lane",
    title: "Daybreak",
    year: 2021,
    encoding: "flac",
    tracks: 9,
    genres: ["Electronic"],
    label: "Polar Pier Records",
  },
  {
    artist: "Marta Kowalski",
    title: "Paper Boats",
    year: 2017,
    encoding: "ogg-vorbis",
    tracks: 10,
    genres: ["Folk", "Singer-Songwriter"],
    label: "Harbour Line",
  },
];

const DECOY_ARTISTS = ["Northbound Collective", "The Understudies", "Maria Delacroix", "Static Bloom", "The Lamplighters", "Owen Hale"];
const DECOY_GENRES = ["Easy Listening", "Lounge", "Tribute", "Karaoke"];
const ADJECTIVES = [
  "Silver",
  "Quiet",
  "Broken",
  "Golden",
  "Hidden",
  "Paper",
  "Electric",
  "Distant",
  "Hollow",
  "Burning",
  "Velvet",
  "Northern",
];
const NOUNS = [
  "Harbour",
  "Letters",
  "Engines",
  "Gardens",
  "Signals",
  "Rivers",
  "Mirrors",
  "Lanterns",
  "Stations",
  "Horizons",
  "Windows",
  "Tides",
];

const EXTENSION: Partial<Record<Encoding, string>> = {
  flac: "flac",
  "mp3-id3v2.3": "mp3",
  "mp3-id3v2.4": "mp3",
  "ogg-vorbis": "ogg",
  opus: "opus",
  "m4a-aac": "m4a",
};

/** Seed `i`; past the table it repeats with " Vol. n" so benchmarks can ask for more albums. */
function seedAt(i: number): AlbumSeed {
  const base = SEEDS[i % SEEDS.length] as AlbumSeed;
  const round = Math.floor(i / SEEDS.length);
  return round === 0 ? base : { ...base, title: `${base.title} Vol. ${round + 1}` };
}

function trackTitles(albumIndex: number, count: number): string[] {
  const next = seededRandom(1000 + albumIndex);
  const titles = new Set<string>();
  while (titles.size < count) {
    titles.add(`${ADJECTIVES[Math.floor(next() * ADJECTIVES.length)]} ${NOUNS[Math.floor(next() * NOUNS.length)]}`);
  }
  return [...titles];
}

function catalogEntry(key: string, seed: Omit<AlbumSeed, "encoding" | "miss">, albumType = "album"): CatalogAlbum {
  const id = uuidFromName(`catalog-album:${key}`);
  const next = seededRandom(seed.year * 31 + seed.title.length);
  const month = String(1 + Math.floor(next() * 12)).padStart(2, "0");
  const day = String(1 + Math.floor(next() * 28)).padStart(2, "0");
  return {
    id,
    title: seed.title,
    artists: [{ id: uuidFromName(`catalog-artist:${seed.artist}`), name: seed.artist, joinPhrase: "" }],
    genres: seed.genres.map((name) => ({ id: uuidFromName(`catalog-genre:${name}`), name })),
    label: seed.label,
    releaseDate: `${seed.year}-${month}-${day}`,
    albumType,
    coverUrl: `https://covers.example/${id}.jpg`,
    totalTracks: seed.tracks,
    totalDiscs: 1,
  };
}

/**
 * The fake metadata-agregator's catalog for the first `albums` sample albums: one correct entry per album (except
 * the misses) plus decoys a sloppy matcher would take: same title by another artist, another title by the same
 * artist, "(Deluxe Edition)" variants.
 */
export function buildSampleCatalog(albums = SEEDS.length): { catalog: CatalogAlbum[]; correctIds: (string | null)[] } {
  const catalog: CatalogAlbum[] = [];
  const correctIds: (string | null)[] = [];
  for (let i = 0; i < albums; i++) {
    const seed = seedAt(i);
    const decoyArtist = DECOY_ARTISTS[i % DECOY_ARTISTS.length] as string;
    const decoyGenres = [DECOY_GENRES[i % DECOY_GENRES.length] as string];
    const sameTitleOtherArtist = catalogEntry(`${i}:decoy-artist`, {
      ...seed,
      artist: decoyArtist,
      genres: decoyGenres,
      label: "Budget Sounds",
    });
    const otherTitleSameArtist = catalogEntry(
      `${i}:decoy-live`,
      { ...seed, title: `Live in Rotterdam ${seed.year + 2}`, year: seed.year + 2 },
      "live",
    );
    const deluxe = catalogEntry(`${i}:decoy-deluxe`, {
      ...seed,
      title: `${seed.title} (Deluxe Edition)`,
      tracks: seed.tracks + 4,
      year: seed.year + 10,
    });
    if (seed.miss) {
      catalog.push(sameTitleOtherArtist, otherTitleSameArtist);
      correctIds.push(null);
      continue;
    }
    const correct = catalogEntry(`${i}:correct`, seed);
    catalog.push(correct, [sameTitleOtherArtist, deluxe, otherTitleSameArtist][i % 3] as CatalogAlbum);
    correctIds.push(correct.id);
  }
  return { catalog, correctIds };
}

/**
 * Writes the demo library: `albums` albums (default 24) of 8–12 one-second tracks across FLAC/MP3/Ogg/Opus/M4A,
 * tagged with title/artist/album/track/disc/year but no genre or label, so enrichment visibly adds them.
 * Writes the catalog JSON to `catalogFile` when given.
 */
export async function generateSampleLibrary(dir: string, opts: { albums?: number; catalogFile?: string } = {}): Promise<SampleLibrary> {
  const count = opts.albums ?? SEEDS.length;
  const { catalog, correctIds } = buildSampleCatalog(count);
  const albums: SampleAlbum[] = [];
  const jobs = [];
  for (let i = 0; i < count; i++) {
    const seed = seedAt(i);
    const ext = EXTENSION[seed.encoding] as string;
    const albumDir = `${seed.artist}/${seed.year} - ${seed.title}`;
    const titles = trackTitles(i, seed.tracks);
    const tracks = titles.map((t, n) => `${albumDir}/${String(n + 1).padStart(2, "0")} - ${t}.${ext}`);
    albums.push({
      artist: seed.artist,
      title: seed.title,
      year: seed.year,
      encoding: seed.encoding,
      dir: albumDir,
      tracks,
      catalogId: correctIds[i] ?? null,
    });
    jobs.push({
      frequency: 330 + (i % 40) * 20,
      tracks: titles.map((title, n) => ({
        file: join(dir, tracks[n] as string),
        encoding: seed.encoding,
        tags: {
          title,
          artist: seed.artist,
          albumartist: seed.artist,
          album: seed.title,
          track: n + 1,
          trackTotal: seed.tracks,
          disc: 1,
          discTotal: 1,
          date: String(seed.year),
        },
      })),
    });
    await mkdir(join(dir, albumDir), { recursive: true });
  }
  await mapWithConcurrency(jobs, 2, (job) => encodeAlbum(job.tracks, { frequency: job.frequency, durationSeconds: 1 }));
  await setTreeTimes(dir);
  if (opts.catalogFile !== undefined) await writeFile(opts.catalogFile, `${JSON.stringify(catalog, null, 2)}\n`);
  return { root: dir, albums, catalog };
}
