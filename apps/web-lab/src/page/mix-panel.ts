import { $, bump, inputValue, setData } from './dom';
import { act, currentLab, fmt } from './session';
import { parseWidths } from './widths';

/** Cost (core's cost model) and held-out bits/byte of the widths typed in the Mix'n'Match box. */
async function measure(): Promise<void> {
  const lab = currentLab();
  const widths = parseWidths(inputValue('widths'), lab.config);
  const { params, flops } = lab.cost(widths);
  const full = lab.cost(Array<number>(lab.config.nLayers).fill(lab.config.dFF));
  const share = (x: number, of: number) => `${((100 * x) / of).toFixed(1)}% of full`;
  $('mix-params').textContent = `${fmt(params)} (${share(params, full.params)})`;
  $('mix-flops').textContent = `${fmt(Math.round(flops))} (${share(flops, full.flops)})`;
  $('mix-bpb').textContent = 'measuring…';
  const [row] = await lab.evaluate([widths]);
  $('mix-bpb').textContent = `${row.bitsPerToken!.toFixed(3)} (loss ${row.loss.toFixed(4)})`;
  setData({ mix: { widths, params, flops, loss: row.loss, bitsPerByte: row.bitsPerToken } });
  bump('measures');
}

export function wireMixPanel(): void {
  $('measure').addEventListener('click', () => void act('measure', measure));
}
