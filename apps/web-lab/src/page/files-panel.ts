import { textCorpus, type TextCorpus } from '@matformer/train';
import { $, bump, download, inputValue, setData, showMessage } from './dom';
import { Lab } from './lab';
import { modelFromSafetensors, modelToSafetensors } from './model-file';
import { act, currentLab, fmt, session } from './session';
import { DATA_DEFAULTS, SHIPPED_TEXT } from './settings';
import { checkTextBytes } from './text-input';
import { settingsFromForm, showEvalTable, showModel } from './train-panel';
import { parseWidths } from './widths';

async function fileBytes(file: File | undefined): Promise<{ bytes: Uint8Array; name: string }> {
  if (!file) throw new Error('no file chosen');
  return { bytes: new Uint8Array(await file.arrayBuffer()), name: file.name };
}

/** The training text's split, as lm-trainer makes it. */
export const corpusOf = (bytes: Uint8Array, name: string): TextCorpus =>
  textCorpus(bytes, name, { valFraction: DATA_DEFAULTS.valFraction });

export function showCorpus(): void {
  const c = session.corpus;
  $('corpus').textContent =
    `Text: ${c.name === SHIPPED_TEXT ? 'Moby Dick (shipped)' : c.name} · ${fmt(c.train.length)} training bytes, ${fmt(c.val.length)} held out`;
  setData({ corpus: { name: c.name, train: c.train.length, val: c.val.length } });
}

function useCorpus(corpus: TextCorpus): void {
  session.corpus = corpus;
  if (session.lab) session.lab = session.lab.withCorpus(corpus);
  showCorpus();
}

/** A dropped or chosen text file becomes the training text, if it is text. */
async function useText(file: File | undefined): Promise<void> {
  if (!file) throw new Error('the drop held no file: drop a .txt file');
  const { bytes, name } = await fileBytes(file);
  useCorpus(corpusOf(checkTextBytes(bytes, name), name));
  showMessage(`Training text is now "${name}". Train to learn it.`, 'info');
}

/** A .safetensors model (from the CLI or a download) replaces the page's, if it reads. */
async function loadModel(input: HTMLInputElement): Promise<void> {
  const file = input.files?.[0];
  input.value = ''; // the same file can be chosen again
  const settings = settingsFromForm(); // batch size and context for its evaluation
  const { bytes, name } = await fileBytes(file);
  const lab = Lab.around(modelFromSafetensors(bytes, name), session.corpus, settings);
  session.lab?.dispose();
  session.lab = lab;
  showModel(`loaded from ${name}`);
  showEvalTable(await lab.evaluate(lab.config.granularities));
  bump('loads');
}

const BINARY = 'application/octet-stream';

export function wireFilesPanel(): void {
  $('download-safetensors').addEventListener(
    'click',
    () =>
      void act('download', async () => {
        download(modelToSafetensors(currentLab().model), 'model.safetensors', BINARY);
      }),
  );
  $('download-onnx').addEventListener(
    'click',
    () =>
      void act('download', async () => {
        const lab = currentLab();
        download(
          lab.onnxBytes(parseWidths(inputValue('widths'), lab.config)),
          'model.onnx',
          BINARY,
        );
      }),
  );
  const modelInput = $<HTMLInputElement>('model-file');
  modelInput.addEventListener('change', () => void act('load', () => loadModel(modelInput)));
  const textInput = $<HTMLInputElement>('text-file');
  textInput.addEventListener('change', () => {
    const file = textInput.files?.[0];
    textInput.value = '';
    void act('text', () => useText(file));
  });
  $('shipped-text').addEventListener(
    'click',
    () => void act('text', async () => useCorpus(session.shipped)),
  );
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    void act('text', () => useText(file));
  });
}
