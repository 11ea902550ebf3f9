/**
 * Where j / k take the list's cursor: the index of the next (step 1) or previous (step -1) item. From no
 * cursor, the first item. When the cursor's item has left the list (closed from the Open filter, say), from
 * where it was: the item now in its place is "next", the one above it "previous". Null on an empty list.
 */
export function stepCursor(items: readonly { id: number }[], cursor: number | null, step: 1 | -1, lastIndex = -1): number | null {
  if (items.length === 0) return null;
  const clamp = (index: number) => Math.min(items.length - 1, Math.max(0, index));
  const index = cursor === null ? -1 : items.findIndex((item) => item.id === cursor);
  if (index !== -1) return clamp(index + step);
  if (cursor !== null && lastIndex >= 0) return clamp(step === 1 ? lastIndex : lastIndex - 1);
  return 0;
}
