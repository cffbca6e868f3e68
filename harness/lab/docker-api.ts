/** The engine's own words from a failed API call. */
export function errorText(error: unknown): string {
  if (error && typeof error === "object" && "json" in error) {
    const json = (error as { json?: { message?: string } }).json;
    if (json?.message) return json.message;
  }
  return error instanceof Error ? error.message : String(error);
}
