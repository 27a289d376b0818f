/**
 * `text` as a literal LIKE pattern: `\\` escapes `%`, `_` and itself. Use it with `ESCAPE '\\'` in
 * the statement (the default escape differs between SQLite, which has none, and PostgreSQL).
 */
export const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
