import { selectBackend } from '@matformer/core';
import { fullSettings } from './settings';
import { accuracyRows, trainViTFamily } from './vit';
await selectBackend();
const t0 = performance.now();
const log = (l: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${l}`);
const f = await trainViTFamily(fullSettings().vit, 'ort', 'runs/report', log);
for (const r of await accuracyRows(f)) log(JSON.stringify(r));
process.exit(0);
