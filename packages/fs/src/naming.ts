/** The longest file name Linux file systems accept, in bytes. */
export const NAME_MAX_BYTES = 255;

// C0 and C1 control characters, DEL, and the bidi overrides that make a name display as something else.
const CONTROL = /[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * One path component from an arbitrary string (a tag, a decoded origin name): "/" and NUL replaced,
 * control characters removed, whitespace trimmed, never "", "." or "..". Not yet cut to length.
 */
// Printable ASCII without "/", not starting or ending with a space: already safe (the common case).
const PLAIN = /^[!-.0-~](?:[ -.0-~]*[!-.0-~])?$/;

export function sanitizeComponent(value: string, fallback = "_"): string {
  if (PLAIN.test(value) && value !== "." && value !== "..") return value;
  const cleaned = value
    .toWellFormed()
    .normalize("NFC")
    .replace(/[/\u0000]/g, "_")
    .replace(CONTROL, "")
    .trim();
  if (cleaned === "") return fallback === "" ? "_" : sanitizeComponent(fallback, "_");
  if (cleaned === "." || cleaned === "..") return cleaned.replace(/\./g, "_");
  return cleaned;
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, cut on a code point boundary. */
export function cutUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return "";
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, "utf8");
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** Splits "name.ext" at the last dot; a leading dot (".hidden") or an absurd extension is not an extension. */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || name.length - dot > 16 || /\s/.test(name.slice(dot))) return { stem: name, ext: "" };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

/**
 * Fits a sanitized name into NAME_MAX_BYTES, keeping its extension and an optional suffix such as
 * " (2)" that goes between stem and extension.
 */
export function fitName(name: string, suffix = ""): string {
  // At most 3 UTF-8 bytes per UTF-16 unit: short names need no measuring.
  if (suffix === "" && name.length * 3 <= NAME_MAX_BYTES) return name;
  const { stem, ext } = splitExtension(name);
  const tail = suffix + ext;
  const full = stem + tail;
  if (Buffer.byteLength(full, "utf8") <= NAME_MAX_BYTES) return full;
  const room = NAME_MAX_BYTES - Buffer.byteLength(tail, "utf8");
  // An extension too long to keep is no extension worth keeping.
  if (room < 1) return cutUtf8(stem + suffix, NAME_MAX_BYTES);
  const cut = cutUtf8(stem, room).trimEnd();
  return (cut === "" ? "_" : cut) + tail;
}

/** sanitizeComponent + fitName: a name that can always be a directory entry. */
export function safeName(value: string, fallback = "_"): string {
  return fitName(sanitizeComponent(value, fallback));
}

/** The name given to the k-th (k >= 2) entry that wanted `name`: "Song (2).flac". */
export function collisionName(name: string, k: number): string {
  return fitName(name, ` (${k})`);
}
