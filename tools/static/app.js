// The sketch page: draw on a white canvas (or upload a sketch, or pick an example), press
// Translate, see the face. One page, two ways to translate, chosen by what info.json says:
// - served by tools/serve.py, the canvas goes as PNG to POST /translate;
// - as a static site (tools/serve.py --site), info.json names an ONNX model that
//   onnxruntime-web runs in this page, from files beside it: nothing leaves the browser.
"use strict";

const canvas = document.getElementById("sketch");
const context = canvas.getContext("2d", {willReadFrequently: true});
const output = document.getElementById("output");
const status = document.getElementById("status");
const notice = document.getElementById("notice");
const translateButton = document.getElementById("translate");
const labelChoice = document.getElementById("label");

function say(message, isError = false) {
  status.textContent = message;
  status.classList.toggle("error", isError);
}

// ---------------------------------------------------------------------------- drawing

const penWidth = document.getElementById("pen-width");  // in canvas pixels
const STROKE_WIDTHS = {pen: () => Number(penWidth.value), eraser: () => 16};
const STROKE_COLOURS = {pen: "black", eraser: "white"};
const history = [];  // canvas snapshots before each change, for undo
let tool = "pen";
let drawing = false;

function clearCanvas() {
  context.fillStyle = "white";
  context.fillRect(0, 0, canvas.width, canvas.height);
}

function remember() {
  history.push(context.getImageData(0, 0, canvas.width, canvas.height));
  if (history.length > 50) history.shift();
}

function position(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
          (event.clientY - box.top) * canvas.height / box.height];
}

function selectTool(name) {
  tool = name;
  for (const each of Object.keys(STROKE_WIDTHS)) {
    document.getElementById(each).classList.toggle("active", each === name);
  }
}

canvas.addEventListener("pointerdown", (event) => {
  remember();
  drawing = true;
  context.strokeStyle = STROKE_COLOURS[tool];
  context.lineWidth = STROKE_WIDTHS[tool]();
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
});
for (const name of ["pointerup", "pointerleave"]) {
  canvas.addEventListener(name, () => { drawing = false; });
}

document.getElementById("pen").onclick = () => selectTool("pen");
document.getElementById("eraser").onclick = () => selectTool("eraser");
document.getElementById("clear").onclick = () => { remember(); clearCanvas(); };
document.getElementById("undo").onclick = () => {
  if (history.length) context.putImageData(history.pop(), 0, 0);
};

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
// edited too.
function loadSketch(source) {
  const image = new Image();
  image.onload = () => {
    const [part, remark] = sketchPart(image);
    remember();
    clearCanvas();
    const scale = Math.min(canvas.width / part.width, canvas.height / part.height);
    const width = part.width * scale, height = part.height * scale;
    context.drawImage(part, (canvas.width - width) / 2, (canvas.height - height) / 2,
                      width, height);
    notice.textContent = remark;
    if (source.startsWith("blob:")) URL.revokeObjectURL(source);
  };
  image.onerror = () => say("That file is not an image (PNG or JPEG).", true);
  image.src = source;
}

document.getElementById("upload").onchange = (event) => {
  const file = event.target.files[0];
  if (file) loadSketch(URL.createObjectURL(file));
};

// --------------------------------------------------------------------- translating

// Through the Python server: the canvas as PNG in, a PNG out.
function serverTranslator() {
  return async (label) => {
    const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const response = await fetch(`translate?label=${encodeURIComponent(label)}`,
                                 {method: "POST", body: png,
                                  headers: {"Content-Type": "image/png"}});
    if (!response.ok) throw new Error((await response.json()).error);
    return response.blob();
  };
}

// Area resampling (each output pixel the mean of the input pixels it covers, in part or
// whole), as the SavedModel resizes its input: for one axis, each output pixel's
// [input index, weight] pairs.
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

// The canvas as the model's image: [1, size, size, 3] RGB in [0, 1].
function canvasPixels(size) {
  const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const rows = areaWeights(canvas.height, size), columns = areaWeights(canvas.width, size);
  const pixels = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (const [row, rowWeight] of rows[y]) {
        for (const [column, columnWeight] of columns[x]) {
          const from = (row * canvas.width + column) * 4, to = (y * size + x) * 3;
          for (let c = 0; c < 3; c++) {
            pixels[to + c] += rgba[from + c] / 255 * rowWeight * columnWeight;
          }
        }
      }
    }
  }
  return pixels;
}

// The model's [1, size, size, 3] output in [0, 1] as a PNG, rounded to 8 bits as
// TensorFlow's convert_image_dtype does.
async function toPng(values, size) {
  const image = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) {
      image.data[i * 4 + c] = Math.min(255, Math.floor(values[i * 3 + c] * 255.5));
    }
    image.data[i * 4 + 3] = 255;
  }
  const painted = document.createElement("canvas");
  painted.width = painted.height = size;
  painted.getContext("2d").putImageData(image, 0, 0);
  return new Promise((resolve) => painted.toBlob(resolve, "image/png"));
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
  return async (label) => {
    const feeds = {image: new ort.Tensor("float32", canvasPixels(size), [1, size, size, 3])};
    for (const {name, shape} of model.inputs.slice(1)) {  // after the image
      feeds[name] = new ort.Tensor("float32", inputValues(name, shape, model.labels, label),
                                   shape);
    }
    const result = await session.run(feeds);
    return toPng(result[session.outputNames[0]].data, size);
  };
}

// An input other than the image: the label's weights (one-hot; "" weighs every label
// equally), or a dropout layer's uniform noise, new for every translation as pix2pix's
// dropout at inference is.
function inputValues(name, shape, labels, label) {
  if (name === "label") {
    return Float32Array.from(labels, (each) => label === "" ? 1 / labels.length
                                                            : Number(each === label));
  }
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = Math.random();
  return values;
}

let translator = null;  // label => Promise of a PNG Blob

translateButton.onclick = async () => {
  say("Translating...");
  try {
    const png = await translator(labelChoice.value);
    if (output.src) URL.revokeObjectURL(output.src);
    output.src = URL.createObjectURL(png);
    say("");
  } catch (error) {
    say(`Failed: ${error.message}`, true);
  }
};

// ------------------------------------------------------------------------ start-up

// What the model offers: its labels (a choice appears), example sketches, which half of
// a pair file it reads, and for a static site its ONNX model.
async function start() {
  clearCanvas();
  const info = await (await fetch("info.json")).json();
  inputHalf = info.input_half;
  for (const label of info.labels) labelChoice.add(new Option(label, label));
  document.getElementById("label-choice").classList.toggle("hidden", !info.labels.length);
  const examples = document.getElementById("examples");
  for (const name of info.examples) {
    const thumbnail = new Image();
    thumbnail.src = `examples/${encodeURIComponent(name)}`;
    thumbnail.alt = thumbnail.title = name;
    thumbnail.onclick = () => loadSketch(thumbnail.src);
    examples.append(thumbnail);
  }
  examples.classList.toggle("hidden", !info.examples.length);
  if (info.model) {
    say("Loading the model...");
    try {
      translator = await browserTranslator(info.model);
    } catch (error) {
      say(`The model could not be loaded: ${error.message}`, true);
      return;
    }
    say("");
  } else {
    translator = serverTranslator();
  }
  translateButton.disabled = false;
}

start();
