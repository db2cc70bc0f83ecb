/**
 * Runs the steps of a stop in order, each one even when an earlier one failed: a link that would
 * not close must not leave NQWT.DBF's lock behind (the next start, or the DR site's take-over,
 * would refuse it), nor gateway.log unflushed. The first failure is thrown once every step has
 * run; the later ones go to `also` (the operator log), so none is lost.
 */
export async function tryEach(
  steps: readonly (() => unknown)[],
  also: (err: unknown) => void = () => undefined,
): Promise<void> {
  let first: { err: unknown } | null = null;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      if (first) also(err);
      else first = { err };
    }
  }
  if (first) throw first.err;
}

/**
 * Waits for `work`, `ms` at most: a stop the process cannot wait for any longer (the day change)
 * is left to finish or not; `work` must carry its own `.catch`, since nobody else awaits it.
 */
export async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([work, deadline]);
  clearTimeout(timer);
}
