// The sketch page: draw on a white canvas (or upload a sketch, or pick an example) and the
// face follows the drawing. One page, two ways to translate, chosen by what info.json says:
// - served by tools/serve.py, the canvas goes as PNG to POST /translate;
// - as a static site (tools/serve.py --site), info.json names an ONNX model that
//   onnxruntime-web runs in this page, from files beside it: nothing leaves the browser.
"use strict";

const canvas = document.getElementById("sketch");
const context = canvas.getContext("2d", {willReadFrequently: true});
const output = document.getElementById("output");
const outputFrame = document.getElementById("output-frame");
const status = document.getElementById("status");
const translateButton = document.getElementById("translate");
const downloadButton = document.getElementById("download");
const labelChoice = document.getElementById("label");
const liveSwitch = document.getElementById("live");
const seedInput = document.getElementById("seed");

// One message at a time: each replaces the last.
function say(message, isError = false) {
  status.textContent = message;
  status.classList.toggle("error", isError);
}

// ---------------------------------------------------------------------------- drawing

const WIDTHS = {pen: document.getElementById("pen-width"),  // in canvas pixels
                eraser: document.getElementById("eraser-width")};
const COLOURS = {pen: "black", eraser: "white"};
const HISTORY_LENGTH = 50;
const undoStack = [], redoStack = [];  // canvas snapshots
let tool = "pen";
let drawing = false;
let inputName = "drawing";  // what a downloaded face is named after

function clearCanvas() {
  context.fillStyle = "white";
  context.fillRect(0, 0, canvas.width, canvas.height);
}

function snapshot() {
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

// Before every change: the state to undo to; a new change ends what redo could bring back.
function remember() {
  undoStack.push(snapshot());
  if (undoStack.length > HISTORY_LENGTH) undoStack.shift();
  redoStack.length = 0;
}

function restore(from, to) {
  if (!from.length) return;
  to.push(snapshot());
  context.putImageData(from.pop(), 0, 0);
  sketchChanged();
}

function position(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
          (event.clientY - box.top) * canvas.height / box.height];
}

function selectTool(name) {
  tool = name;
  for (const each of Object.keys(WIDTHS)) {
    const button = document.getElementById(each);
    button.classList.toggle("active", each === name);
    button.setAttribute("aria-pressed", each === name);
  }
}

// Pointer events: mouse, pen and touch alike (the canvas's touch-action: none keeps a
// finger from scrolling the page instead).
canvas.addEventListener("pointerdown", (event) => {
  remember();
  drawing = true;
  canvas.setPointerCapture(event.pointerId);
  context.strokeStyle = COLOURS[tool];
  context.lineWidth = Number(WIDTHS[tool].value);
  context.lineCap = context.lineJoin = "round";
  context.beginPath();
  context.moveTo(...position(event));
  context.lineTo(...position(event));  // a click leaves a dot
  context.stroke();
});
canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  context.lineTo(...position(event));
  context.stroke();
  if (liveSwitch.checked && !translations.running) translations.request();  // budget allows
});
for (const name of ["pointerup", "pointercancel"]) {
  canvas.addEventListener(name, (event) => {
    if (!drawing) return;
    drawing = false;
    strokeEndedAt = event.timeStamp;
    sketchChanged();
  });
}

document.getElementById("pen").onclick = () => selectTool("pen");
document.getElementById("eraser").onclick = () => selectTool("eraser");
document.getElementById("clear").onclick = () => {
  remember();
  clearCanvas();
  inputName = "drawing";
  sketchChanged();
};
document.getElementById("undo").onclick = () => restore(undoStack, redoStack);
document.getElementById("redo").onclick = () => restore(redoStack, undoStack);
document.addEventListener("keydown", (event) => {
  if (!(event.ctrlKey || event.metaKey) || event.target.matches("input, select")) return;
  const key = event.key.toLowerCase();
  if (key === "z" && !event.shiftKey) restore(undoStack, redoStack);
  else if ((key === "z" && event.shiftKey) || key === "y") restore(redoStack, undoStack);
  else return;
  event.preventDefault();
});

// --------------------------------------------------------------- sketches from files

let inputHalf = null;  // "left" or "right": the half of an A|B pair file the model reads

// The part of an image to use: all of it, or the model's half of an A|B pair file (twice
// as wide as high, as the datasets store pairs), with a word to the user about it.
function sketchPart(image) {
  if (image.width !== 2 * image.height) return [image, ""];
  if (!inputHalf) {
    return [image, "This image is twice as wide as high: if it is an A|B pair, upload " +
                   "the sketch half alone."];
  }
  // Cut out first: scaling straight from the pair would blend in the other half's edge.
  const half = document.createElement("canvas");
  half.width = half.height = image.height;
  half.getContext("2d").drawImage(image, inputHalf === "left" ? 0 : -image.height, 0);
  return [half, `This looks like an A|B pair (twice as wide as high): using its ` +
                `${inputHalf} half, the model's input.`];
}

