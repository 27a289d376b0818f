import { setFlagsFromString } from 'node:v8';

/**
 * V8's young generation held at its starting size while the kernel boots.
 *
 * Boot allocates ~40 MB that nearly all survives (modules, DI graph, ORM metadata). V8 doubles the
 * new space each time the objects surviving its scavenges outgrow it, so boot alone takes it from
 * 2 MB to its 32 MB maximum; the pages stay resident while the kernel idles (V8's memory reducer
 * gives them back only after about two minutes), ~20 MiB of idle RSS for nothing: the objects were
 * moved to the old space anyway. With a growth factor of 1 during boot, survivors go straight to
 * the old space without the detour; once the server listens, V8's own policy (factor 2) applies
 * again, so a loaded kernel grows its young generation exactly as before.
 *
 * `--semi-space-growth-factor` is read by V8 each time the new space would grow, so setting it at
 * run time takes effect (unlike `--max-semi-space-size`, fixed when the heap is created). A factor
 * given on the command line or in NODE_OPTIONS is left alone.
 */
export const GROWTH_FLAG = '--semi-space-growth-factor';
const V8_DEFAULT_GROWTH = 2;

/** True when the operator chose the young generation's sizing themselves. */
export function operatorSizesYoungGeneration(execArgv: readonly string[], nodeOptions = ''): boolean {
  const flags = [...execArgv, ...nodeOptions.split(/\s+/)];
  return flags.some((f) =>
    /^--(semi[-_]space[-_]growth[-_]factor|max[-_]semi[-_]space[-_]size|min[-_]semi[-_]space[-_]size)\b/.test(
      f,
    ),
  );
}

/** Hold the young generation at its size now; the returned function restores V8's growth. */
export function holdYoungGeneration(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): () => void {
  if (operatorSizesYoungGeneration(execArgv, nodeOptions)) return () => undefined;
  setFlagsFromString(`${GROWTH_FLAG}=1`);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    setFlagsFromString(`${GROWTH_FLAG}=${V8_DEFAULT_GROWTH}`);
  };
}
