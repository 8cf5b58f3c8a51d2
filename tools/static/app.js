// The sketch page: draw on a white canvas, send it as PNG to POST /translate, show the answer.
"use strict";

const canvas = document.getElementById("sketch");
const context = canvas.getContext("2d");
const output = document.getElementById("output");
const status = document.getElementById("status");
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
  document.getElementById("pen").classList.toggle("active", name === "pen");
  document.getElementById("eraser").classList.toggle("active", name === "eraser");
}

canvas.addEventListener("pointerdown", (event) => {
  remember();
  drawing = true;
  context.strokeStyle = tool === "pen" ? "black" : "white";
  context.lineWidth = tool === "pen" ? 3 : 16;
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

// An uploaded or example sketch is drawn onto the canvas (scaled to fit), so it can be
// edited too.
function loadSketch(source) {
  const image = new Image();
  image.onload = () => {
    remember();
    clearCanvas();
    const scale = Math.min(canvas.width / image.width, canvas.height / image.height);
    const width = image.width * scale, height = image.height * scale;
    context.drawImage(image, (canvas.width - width) / 2, (canvas.height - height) / 2,
                      width, height);
    if (source.startsWith("blob:")) URL.revokeObjectURL(source);
  };
  image.onerror = () => { status.textContent = "That file is not an image."; };
  image.src = source;
}

document.getElementById("upload").onchange = (event) => {
  const file = event.target.files[0];
  if (file) loadSketch(URL.createObjectURL(file));
};

// What the model offers: its labels (a choice appears) and example sketches.
fetch("/info").then((response) => response.json()).then((info) => {
  const select = document.getElementById("label");
  for (const label of info.labels) select.add(new Option(label, label));
  document.getElementById("label-choice").classList.toggle("hidden", !info.labels.length);
  const examples = document.getElementById("examples");
  for (const name of info.examples) {
    const thumbnail = new Image();
    thumbnail.src = `/examples/${encodeURIComponent(name)}`;
    thumbnail.alt = thumbnail.title = name;
    thumbnail.onclick = () => loadSketch(thumbnail.src);
    examples.append(thumbnail);
  }
  examples.classList.toggle("hidden", !info.examples.length);
});

document.getElementById("translate").onclick = () => {
  status.textContent = "Translating...";
  canvas.toBlob(async (png) => {
    try {
      const label = document.getElementById("label").value || "";
      const response = await fetch(`/translate?label=${encodeURIComponent(label)}`,
                                   {method: "POST", body: png,
                                    headers: {"Content-Type": "image/png"}});
      if (!response.ok) throw new Error((await response.json()).error);
      if (output.src) URL.revokeObjectURL(output.src);
      output.src = URL.createObjectURL(await response.blob());
      status.textContent = "";
    } catch (error) {
      status.textContent = `Failed: ${error.message}`;
    }
  }, "image/png");
};

clearCanvas();
