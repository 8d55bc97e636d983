/**
 * The folders that belong to one design, one per top-level tree, relative to the repository root
 * and ending in `/`: its id under lib/designs, lambda, sql, scripts, bench and test/designs; its
 * Python package (the id with `_`) and that package's tests under sagemaker. A design that does not
 * need a tree (no SQL, say) simply has no such folder.
 */
export function designFolders(id: string): readonly string[] {
  const pkg = pythonPackage(id);
  return [
    `lib/designs/${id}/`,
    `lambda/${id}/`,
    `sql/${id}/`,
    `scripts/${id}/`,
    `bench/${id}/`,
    `test/designs/${id}/`,
    `sagemaker/${pkg}/`,
    `sagemaker/tests/${pkg}/`,
  ];
}

/** The design's Python package under `sagemaker/`: its id with `_` for `-`. */
export function pythonPackage(id: string): string {
  return id.replace(/-/g, '_');
}
