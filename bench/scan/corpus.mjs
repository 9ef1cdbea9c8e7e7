// Builds the scan benchmark corpus: ~60 distinct template files encoded once with ffmpeg, then an
// Artist/Album/NN Title.ext tree of N files filled by copying templates (encoding 20,000 files would take
// far longer than the benchmark itself; copies keep every byte a real tag parser has to read).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { seededRandom } from "../../packages/core/dist/index.js";

/** Bump when the templates or the tree layout change, so cached corpora are rebuilt. */
export const CORPUS_VERSION = 1;

const FORMATS = [
  { id: "flac", ext: "flac", codec: ["-c:a", "flac"], cover: true },
  { id: "mp3-id3v2.4", ext: "mp3", codec: ["-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "4"], cover: true },
  { id: "ogg-vorbis", ext: "ogg", codec: ["-c:a", "libvorbis", "-q:a", "2"], cover: false },
  { id: "opus", ext: "opus", codec: ["-c:a", "libopus", "-b:a", "64k"], cover: false },
  { id: "m4a-aac", ext: "m4a", codec: ["-c:a", "aac", "-b:a", "128k"], cover: true },
  { id: "mp3-id3v2.3", ext: "mp3", codec: ["-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "3"], cover: true },
];
const TEMPLATES_PER_FORMAT = 10;

const ADJECTIVES = ["Silent", "Electric", "Golden", "Broken", "Velvet", "Hollow", "Crimson", "Distant", "Neon", "Paper"];
const NOUNS = ["Harbor", "Engines", "Gardens", "Signals", "Rivers", "Machines", "Orchard", "Lanterns", "Tides", "Cathedral"];
const FIRST = ["Ana", "Björn", "Chloé", "Dmitri", "Eun-ji", "Farid", "Greta", "Hiro", "Inès", "José", "Kwame", "Lena"];
const LAST = ["Moreau", "Okafor", "Lindqvist", "Tanaka", "Novák", "Ferreira", "Quinn", "Şahin", "Walsh", "Zhou"];
const GENRES = ["Rock", "Jazz", "Electronic", "Folk", "Hip-Hop", "Classical", "Ambient", "Metal", "Soul", "Pop", "Reggae", "Blues"];
const WORDS = ["Night", "Glass", "Summer", "Ghost", "Static", "Honey", "Iron", "Morning", "Echo", "Salt", "Wire", "Bloom"];

const pick = (rand, list) => list[Math.floor(rand() * list.length)];

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${stderr.slice(-800)}`))));
  });
}

/** Encodes the templates into DIR (reused when DIR/manifest.json matches); returns them grouped by format id. */
export async function ensureTemplates(dir, log) {
  const manifestFile = join(dir, "manifest.json");
  if (existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    if (manifest.version === CORPUS_VERSION) return manifest.templates;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`encoding ${FORMATS.length * TEMPLATES_PER_FORMAT} template files with ffmpeg into ${dir}`);
  const rand = seededRandom(42);
  const covers = [];
  for (let i = 0; i < 4; i++) {
    const cover = join(dir, `cover${i}.jpg`);
    const size = 200 + i * 100;
    await run("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", `testsrc=s=${size}x${size}:d=1`, "-frames:v", "1", cover]);
    covers.push(cover);
  }
  const templates = {};
  let n = 0;
  for (const format of FORMATS) {
    templates[format.id] = [];
    for (let i = 0; i < TEMPLATES_PER_FORMAT; i++, n++) {
      const tags = {
        artist: `${pick(rand, FIRST)} ${pick(rand, LAST)}`,
        album: `${pick(rand, ADJECTIVES)} ${pick(rand, NOUNS)}`,
        title: `${pick(rand, WORDS)} ${pick(rand, WORDS).toLowerCase()} ${n}`,
        genre: GENRES[n % GENRES.length],
        track: String(1 + (n % 12)),
        date: String(1965 + Math.floor(rand() * 60)),
      };
      tags.album_artist = tags.artist;
      const seconds = (0.5 + rand() * 1.5).toFixed(2);
      const channels = rand() < 0.7 ? "2" : "1";
      // A third of the formats that carry pictures get a small front cover.
      const cover = format.cover && i % 3 === 0 ? covers[i % covers.length] : undefined;
      const file = join(dir, `t${String(n).padStart(2, "0")}-${format.id}.${format.ext}`);
      const args = ["-loglevel", "error", "-y", "-f", "lavfi", "-i", `sine=frequency=${200 + n * 17}:duration=${seconds}`];
      if (cover) args.push("-i", cover, "-map", "0:a", "-map", "1:v", "-c:v", "copy", "-disposition:v", "attached_pic");
      args.push("-ac", channels, ...format.codec);
      for (const [k, v] of Object.entries(tags)) args.push("-metadata", `${k}=${v}`);
      args.push(file);
      await run("ffmpeg", args);
      templates[format.id].push({ file, ext: format.ext, cover: Boolean(cover), seconds: Number(seconds), ...tags });
    }
  }
  writeFileSync(manifestFile, JSON.stringify({ version: CORPUS_VERSION, templates }, null, 2));
  return templates;
}

/**
 * Ensures DIR/tree holds exactly N files (reused when DIR/manifest.json says so). Albums of 8-14 tracks,
 * one format per album (as real libraries mostly are), 1-6 albums per artist; track files are copies of
 * that format's templates, so their embedded tags repeat every 10 files while paths stay unique.
 */
export async function ensureTree(dir, n, templates, log) {
  const manifestFile = join(dir, "manifest.json");
  const root = join(dir, "tree");
  if (existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    if (manifest.version === CORPUS_VERSION && manifest.files === n) return { root, ...manifest, reused: true };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const started = performance.now();
  const rand = seededRandom(1000 + n);
  const formatIds = Object.keys(templates);
  const byFormat = Object.fromEntries(formatIds.map((f) => [f, 0]));
  let bytes = 0;
  let written = 0;
  let artistNo = 0;
  while (written < n) {
    artistNo++;
    const artist = `${pick(rand, FIRST)} ${pick(rand, LAST)} ${artistNo}`;
    const albums = 1 + Math.floor(rand() * 6);
    for (let a = 0; a < albums && written < n; a++) {
      const album = `${pick(rand, ADJECTIVES)} ${pick(rand, NOUNS)} (${1965 + Math.floor(rand() * 60)})`;
      const format = formatIds[(artistNo + a) % formatIds.length];
      const albumDir = join(root, artist, album);
      mkdirSync(albumDir, { recursive: true });
      const tracks = Math.min(8 + Math.floor(rand() * 7), n - written);
      for (let t = 1; t <= tracks; t++, written++) {
        const list = templates[format];
        const template = list[(written + t) % list.length];
        const name = `${String(t).padStart(2, "0")} ${pick(rand, WORDS)} ${pick(rand, WORDS).toLowerCase()}.${template.ext}`;
        copyFileSync(template.file, join(albumDir, name));
        bytes += readSize(template);
        byFormat[format]++;
      }
    }
  }
  const manifest = { version: CORPUS_VERSION, files: n, artists: artistNo, bytes, byFormat };
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  log(`built ${n} files (${(bytes / 1e6).toFixed(0)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s under ${root}`);
  return { root, ...manifest, reused: false };
}

const sizes = new Map();
function readSize(template) {
  let size = sizes.get(template.file);
  if (size === undefined) {
    size = statSync(template.file).size;
    sizes.set(template.file, size);
  }
  return size;
}
