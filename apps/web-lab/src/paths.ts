import { fileURLToPath } from 'node:url';

/** The page's one script, as the server serves it (beside index.html). */
export const PAGE_BUNDLE = 'page.js';

/** dist/page of this app (from src/ or dist/ alike): where the bundle is written and served from. */
export const pageOutDir = fileURLToPath(new URL('../dist/page/', import.meta.url));
