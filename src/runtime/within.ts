/**
 * True when `work` settles within `ms`, false at the deadline. A rejection counts as settled
 * (handed to `onError`); one that comes after the deadline is handed there too, never left
 * unhandled. The timer is cleared either way.
 */
export async function settlesWithin(
  work: Promise<unknown>,
  ms: number,
  onError: (error: unknown) => void,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true as const,
    (error: unknown) => {
      onError(error);
      return true as const;
    },
  );
  try {
    return await Promise.race([settled, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
