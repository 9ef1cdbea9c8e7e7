import { MusicfsError } from "@musicfs/core";
import { safeName } from "./naming.js";

/** The fields a `[mount] path_template` may use. */
export const TEMPLATE_FIELDS = [
  "artist",
  "albumartist",
  "album",
  "year",
  "genre",
  "label",
  "track",
  "disc",
  "disc-track",
  "title",
  "ext",
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/** Field values of one file, already resolved (see trackFields): strings, never missing. */
export type TemplateValues = Record<TemplateField, string>;

/** Used when a tag is missing, unless the template gives its own: `{year|----}`. */
export const FIELD_FALLBACKS: Record<TemplateField, string> = {
  artist: "Unknown Artist",
  albumartist: "Unknown Artist",
  album: "Unknown Album",
  year: "0000",
  genre: "Unknown Genre",
  label: "Unknown Label",
  track: "00",
  disc: "1",
  "disc-track": "00",
  title: "Unknown Title",
  ext: "",
};

type Part = { text: string } | { field: TemplateField; fallback: string | undefined };

export interface PathTemplate {
  readonly source: string;
  /** The fields the directory components use: files equal on these share their directories. */
  readonly dirFields: readonly TemplateField[];
  /** Renders one file's path components (directories then the file name); each is a safe name. */
  render(values: Partial<TemplateValues>): string[];
  /** Just the directory components. */
  renderDirs(values: Partial<TemplateValues>): string[];
  /** Just the file name. */
  renderLeaf(values: Partial<TemplateValues>): string;
}

const FIELD = /\{([a-z-]+)(?:\|([^}]*))?\}/g;

/** Parses a path template such as "{albumartist}/{year} - {album}/{disc-track} {title}.{ext}". */
export function compileTemplate(source: string): PathTemplate {
  const components = source.split("/").filter((c) => c !== "");
  if (components.length === 0) throw new MusicfsError("CONFIG_INVALID", `mount.path_template is empty: "${source}"`);
  const compiled: Part[][] = components.map((component) => {
    const parts: Part[] = [];
    let last = 0;
    for (const m of component.matchAll(FIELD)) {
      const name = m[1] as TemplateField;
      if (!TEMPLATE_FIELDS.includes(name)) {
        throw new MusicfsError(
          "CONFIG_INVALID",
          `mount.path_template: unknown field {${m[1]}} in "${source}"; fields: ${TEMPLATE_FIELDS.join(", ")}`,
        );
      }
      if (m.index > last) parts.push({ text: component.slice(last, m.index) });
      parts.push({ field: name, fallback: m[2] });
      last = m.index + m[0].length;
    }
    if (last < component.length) parts.push({ text: component.slice(last) });
    return parts;
  });
  const renderComponent = (parts: Part[], values: Partial<TemplateValues>): string => {
    let out = "";
    for (const part of parts) {
      if ("text" in part) out += part.text;
      else {
        const value = values[part.field] || (part.fallback ?? FIELD_FALLBACKS[part.field]);
        // No extension: drop the dot written before {ext} rather than end the name with ".".
        if (part.field === "ext" && value === "" && out.endsWith(".")) out = out.slice(0, -1);
        // "/" inside a value must not become a directory level.
        out += value.includes("/") || value.includes("\u0000") ? value.replace(/[/\u0000]/g, "_") : value;
      }
    }
    return safeName(out);
  };
  const dirs = compiled.slice(0, -1);
  const leaf = compiled[compiled.length - 1]!;
  const dirFields = [...new Set(dirs.flat().flatMap((p) => ("field" in p ? [p.field] : [])))];
  return {
    source,
    dirFields,
    render: (values) => [...dirs.map((parts) => renderComponent(parts, values)), renderComponent(leaf, values)],
    renderDirs: (values) => dirs.map((parts) => renderComponent(parts, values)),
    renderLeaf: (values) => renderComponent(leaf, values),
  };
}

/** What the tree knows about a file's tags: the columns of file_metadata it lays paths out by. */
export interface TrackTags {
  title: string | null;
  artist: string | null;
  album: string | null;
  albumartist: string | null;
  track: number | null;
  trackTotal: number | null;
  disc: number | null;
  discTotal: number | null;
  year: number | null;
  genre: string | null;
  label: string | null;
  compilation: boolean;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** The album artist as shown in paths: albumartist, else "Various Artists" for compilations, else artist. */
export function displayAlbumArtist(tags: Pick<TrackTags, "albumartist" | "artist" | "compilation">): string {
  return tags.albumartist?.trim() || (tags.compilation ? "Various Artists" : tags.artist?.trim() || "");
}

/** Template values for one file; `stem` (the origin file name without extension) stands in for a missing title. */
export function trackFields(tags: TrackTags, ext: string, stem: string): TemplateValues {
  const trackWidth = tags.trackTotal && tags.trackTotal >= 100 ? 3 : 2;
  const track = tags.track ? pad(tags.track, trackWidth) : "";
  const multiDisc = (tags.discTotal ?? 0) > 1 || (tags.disc ?? 0) > 1;
  return {
    artist: tags.artist?.trim() ?? "",
    albumartist: displayAlbumArtist(tags),
    album: tags.album?.trim() ?? "",
    year: tags.year && tags.year > 0 ? pad(tags.year, 4) : "",
    genre: tags.genre?.trim() ?? "",
    label: tags.label?.trim() ?? "",
    track,
    disc: tags.disc ? String(tags.disc) : "",
    "disc-track": multiDisc && track ? `${tags.disc ?? 1}-${track}` : track,
    title: tags.title?.trim() || stem,
    ext,
  };
}
