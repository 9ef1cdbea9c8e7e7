/**
 * Whether a file embeds a picture, decided from its header bytes. music-metadata's skipCovers drops
 * pictures without a trace, and decoding them only to learn they exist would cost the scan its speed.
 */
export function detectEmbeddedPicture(container: string, head: Buffer): boolean {
  const c = container.toLowerCase();
  if (c === "flac") return flacHasPicture(head);
  if (c.startsWith("ogg")) return indexOfAscii(head, "metadata_block_picture", true) >= 0 || indexOfAscii(head, "coverart", true) >= 0;
  if (c.includes("mp4") || c.includes("m4a") || c.includes("isom") || c.includes("3gp")) return head.indexOf("covr", 0, "latin1") >= 0;
  // ID3v2 (MP3, AIFF, WAV id3 chunk): APIC (v2.3/2.4) or PIC (v2.2) frames.
  return head.indexOf("APIC", 0, "latin1") >= 0 || id3v22HasPic(head);
}

function flacHasPicture(head: Buffer): boolean {
  let pos = head.indexOf("fLaC", 0, "latin1");
  if (pos < 0) return false;
  pos += 4;
  while (pos + 4 <= head.length) {
    const header = head[pos]!;
    if ((header & 0x7f) === 6) return true;
    if (header & 0x80) return false;
    pos += 4 + head.readUIntBE(pos + 1, 3);
  }
  return false;
}

function id3v22HasPic(head: Buffer): boolean {
  return head.length > 10 && head.toString("latin1", 0, 3) === "ID3" && head[3] === 2 && head.indexOf("PIC", 10, "latin1") >= 0;
}

function indexOfAscii(buf: Buffer, needle: string, caseInsensitive: boolean): number {
  if (!caseInsensitive) return buf.indexOf(needle, 0, "latin1");
  const lower = buf.indexOf(needle.toLowerCase(), 0, "latin1");
  return lower >= 0 ? lower : buf.indexOf(needle.toUpperCase(), 0, "latin1");
}