// An uploaded or example sketch is drawn onto the canvas (scaled to fit), so it can be
// edited too, and translated at once.
function loadSketch(source, name) {
  const image = new Image();
  image.onload = () => {
    const [part, remark] = sketchPart(image);
    remember();
    clearCanvas();
    const scale = Math.min(canvas.width / part.width, canvas.height / part.height);
    const width = part.width * scale, height = part.height * scale;
    context.drawImage(part, (canvas.width - width) / 2, (canvas.height - height) / 2,
                      width, height);
    say(remark);
    inputName = name.replace(/\.[^.]*$/, "");
    if (source.startsWith("blob:")) URL.revokeObjectURL(source);
    translations.request();
  };
  image.onerror = () => say(`${name} is not an image (PNG or JPEG).`, true);
  image.src = source;
}

document.getElementById("upload").onchange = (event) => {
  const file = event.target.files[0];
  if (file) loadSketch(URL.createObjectURL(file), file.name);
};

// --------------------------------------------------------------------- PNG, made here

// PNG bytes of RGBA pixels (alpha dropped), deflate's stored blocks: no compression, so
// it takes a millisecond where canvas.toBlob waits for an idle moment (up to a second).
const CRC_TABLE = Array.from({length: 256}, (_, n) => {
  for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
  return n >>> 0;
});

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function encodePng(rgba, width, height) {
  const rowLength = 1 + width * 3;  // a filter byte (0: none), then RGB
  const raw = new Uint8Array(rowLength * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      raw.set(rgba.subarray((y * width + x) * 4, (y * width + x) * 4 + 3),
              y * rowLength + 1 + x * 3);
    }
  }
  const BLOCK = 65535, blocks = Math.max(1, Math.ceil(raw.length / BLOCK));
  const zlib = new Uint8Array(2 + raw.length + 5 * blocks + 4);
  const view = new DataView(zlib.buffer);
  zlib.set([0x78, 0x01]);
  let at = 2, a = 1, b = 0;
  for (let start = 0; start < raw.length; start += BLOCK) {
    const block = raw.subarray(start, start + BLOCK);
    zlib[at] = start + BLOCK >= raw.length ? 1 : 0;  // the last block says so
    view.setUint16(at + 1, block.length, true);
    view.setUint16(at + 3, ~block.length & 0xffff, true);
    zlib.set(block, at + 5);
    at += 5 + block.length;
  }
  for (const byte of raw) { a = (a + byte) % 65521; b = (b + a) % 65521; }  // Adler-32
  view.setUint32(at, ((b << 16) | a) >>> 0);
  const chunk = (type, data) => {
    const bytes = new Uint8Array(12 + data.length), chunkView = new DataView(bytes.buffer);
    chunkView.setUint32(0, data.length);
    bytes.set([...type].map((c) => c.charCodeAt(0)), 4);
    bytes.set(data, 8);
    chunkView.setUint32(8 + data.length, crc32(bytes.subarray(4, 8 + data.length)));
    return bytes;
  };
  const header = new Uint8Array(13), headerView = new DataView(header.buffer);
  headerView.setUint32(0, width);
  headerView.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8);  // 8 bits, RGB, deflate, filters, no interlace
  return new Blob([new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header),
                   chunk("IDAT", zlib), chunk("IEND", new Uint8Array())], {type: "image/png"});
}

// --------------------------------------------------------------------- translating

// Each translator takes (label, seed) and gives {pixels: ImageData, png: Blob}; a seed
// (null: fresh noise) fixes the dropout layers' noise, drawn here or by the server.

// Through the Python server: the canvas as a PNG made here, the face's PNG back.
function serverTranslator() {
  return async (label, seed) => {
    const sketch = snapshot();
    const query = new URLSearchParams({label});
    if (seed !== null) query.set("seed", seed);
    const response = await fetch(`translate?${query}`, {
      method: "POST", body: encodePng(sketch.data, sketch.width, sketch.height),
      headers: {"Content-Type": "image/png"}});
    if (!response.ok) throw new Error((await response.json()).error);
    const png = await response.blob();
    const bitmap = await createImageBitmap(png);
    const painter = new OffscreenCanvas(bitmap.width, bitmap.height).getContext("2d");
    painter.drawImage(bitmap, 0, 0);
    return {pixels: painter.getImageData(0, 0, bitmap.width, bitmap.height), png};
  };
}

