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

// An uploaded sketch is drawn onto the canvas (scaled to fit), so it can be edited too.
document.getElementById("upload").onchange = (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const image = new Image();
  image.onload = () => {
    remember();
    clearCanvas();
    const scale = Math.min(canvas.width / image.width, canvas.height / image.height);
    const width = image.width * scale, height = image.height * scale;
    context.drawImage(image, (canvas.width - width) / 2, (canvas.height - height) / 2,
                      width, height);
    URL.revokeObjectURL(image.src);
  };
  image.onerror = () => { status.textContent = "That file is not an image."; };
  image.src = URL.createObjectURL(file);
};

document.getElementById("translate").onclick = () => {
  status.textContent = "Translating...";
  canvas.toBlob(async (png) => {
    try {
      const response = await fetch("/translate", {method: "POST", body: png,
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
