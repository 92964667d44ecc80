/**
 * A device message's JSON, which must be one object: the text parsed, or the reason it is not one for the
 * device's 400 (`what`: "the body", "the payload"). An array or a bare value is refused here, not read as
 * a message without fields.
 */
export function jsonObject(text: string, what: string): { json: Record<string, unknown> } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: `${what} is not JSON` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { error: `${what} is not a JSON object` };
  return { json: json as Record<string, unknown> };
}