// Resampling the canvas to the model's size as the model's preprocessing says
// (model.json's input_resize). Area: each output pixel the mean of the input pixels it
// covers, in part or whole, as TensorFlow's resize does; for one axis, each output
// pixel's [input index, weight] pairs.
function areaWeights(inputSize, outputSize) {
  const scale = inputSize / outputSize;
  return Array.from({length: outputSize}, (_, out) => {
    const start = out * scale, end = start + scale, pairs = [];
    for (let i = Math.floor(start); i < Math.min(Math.ceil(end), inputSize); i++) {
      pairs.push([i, (Math.min(end, i + 1) - Math.max(start, i)) / scale]);
    }
    return pairs;
  });
}

// The canvas as the model's image: [1, size, size, 3] RGB in [0, 1], resampled rows
// first, then columns (separable: a millisecond for 256 to 64).
function areaResample(image, size) {
  const {data, width, height} = image;
  const rows = areaWeights(height, size), columns = areaWeights(width, size);
  const rowsDone = new Float32Array(size * width * 3);
  for (let y = 0; y < size; y++) {
    for (const [row, weight] of rows[y]) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          rowsDone[(y * width + x) * 3 + c] += data[(row * width + x) * 4 + c] / 255 * weight;
        }
      }
    }
  }
  const pixels = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (const [column, weight] of columns[x]) {
        for (let c = 0; c < 3; c++) {
          pixels[(y * size + x) * 3 + c] += rowsDone[(y * width + column) * 3 + c] * weight;
        }
      }
    }
  }
  return pixels;
}
const RESAMPLERS = {area: areaResample};

// The model's [1, size, size, 3] output in [0, 1] as 8-bit pixels, rounded as
// TensorFlow's convert_image_dtype does (model.json's uint8_scale).
function toImageData(values, size, scale) {
  const image = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) {
      image.data[i * 4 + c] = Math.min(255, Math.floor(values[i * 3 + c] * scale));
    }
    image.data[i * 4 + 3] = 255;
  }
  return image;
}

function loadScript(source) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = source;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`${source} did not load`));
    document.head.append(script);
  });
}

// In this page, with onnxruntime-web: the model file named by info.model's JSON
// (written by pix2pix.py --mode export --format onnx).
async function browserTranslator(modelJson) {
  const base = new URL(modelJson, location.href);
  const response = await fetch(base);
  if (!response.ok) throw new Error(`${modelJson}: ${response.status} ${response.statusText}`);
  const model = await response.json();
  const resample = RESAMPLERS[model.input_resize];
  if (!resample) throw new Error(`${modelJson}: unknown input_resize ${model.input_resize}`);
  const file = await fetch(new URL(model.file, base));
  if (!file.ok) throw new Error(`${model.file}: ${file.status} ${file.statusText}`);
  await loadScript("static/ort/ort.wasm.min.js");
  ort.env.wasm.wasmPaths = new URL("static/ort/", location.href).href;
  // Threads need a cross-origin isolated page, which a plain static host does not give.
  ort.env.wasm.numThreads = self.crossOriginIsolated ? 0 : 1;
  let session;
  try {
    session = await ort.InferenceSession.create(new Uint8Array(await file.arrayBuffer()),
                                                {executionProviders: ["wasm"]});
  } catch (error) {
    throw new Error(`${model.file} is not a model this page can run (${error.message})`);
  }
  const size = model.crop_size;
  const translate = async (label, seed) => {
    const uniform = seed === null ? Math.random : seededUniform(seed);
    const feeds = {image: new ort.Tensor("float32", resample(snapshot(), size),
                                         [1, size, size, 3])};
    for (const {name, shape} of model.inputs.slice(1)) {  // after the image, in order
      feeds[name] = new ort.Tensor("float32", inputValues(name, shape, model.label_weights,
                                                          label, uniform), shape);
    }
    const result = await session.run(feeds);
    const pixels = toImageData(result[session.outputNames[0]].data, size, model.uint8_scale);
    return {pixels, png: encodePng(pixels.data, size, size)};
  };
  return {translate, dropout: model.inference_dropout};
}

// An input other than the image: the label's weights, as model.json gives them for each
// choice ("" for any label), or a dropout layer's uniform noise.
function inputValues(name, shape, labelWeights, label, uniform) {
  if (name === "label") return Float32Array.from(labelWeights[label]);
  return Float32Array.from({length: shape.reduce((a, b) => a * b, 1)}, uniform);
}

