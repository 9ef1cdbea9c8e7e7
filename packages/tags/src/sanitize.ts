/** Longest tag value kept; longer values are cut (and reported) so one bad file cannot bloat the library. */
export const MAX_TAG_CHARS = 1024;

export interface SanitizeIssue {
  code: "TAG_CONTROL_CHARS" | "TAG_TOO_LONG";
  field: string;
  message: string;
}

// C0/C1 controls and NUL; tabs and newlines are folded to spaces instead of dropped.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
const WHITESPACE_CONTROL = /[\t\n\r]+/g;

/** Cleans one tag value: controls removed, whitespace folded, length capped on a code point boundary. */
export function sanitizeTagValue(field: string, value: string, issues: SanitizeIssue[]): string | undefined {
  let out = value;
  if (CONTROL.test(out) || WHITESPACE_CONTROL.test(out)) {
    issues.push({ code: "TAG_CONTROL_CHARS", field, message: `${field}: control characters removed` });
    out = out.replace(CONTROL, "").replace(WHITESPACE_CONTROL, " ");
  }
  CONTROL.lastIndex = 0;
  WHITESPACE_CONTROL.lastIndex = 0;
  out = out.trim();
  if (out.length > MAX_TAG_CHARS) {
    issues.push({ code: "TAG_TOO_LONG", field, message: `${field}: ${out.length} characters cut to ${MAX_TAG_CHARS}` });
    const chars = Array.from(out.slice(0, MAX_TAG_CHARS + 1));
    out = chars.slice(0, MAX_TAG_CHARS).join("").slice(0, MAX_TAG_CHARS);
    // A cut through a surrogate pair leaves a lone high surrogate: drop it.
    if (/[\ud800-\udbff]$/.test(out)) out = out.slice(0, -1);
  }
  return out === "" ? undefined : out;
}
