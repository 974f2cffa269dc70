/** The element with this id (the page's HTML has them all; a missing one is a bug, so throw). */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el as T;
}

export const inputValue = (id: string) => $<HTMLInputElement>(id).value.trim();
export const inputNumber = (id: string) => Number(inputValue(id));

/**
 * The page's state for people and tests alike: body data- attributes (JSON for structured
 * values), e.g. data-state="ready", data-backend="wasm", data-generation='{"tokens":[…]}'.
 */
export function setData(values: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(values))
    document.body.dataset[k] = typeof v === 'string' ? v : JSON.stringify(v);
}

/** Adds one to a counter attribute (data-generations, data-errors, …) so tests can await the n-th. */
export function bump(key: string): void {
  document.body.dataset[key] = String(Number(document.body.dataset[key] ?? 0) + 1);
}

/** Shows a message above the panels: an error (red) or a note (green). */
export function showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
  const m = $('message');
  m.textContent = text;
  m.className = kind === 'info' ? 'info' : '';
  m.hidden = false;
}

export function clearMessage(): void {
  $('message').hidden = true;
}

/** Saves bytes as a file through the browser's download. */
export function download(bytes: Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
