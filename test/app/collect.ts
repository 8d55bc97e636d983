/**
 * Runs `build` while jest collects a describe block, where `test.each` needs its rows (the stack
 * roles, the functions) before any test runs. When it throws, the block gets one failing test
 * carrying the error and `undefined` comes back, so the caller registers nothing else: one design
 * whose composition does not build fails its own block and hides no other design's results.
 */
export function builtForCollection<T>(build: () => T): T | undefined {
  try {
    return build();
  } catch (error) {
    test('builds', () => {
      throw error;
    });
    return undefined;
  }
}
