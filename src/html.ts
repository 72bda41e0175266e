/**
 * @module html — escaping text for HTML and XML (SVG) markup built on the server.
 */

/** Escapes `< > & " '` as numeric character references: safe in text and in quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
