/**
 * Waits for `work` at most `ms`: true when it settled in time, false when the deadline
 * passed first (the work goes on unobserved; the caller destroys what it must).
 * The timer is unref'd, so a pending deadline never keeps the process alive.
 */
export async function withDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([
      work.then(
        () => true as const,
        () => true as const,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
