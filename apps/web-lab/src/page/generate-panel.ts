import type { Widths } from '@matformer/core';
import { decodeBytes, encodeBytes } from '@matformer/train';
import { $, bump, inputNumber, inputValue, setData } from './dom';
import type { Generation } from './lab';
import { act, currentLab } from './session';
import { parseWidths } from './widths';

/** A whole number from the input `id` in [min, max], or an error naming the field. */
function intInput(id: string, label: string, min: number, max: number): number {
  const v = inputNumber(id);
  if (!(Number.isInteger(v) && v >= min && v <= max))
    throw new Error(`${label} must be a whole number from ${min} to ${max}, got ${inputValue(id)}`);
  return v;
}

/**
 * Continues the prompt with the model at the Mix'n'Match widths, plainly or speculatively,
 * and shows the text, tokens/s (and acceptance); data-next-logits holds the model's logits for
 * the byte after the prompt.
 */
async function decode(speculative: boolean): Promise<void> {
  const lab = currentLab();
  const widths = parseWidths(inputValue('widths'), lab.config);
  const promptText = $<HTMLInputElement>('prompt').value;
  const prompt = Array.from(encodeBytes(promptText));
  if (prompt.length === 0) throw new Error('the prompt is empty: type some text to continue');
  const temperature = inputNumber('temperature');
  if (!(temperature >= 0 && temperature <= 10))
    throw new Error(`temperature must be from 0 to 10, got ${inputValue('temperature')}`);
  const opts = { maxNewTokens: intInput('max-tokens', 'tokens', 1, 4096), temperature };
  let gen: Generation;
  let draftWidths: Widths | undefined;
  let label = 'plain';
  let extra = '';
  if (speculative) {
    draftWidths = parseWidths(inputValue('draft-widths'), lab.config);
    const k = intInput('draft-k', 'k', 1, 16);
    gen = await lab.speculative(prompt, widths, draftWidths, { ...opts, k });
    const s = gen.stats as { acceptanceRate: number; tokensPerVerifierCall: number };
    label = `speculative (draft ${draftWidths.join(',')})`;
    extra = ` · acceptance ${(100 * s.acceptanceRate).toFixed(0)}%, ${s.tokensPerVerifierCall.toFixed(2)} tokens per verifier call`;
  } else gen = await lab.generate(prompt, widths, opts);
  $('output').textContent = promptText + decodeBytes(gen.tokens);
  $('gen-stats').textContent =
    `${label}: ${gen.tokens.length} tokens, ${gen.tokensPerSecond.toFixed(1)} tokens/s${extra}`;
  const nextLogits = Array.from(await lab.nextLogits(prompt, widths));
  setData({
    generation: {
      mode: speculative ? 'speculative' : 'plain',
      widths,
      draftWidths,
      temperature,
      prompt: promptText,
      tokens: gen.tokens,
      tokensPerSecond: gen.tokensPerSecond,
    },
    nextLogits,
  });
  bump('generations');
}

export function wireGeneratePanel(): void {
  $('generate').addEventListener('click', () => void act('generate', () => decode(false)));
  $('speculative').addEventListener('click', () => void act('speculative', () => decode(true)));
}