// Uniform numbers in [0, 1) from a 32-bit seed (mulberry32): the same seed, the same
// dropout noise, so the same face. 24 bits each, so that float32 never rounds up to 1.
function seededUniform(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 8) / 16777216;
  };
}

// ------------------------------------------------------------- live, one at a time

let translator = null;  // (label, seed) => Promise of {pixels, png}
let face = null;  // the face shown: {png, name}
let strokeEndedAt = null;  // the last stroke's end, until a translation starts from it

// At most one translation runs and at most one waits: a request while one runs replaces
// the waiting one (each reads the canvas when it starts, so the last drawing wins).
const translations = {
  running: false,
  waiting: false,
  request() {
    if (!translator) return;
    if (this.running) {
      this.waiting = true;
      return;
    }
    this.run();
  },
  async run() {
    this.running = true;
    outputFrame.classList.add("busy");
    translateButton.disabled = true;
    do {
      this.waiting = false;
      await translateOnce();
    } while (this.waiting);
    this.running = false;
    outputFrame.classList.remove("busy");
    translateButton.disabled = false;
  },
};

function seed() {
  return seedInput.value === "" ? null : Number(seedInput.value) >>> 0;
}

// A canvas with less ink than a short stroke is not a drawing: the model would invent a
// whole face from nothing, so the page asks for a drawing instead.
const NEARLY_BLANK = 0.002;  // the share of the canvas's pixels darker than mid-grey
const BLANK_MESSAGE = "The canvas is blank: draw a face (or pick an example) and it appears here.";

function inkShare() {
  const {data} = snapshot();
  let dark = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] + data[i + 1] + data[i + 2] < 3 * 128) dark++;
  }
  return dark / (data.length / 4);
}

async function translateOnce() {
  const since = strokeEndedAt;
  strokeEndedAt = null;
  if (inkShare() < NEARLY_BLANK) {
    outputFrame.classList.add("empty");
    downloadButton.disabled = true;
    say(BLANK_MESSAGE);
    return;
  }
  if (status.textContent === BLANK_MESSAGE) say("");
  try {
    const {pixels, png} = await translator(labelChoice.value, seed());
    output.width = pixels.width;
    output.height = pixels.height;
    output.getContext("2d").putImageData(pixels, 0, 0);
    outputFrame.classList.remove("empty");
    output.dataset.translations = Number(output.dataset.translations || 0) + 1;
    face = {png, name: `${inputName}-face.png`};
    downloadButton.disabled = false;
    if (status.classList.contains("error")) say("");  // a failure is over once one works
    if (since !== null) {  // the benchmark's figure: stroke end to the face painted
      requestAnimationFrame(() => performance.measure("stroke-to-face",
                                                      {start: since, end: performance.now()}));
    }
  } catch (error) {
    say(`Failed: ${error.message}`, true);
  }
}

function sketchChanged() {
  if (liveSwitch.checked) translations.request();
}

translateButton.onclick = () => translations.request();
labelChoice.onchange = seedInput.onchange = sketchChanged;
document.getElementById("another").onclick = () => {
  seedInput.value = Math.floor(Math.random() * 2 ** 31);
  translations.request();
};
downloadButton.onclick = () => {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(face.png);
  link.download = face.name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href));
};

// ------------------------------------------------------------------------ start-up

// What the model offers: its labels (a choice appears), example sketches, which half of
// a pair file it reads, whether it has dropout noise (a seed choice appears), and for a
// static site its ONNX model.
async function start() {
  clearCanvas();
  outputFrame.classList.add("empty");  // no face until the first translation
  const info = await (await fetch("info.json")).json();
  inputHalf = info.input_half;
  for (const label of info.labels) labelChoice.add(new Option(label, label));
  document.getElementById("label-choice").classList.toggle("hidden", !info.labels.length);
  const examples = document.getElementById("examples");
  for (const {file, description} of info.examples) {
    const thumbnail = new Image();
    thumbnail.src = `examples/${encodeURIComponent(file)}`;
    thumbnail.alt = thumbnail.title = description ? `${file}: ${description}` : file;
    thumbnail.dataset.file = file;
    thumbnail.onclick = () => loadSketch(thumbnail.src, file);
    examples.append(thumbnail);
  }
  examples.classList.toggle("hidden", !info.examples.length);
  let dropout = info.inference_dropout;
  if (info.model) {
    say("Loading the model...");
    try {
      ({translate: translator, dropout} = await browserTranslator(info.model));
    } catch (error) {
      say(`The model could not be loaded: ${error.message}`, true);
      return;
    }
    say("");
  } else {
    translator = serverTranslator();
  }
  document.getElementById("seed-choice").classList.toggle("hidden", !dropout);
  translateButton.disabled = false;
}

start();
