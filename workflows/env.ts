/**
 * `${VAR}` and `${VAR:-default}` in a string, from `env`, as a shell reads them: the default also stands in
 * for an empty variable, and a set-but-empty variable without one is simply empty (an empty token is a
 * choice: no auth). Returns the missing variable's name instead of a string when one is unset and has no
 * default, so the caller can say where.
 */
export function substituteEnv(text: string, env: Record<string, string | undefined>): string | { missing: string } {
  let missing: string | undefined;
  const out = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, dflt: string | undefined) => {
    const v = env[name];
    if (dflt !== undefined) return v || dflt;
    if (v !== undefined) return v;
    missing ??= name;
    return '';
  });
  return missing ? { missing } : out;
}
